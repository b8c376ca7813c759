// The sender behind the ZeroMQ and UDP transports: the caller's thread only
// appends to a bounded in-memory queue; a background thread builds the
// messages, packs as many as fit into one Packet (optionally signed) and hands
// it to the transport.
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
#include "absl/time/time.h"
#include "client/packet_signer.h"
#include "client/sender.h"
#include "client/transport.h"

namespace metlog {

class QueuedSender : public Sender {
 public:
  struct Options {
    // Messages waiting beyond this are dropped and counted.
    size_t queue_capacity = 65536;
    // A packet never exceeds this; a message that alone would is dropped.
    size_t max_packet_bytes = 1 << 20;
    // How long a message may wait for its packet to fill.
    absl::Duration linger = absl::Milliseconds(5);
    // A packet the transport refuses while it was last accepting (a router
    // restarting, or the first connection still being made) is retried for
    // this long on the background thread before it is dropped; after that,
    // refused packets drop at once until one gets through again.
    absl::Duration unsent_grace = absl::Milliseconds(250);
    // Signs each packet when set.
    std::optional<PacketSigner> signer;
  };

  QueuedSender(std::unique_ptr<Transport> transport, Options options);
  // Sends what is queued (the transport may still drop it), then stops.
  ~QueuedSender() override;

  QueuedSender(const QueuedSender&) = delete;
  QueuedSender& operator=(const QueuedSender&) = delete;

  // Costs one uncontended lock and a move; never blocks on the network.
  void Send(PendingMessage message) override;
  bool Flush(absl::Duration timeout) override;
  SenderStats Stats() const override;

 private:
  void Run();
  // Builds, packs and sends `batch`, in as many packets as it takes.
  void SendAll(std::vector<PendingMessage>& batch);
  void SendPacket(const v1::Batch& batch);
  bool Drained() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  const std::unique_ptr<Transport> transport_;

  // std::mutex rather than absl::Mutex: Debian builds Abseil with its debug
  // deadlock detector on, which costs ~30 ns per lock on the caller's path
  // (measured: 40 ns against std::mutex's 9), and a library should not
  // switch it off for the whole application.
  mutable std::mutex mu_;
  std::condition_variable work_ready_;  // for the background thread
  std::condition_variable drained_;     // for Flush()
  std::vector<PendingMessage> queue_ ABSL_GUARDED_BY(mu_);
  size_t in_progress_ ABSL_GUARDED_BY(mu_) = 0;
  bool flush_requested_ ABSL_GUARDED_BY(mu_) = false;
  // The background thread waits for a first message (not for a packet to
  // fill), so the next Send must wake it.
  bool sender_idle_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  std::atomic<uint64_t> sent_{0};
  std::atomic<uint64_t> dropped_queue_full_{0};
  std::atomic<uint64_t> dropped_unsent_{0};
  std::atomic<uint64_t> dropped_oversized_{0};

  // Touched only by the background thread. The batch is reused so its
  // messages' memory is too.
  v1::Batch batch_;
  absl::InsecureBitGen random_;
  bool transport_up_ = true;

  std::thread thread_;
};

}  // namespace metlog

#endif  // METLOG_CLIENT_QUEUED_SENDER_H_
