// Runs one sink: a bounded queue in front of it, an overflow policy, batching,
// bounded retries with backoff on transient errors, the time each write may
// take, and counters that always balance:
//   received = delivered + dropped (all reasons) + queued + in_flight.
// A message waiting in a BLOCK Enqueue is not received yet. With overflow
// DISK, `queued` includes the messages waiting on disk, and a start counts
// the ones it finds there (to replay) as received.
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
#include "router/disk_buffer.h"
#include "sinks/message/shared_packet.h"
#include "sinks/sink.h"

namespace metlog {

struct SinkRunnerStats {
  uint64_t received = 0;
  uint64_t delivered = 0;
  // "queue_full", "overwritten" (drop_oldest), "permanent_error",
  // "retry_exhausted" (transient errors for max_retry_duration_ms; never
  // with an open disk buffer, which retries until delivered),
  // "shutdown" (still queued or retrying when the drain deadline passed),
  // "unusable" (the sink could not use them, e.g. a log line for statsd);
  // with overflow DISK: "disk_full" (refused by a full buffer, or one that
  // stayed full past the shutdown deadline), "disk_dropped_oldest",
  // "disk_error" (a failed write), "disk_corrupted" (lost to a bad record),
  // "too_large" (over max_segment_bytes), "disk_unavailable" (bound for a
  // buffer whose directory could not be opened yet).
  std::map<std::string, uint64_t> dropped;
  uint64_t queued = 0;
  uint64_t queued_bytes = 0;  // the packets they hold (see Queued)
  uint64_t in_flight = 0;
  uint64_t batches_written = 0;
  uint64_t write_errors = 0;  // failed Write calls, retried or not
  absl::Duration last_write_latency;
  bool has_disk = false;  // overflow DISK
  DiskBufferStats disk;   // zero while the buffer is not open
  // Why the disk buffer could not be opened (retried); empty once open.
  std::string disk_unavailable;

  uint64_t dropped_total() const;
  // Adds the counters of another instance of the same sink (one retired by
  // a reload): received, delivered, dropped, batches and errors.
  void AddTotals(const SinkRunnerStats& other);
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

  // Opens the disk buffer (overflow DISK), starts the sink and the thread
  // feeding it. A buffer directory that cannot be opened (unusable, or
  // still locked by the instance a reload replaces) is logged and retried
  // every kDiskOpenRetry by the sink's thread; until it opens, what would
  // go to disk is dropped as "disk_unavailable" and the memory queue
  // works as usual.
  absl::Status Start();

  static constexpr absl::Duration kDiskOpenRetry = absl::Milliseconds(200);

  // Queues the messages under the overflow policy, taking over one packet
  // reference per message (given back when a message is delivered or
  // dropped); with BLOCK this waits for room, for Stop, or for the deadline
  // BeginShutdown set. Returns how many were dropped. Thread-safe.
  uint64_t Enqueue(absl::Span<const MessageView> messages);

  // Starts a shutdown that must end by `deadline` (only ever moved nearer):
  // batches no longer wait to fill, and no wait (a BLOCK Enqueue, a retry's
  // backoff, a write) lasts past it. Messages are still accepted until Stop.
  // Thread-safe; Stop calls it too.
  void BeginShutdown(absl::Time deadline);

  // Refuses new messages, lets the sink drain its queue until `deadline`,
  // cancels a write still running then, flushes and stops the sink. What is
  // left is counted as dropped ("shutdown"); returns that count. Call it
  // from one thread.
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
  // Enqueue's part under mu_: queues what fits in memory and moves to
  // `*spill` what overflow DISK sends to disk.
  uint64_t EnqueueInMemory(absl::Span<const MessageView> messages,
                           std::vector<MessageView>* spill)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Writes one batch, retrying transient errors until success, a permanent
  // error, max_retry_duration_ms (unless the disk buffer is open), or the
  // shutdown deadline. Returns whether
  // it was delivered and, if not, the drop reason.
  bool WriteWithRetry(const std::vector<MessageView>& batch,
                      std::string* drop_reason);
  bool HasRoom(uint64_t charge) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether the next batch should be written now rather than wait for more
  // messages: it is full, or the queue is half full and waiting would
  // only risk dropping.
  bool BatchDue() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Drop(const std::string& reason, uint64_t count)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status OpenDiskBuffer();
  // The sink's thread: retries opening the disk buffer when due (logging
  // why it failed). Returns whether it is open.
  bool RetryOpenDiskBuffer() ABSL_LOCKS_EXCLUDED(mu_);
  // The sink's thread, while idle or between retries: opens the buffer if
  // due, else fsyncs it if due (fsync INTERVAL).
  void SyncOrOpenDisk() ABSL_LOCKS_EXCLUDED(mu_);
  absl::Duration DiskSyncPeriod() const;
  // At Stop: writes what is left in memory to disk, and persists the cursor.
  void SaveToDisk() ABSL_LOCKS_EXCLUDED(mu_);
  // Appends messages to the disk buffer and counts them received (on disk
  // or dropped); gives back their references. Called without mu_ held, so
  // a disk write or a full buffer's wait holds no one else. Returns how
  // many were dropped.
  uint64_t Spill(const std::vector<MessageView>& messages, absl::Time deadline)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Reads the next batch from disk into `batch`, counting what was lost
  // to a bad record. Returns the position to commit once it is delivered.
  DiskPosition ReadFromDisk(std::vector<MessageView>* batch)
      ABSL_LOCKS_EXCLUDED(mu_);

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
    MessageView message;
    uint64_t charge = 0;
  };
  // What `message` would be charged if queued now: its packet's footprint
  // unless the last queued message already holds that packet.
  uint64_t ChargeFor(const MessageView& message) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Pops the front, handing its charge to the next message if that one
  // holds the same packet.
  MessageView PopFront() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  std::deque<Queued> queue_ ABSL_GUARDED_BY(mu_);
  uint64_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  // The queued messages' wire size, what max_batch_bytes counts.
  uint64_t queued_wire_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool accepting_ ABSL_GUARDED_BY(mu_) = false;
  // The runner waits for a first message (not for a batch to fill), so the
  // next Enqueue must wake it.
  bool runner_idle_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Set by BeginShutdown; InfiniteFuture until then.
  absl::Time deadline_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  // Signalled when a batch is done while stopping, for Stop's drain wait.
  absl::CondVar batch_done_;
  SinkRunnerStats stats_ ABSL_GUARDED_BY(mu_);

  // Overflow DISK only. Set once, under mu_, by Start or the sink's thread,
  // and never reset: other threads read it under mu_ (or after seeing it
  // set there).
  std::unique_ptr<DiskBuffer> disk_;
  std::string disk_unavailable_ ABSL_GUARDED_BY(mu_);
  absl::Status disk_open_error_ ABSL_GUARDED_BY(mu_);  // the last one
  absl::Time next_disk_open_;  // the sink's thread's only
  // Records on disk not yet handed to the sink (part of `queued`), and
  // messages being appended (not received yet); while either is nonzero,
  // new messages go to disk too, behind them.
  uint64_t disk_unread_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t disk_spilling_ ABSL_GUARDED_BY(mu_) = 0;

  std::atomic<bool> reopen_requested_{false};
  absl::InsecureBitGen jitter_;  // the runner thread's only
  std::thread thread_;
};

}  // namespace metlog

#endif  // METLOG_ROUTER_SINK_RUNNER_H_
