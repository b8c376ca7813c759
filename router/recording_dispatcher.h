// A Dispatcher for input tests: records what it is given, can hold its
// callers, and can be slow like a sink.
#ifndef METLOG_ROUTER_RECORDING_DISPATCHER_H_
#define METLOG_ROUTER_RECORDING_DISPATCHER_H_

#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "proto/metlog.pb.h"
#include "router/input.h"

namespace metlog {

// Records the payloads routed to it; while closed, holds every caller.
// Each call takes `delay`, as a slow sink would.
class RecordingDispatcher : public Dispatcher {
 public:
  explicit RecordingDispatcher(bool open = true,
                               absl::Duration delay = absl::ZeroDuration())
      : delay_(delay), open_(open) {}

  using Dispatcher::Dispatch;
  uint64_t Dispatch(absl::Span<const PacketRef> packets,
                    absl::string_view /*signer*/) override {
    absl::SleepFor(delay_);
    absl::MutexLock lock(&mu_);
    ++calls_;
    mu_.Await(absl::Condition(&open_));
    for (const PacketRef& packet : packets) {
      for (size_t i = 0; i < packet->size(); ++i) {
        payloads_.emplace_back(packet->wire(i).payload);
      }
    }
    return 0;
  }

  void Open() {
    absl::MutexLock lock(&mu_);
    open_ = true;
  }

  // Waits until it holds `count` payloads (or a minute).
  std::vector<std::string> WaitFor(size_t count) {
    absl::MutexLock lock(&mu_);
    auto enough = [this, count]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return payloads_.size() >= count;
    };
    mu_.AwaitWithTimeout(absl::Condition(&enough), absl::Minutes(1));
    return payloads_;
  }

  // Waits until someone is held (or a minute).
  void WaitForCaller() {
    absl::MutexLock lock(&mu_);
    auto called = [this]()
                      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return calls_ > 0; };
    mu_.AwaitWithTimeout(absl::Condition(&called), absl::Minutes(1));
  }

  std::vector<std::string> payloads() {
    absl::MutexLock lock(&mu_);
    return payloads_;
  }

 private:
  const absl::Duration delay_;
  absl::Mutex mu_;
  bool open_ ABSL_GUARDED_BY(mu_);
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> payloads_ ABSL_GUARDED_BY(mu_);
};

// One Packet of one message with `payload`.
inline std::string PacketOf(const std::string& payload) {
  v1::Batch batch;
  batch.add_messages()->set_payload(payload);
  v1::Packet packet;
  batch.SerializeToString(packet.mutable_batch());
  return packet.SerializeAsString();
}

}  // namespace metlog

#endif  // METLOG_ROUTER_RECORDING_DISPATCHER_H_
