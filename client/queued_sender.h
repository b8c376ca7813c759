// The sender behind the ZeroMQ and UDP transports: the caller's thread only
// appends to a bounded in-memory queue; a background thread writes the
// messages' wire bytes straight into one Packet (optionally signed) as long
// as they fit, and hands it to the transport.
//
// Memory: queued and in-flight messages are charged against max_queued_bytes
// (a message that would exceed it is dropped and counted), the background
// thread holds one packet buffer of max_packet_bytes, allocated once,
// and the transport buffers at most its own bound (ZeroMQ: send_hwm packets
// per connected router). The queue vectors hold at most 2 x queue_capacity
// slots of sizeof(PendingMessage) bytes.
//
// fork(): the child's sender starts empty (what was queued belongs to the
// parent, which still sends it), with counters at zero, and re-creates its
// thread and transport on its first use. The parent is unaffected.
#ifndef METLOG_CLIENT_QUEUED_SENDER_H_
#define METLOG_CLIENT_QUEUED_SENDER_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/fork_observer.h"
#include "client/message_writer.h"
#include "client/packet_builder.h"
#include "client/packet_signer.h"
#include "client/sender.h"
#include "client/transport.h"

namespace metlog {

class QueuedSender : public Sender, private ForkObserver {
 public:
  struct Options {
    // Messages waiting beyond this are dropped and counted.
    size_t queue_capacity = 65536;
    // Bytes queued and in-flight messages may hold; beyond it new messages
    // are dropped and counted (dropped_queue_full).
    size_t max_queued_bytes = 8 << 20;
    // A packet never exceeds this, signature included.
    size_t max_packet_bytes = 128 << 10;
    // A message larger than this once serialized is dropped and counted
    // (dropped_oversized): the router's default limits.max_message_bytes.
    size_t max_message_bytes = 64 << 10;
    // How long a message may wait for its packet to fill.
    absl::Duration linger = absl::Milliseconds(5);
    // A packet the transport refuses while it was last accepting (a router
    // restarting, or the first connection still being made) is retried for
    // this long on the background thread before it is dropped; after that,
    // while the transport keeps refusing, one packet per batch is tried and
    // the rest dropped without being built.
    absl::Duration unsent_grace = absl::Milliseconds(250);
    // What the destructor (and ~Client) gives Shutdown().
    absl::Duration shutdown_timeout = absl::Seconds(1);
    // Signs each packet when set.
    std::optional<PacketSigner> signer;
  };

  // Makes the transport and starts the background thread; fails when either
  // cannot be made (bad address, no file descriptors or threads left).
  static absl::StatusOr<std::unique_ptr<QueuedSender>> Create(
      TransportFactory make_transport, Options options);

  // Shutdown(options.shutdown_timeout), then frees everything.
  ~QueuedSender() override;

  QueuedSender(const QueuedSender&) = delete;
  QueuedSender& operator=(const QueuedSender&) = delete;

  // Costs one uncontended lock and a move; never blocks on the network.
  void Send(PendingMessage&& message) override;
  bool Flush(absl::Duration timeout) override;
  bool Shutdown(absl::Duration timeout) override;
  absl::Duration shutdown_timeout() const override {
    return options_.shutdown_timeout;
  }
  SenderStats Stats() const override;

  // Bytes a packet adds around its batch (framing and signature).
  size_t packet_overhead() const { return packet_overhead_; }

 private:
  enum class State { kRunning, kStopping, kStopped };

  QueuedSender(TransportFactory make_transport, Options options);

  void BeforeFork() override;
  void AfterForkInParent() override;
  void AfterForkInChild() override;

  // In a forked child, on first use: forget the parent's thread, transport,
  // queue and counters, and start afresh.
  void RestartAfterForkLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool StartThreadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Whether the message is sure to exceed max_message_bytes once built.
  bool Oversized(const PendingMessage& message) const;

  void Run();
  // Writes, packs and sends `batch`, in as many packets as it takes.
  void SendAll(std::vector<PendingMessage>& batch, PacketBuilder& packet,
               MessageWriter& writer);
  // Sends one packet of `messages` messages; true when the transport took
  // it.
  bool SendPacket(absl::string_view wire, size_t messages);
  // What the background thread did with a batch so far, committed to the
  // counters under one lock per batch.
  struct Tally {
    size_t messages = 0;  // leaving the queued count
    size_t bytes = 0;     // leaving the byte budget
    uint64_t sent = 0, unsent = 0, oversized = 0, shutdown = 0;
  };
  // Counts `messages` (holding `bytes`) as sent or dropped into `outcome`.
  void Account(size_t messages, size_t bytes, uint64_t Tally::*outcome);
  void DropUnbuilt(std::vector<PendingMessage>& batch, size_t from,
                   uint64_t Tally::*outcome);
  void CommitTallyLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool Drained() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The Shutdown deadline, or InfiniteFuture while running.
  absl::Time StopDeadline() const;

  const Options options_;
  const TransportFactory make_transport_;
  const size_t packet_overhead_;

  // std::mutex rather than absl::Mutex: Debian builds Abseil with its debug
  // deadlock detector on, which costs ~30 ns per lock on the caller's path,
  // and a locked std::mutex can be released in a forked child.
  // On a cache line of its own, with what it guards after it.
  alignas(64) mutable std::mutex mu_;
  // Behind pointers so a forked child can abandon the parent's (their
  // waiter bookkeeping names threads that do not exist there).
  std::unique_ptr<std::condition_variable> work_ready_;  // background thread
  std::unique_ptr<std::condition_variable> drained_;     // Flush, Shutdown
  std::vector<PendingMessage> queue_ ABSL_GUARDED_BY(mu_);
  size_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;  // queue and in flight
  size_t in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  bool flush_requested_ ABSL_GUARDED_BY(mu_) = false;
  // The background thread waits for a first message (not for a packet to
  // fill), so the next Send must wake it.
  bool sender_idle_ ABSL_GUARDED_BY(mu_) = false;
  State state_ ABSL_GUARDED_BY(mu_) = State::kRunning;
  bool restart_after_fork_ ABSL_GUARDED_BY(mu_) = false;

  uint64_t sent_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t dropped_queue_full_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t dropped_unsent_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t dropped_oversized_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t dropped_shutdown_ ABSL_GUARDED_BY(mu_) = 0;

  // Touched only by the background thread (and by a forked child before it
  // starts one), on cache lines of their own: the thread writes them for
  // every message, and sharing a line with what Send() reads would slow
  // every call.
  alignas(64) std::unique_ptr<Transport> transport_;
  // Written once by Shutdown, read by the background thread.
  std::atomic<int64_t> stop_deadline_ns_{INT64_MAX};
  absl::InsecureBitGen random_;
  Tally tally_;
  bool transport_up_ = true;
  // Messages of the last packet the transport took, in case the peer
  // refuses it later (Transport::TakeEarlierRefusal).
  size_t last_packet_messages_ = 0;

  alignas(64) std::unique_ptr<std::thread> thread_ ABSL_GUARDED_BY(mu_);
};

}  // namespace metlog

#endif  // METLOG_CLIENT_QUEUED_SENDER_H_
