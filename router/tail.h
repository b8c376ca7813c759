// A live view of matching traffic for Admin.Tail: the router offers every
// routed message to each open tail; a tail keeps a backlog bounded in
// messages and bytes and drops (and counts) what does not fit, so a slow
// viewer never slows routing nor holds more than its bound.
#ifndef METLOG_ROUTER_TAIL_H_
#define METLOG_ROUTER_TAIL_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "proto/admin.pb.h"
#include "router/matcher.h"
#include "sinks/sink.h"

namespace metlog {

// How much one tail may hold for a viewer that has not read it yet.
struct TailBounds {
  size_t max_messages = 10000;
  // Counted as the memory of the copies kept (SpaceUsedLong).
  size_t max_bytes = 16 << 20;
};

class Tail {
 public:
  Tail(std::string match, Matcher matcher, TailBounds bounds)
      : match_(std::move(match)),
        matcher_(std::move(matcher)),
        bounds_(bounds) {}

  // Keeps a copy of the message if it matches and the backlog has room,
  // otherwise counts it dropped; never blocks.
  void Offer(const MessageView& message);

  // The next message, or nullopt after `timeout` or once closed.
  std::optional<std::shared_ptr<const v1::Message>> Next(
      absl::Duration timeout);

  // Messages dropped since the last call, for telling the viewer.
  uint64_t TakeNewlyDropped();

  void Close();
  v1::TailStats Stats() const;

 private:
  struct Kept {
    std::shared_ptr<const v1::Message> message;
    size_t bytes;
  };

  const std::string match_;
  const Matcher matcher_;
  const TailBounds bounds_;
  mutable absl::Mutex mu_;
  std::deque<Kept> messages_ ABSL_GUARDED_BY(mu_);
  size_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t matched_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t dropped_told_ ABSL_GUARDED_BY(mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace metlog

#endif  // METLOG_ROUTER_TAIL_H_
