// Runs one sink: a bounded queue in front of it, an overflow policy, batching,
// retries with backoff on transient errors, and counters that always balance:
//   received = delivered + dropped (all reasons) + queued + in_flight.
#ifndef METLOG_ROUTER_SINK_RUNNER_H_
#define METLOG_ROUTER_SINK_RUNNER_H_

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/random/random.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "proto/config.pb.h"
#include "sinks/sink.h"

namespace metlog {

struct SinkRunnerStats {
  uint64_t received = 0;
  uint64_t delivered = 0;
  // "queue_full", "overwritten" (drop_oldest), "permanent_error",
  // "shutdown" (still queued or retrying when the drain deadline passed),
  // "unusable" (the sink could not use them, e.g. a log line for statsd).
  std::map<std::string, uint64_t> dropped;
  uint64_t queued = 0;
  uint64_t queued_bytes = 0;  // the packets they hold (see Queued)
  uint64_t in_flight = 0;
  uint64_t batches_written = 0;
  uint64_t write_errors = 0;  // failed Write calls, retried or not
  absl::Duration last_write_latency;

  uint64_t dropped_total() const;
};

// Backoff between retries of a batch after transient errors: doubling from
// initial to max, each wait drawn uniformly below it (full jitter).
struct RetryPolicy {
  absl::Duration initial_backoff = absl::Milliseconds(100);
  absl::Duration max_backoff = absl::Seconds(30);
};

class SinkRunner {
 public:
  SinkRunner(std::string name, std::unique_ptr<Sink> sink,
             const v1::QueueConfig& queue, RetryPolicy retry = RetryPolicy());
  // Stops with no drain time if Stop() was not called.
  ~SinkRunner();

  SinkRunner(const SinkRunner&) = delete;
  SinkRunner& operator=(const SinkRunner&) = delete;

  // Starts the sink and the thread feeding it.
  absl::Status Start();

  // Queues the messages under the overflow policy, taking over one packet
  // reference per message (given back when a message is delivered or
  // dropped); with BLOCK this waits for room (or for Stop). Returns how many
  // were dropped. Thread-safe.
  uint64_t Enqueue(absl::Span<const MessageRef> messages);

  // Refuses new messages, lets the sink drain its queue until `deadline`,
  // flushes and stops it. What is left is counted as dropped ("shutdown").
  // Returns that count.
  uint64_t Stop(absl::Time deadline);

  // Asks the sink to reopen its files before its next write (SIGHUP, for
  // logrotate). Thread-safe; the sink itself is only called on its thread.
  void RequestReopen();

  SinkRunnerStats Stats() const;
  const std::string& name() const { return name_; }
  // Whether the sink reads messages whole (see Sink::ReadsMessages).
  bool reads_messages() const { return reads_messages_; }

 private:
  void Run();
  // Writes one batch, retrying transient errors until success, a permanent
  // error, or the shutdown deadline. Returns whether it was delivered and,
  // if not, the drop reason.
  bool WriteWithRetry(const std::vector<MessageRef>& batch,
                      std::string* drop_reason);
  bool HasRoom(uint64_t charge) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Drop(const std::string& reason, uint64_t count)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string name_;
  const std::unique_ptr<Sink> sink_;
  const bool reads_messages_;
  const v1::QueueConfig queue_config_;
  const RetryPolicy retry_;

  mutable absl::Mutex mu_;
  absl::CondVar work_ready_;
  absl::CondVar room_ready_;
  // A queued message, holding one reference to its packet, and what it is
  // charged against capacity_bytes. A packet stays in memory while any of
  // its messages is queued, so the first queued message of a packet carries
  // the packet's whole footprint and the rest of its run (a packet's
  // messages are queued together) carries nothing.
  struct Queued {
    MessageRef message;
    uint64_t charge = 0;
  };
  // Pops the front, handing its charge to the next message if that one
  // holds the same packet.
  MessageRef PopFront() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::deque<Queued> queue_ ABSL_GUARDED_BY(mu_);
  uint64_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool accepting_ ABSL_GUARDED_BY(mu_) = false;
  // The runner waits for a first message (not for a batch to fill), so the
  // next Enqueue must wake it.
  bool runner_idle_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time deadline_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  SinkRunnerStats stats_ ABSL_GUARDED_BY(mu_);

  std::atomic<bool> reopen_requested_{false};
  absl::InsecureBitGen jitter_;  // the runner thread's only
  std::thread thread_;
};

}  // namespace metlog

#endif  // METLOG_ROUTER_SINK_RUNNER_H_
