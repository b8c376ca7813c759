// A live view of matching traffic for Admin.Tail: the router offers every
// routed message to each open tail; a tail keeps a bounded backlog and counts
// what it had to skip, so a slow viewer never slows routing.
#ifndef METLOG_ROUTER_TAIL_H_
#define METLOG_ROUTER_TAIL_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "router/matcher.h"
#include "sinks/sink.h"

namespace metlog {

class Tail {
 public:
  Tail(Matcher matcher, size_t backlog)
      : matcher_(std::move(matcher)), backlog_(backlog) {}

  // Keeps a copy of the message if it matches and there is room; never
  // blocks.
  void Offer(const MessageRef& message);

  // The next message, or nullopt after `timeout` or once closed.
  std::optional<std::shared_ptr<const v1::Message>> Next(
      absl::Duration timeout);

  void Close();
  uint64_t skipped() const;

 private:
  const Matcher matcher_;
  const size_t backlog_;
  mutable absl::Mutex mu_;
  std::deque<std::shared_ptr<const v1::Message>> messages_ ABSL_GUARDED_BY(mu_);
  uint64_t skipped_ ABSL_GUARDED_BY(mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace metlog

#endif  // METLOG_ROUTER_TAIL_H_
