#include "client/queued_sender.h"

#include <utility>

#include "absl/time/clock.h"
#include "google/protobuf/io/coded_stream.h"

namespace metlog {
namespace {

// Wake the background thread early once this many messages wait, so a busy
// client sends full packets instead of waiting for the linger timer.
constexpr size_t kEagerBatch = 512;

// Bytes a message adds to a serialized Batch: tag, length, body.
size_t EncodedSizeInBatch(size_t message_bytes) {
  return 1 +
         google::protobuf::io::CodedOutputStream::VarintSize64(message_bytes) +
         message_bytes;
}

// Packet framing around the batch bytes and the signature.
constexpr size_t kPacketOverhead = 128;

}  // namespace

QueuedSender::QueuedSender(std::unique_ptr<Transport> transport,
                           Options options)
    : options_(std::move(options)), transport_(std::move(transport)) {
  queue_.reserve(std::min<size_t>(options_.queue_capacity, kEagerBatch * 4));
  thread_ = std::thread([this] { Run(); });
}

QueuedSender::~QueuedSender() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_ready_.notify_one();
  thread_.join();
}

void QueuedSender::Send(PendingMessage message) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.size() >= options_.queue_capacity) {
      dropped_queue_full_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    queue_.push_back(std::move(message));
    // Wake the background thread only when it sleeps on an empty queue or a
    // packet's worth is waiting: a futex wake per message would cost more
    // than the rest of this call.
    wake = (queue_.size() == 1 && sender_idle_) || queue_.size() == kEagerBatch;
  }
  if (wake) work_ready_.notify_one();
}

bool QueuedSender::Flush(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  flush_requested_ = true;
  work_ready_.notify_one();
  return drained_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                           [this] { return Drained(); });
}

bool QueuedSender::Drained() const {
  return queue_.empty() && in_progress_ == 0;
}

SenderStats QueuedSender::Stats() const {
  SenderStats stats;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats.queued = queue_.size() + in_progress_;
  }
  stats.sent = sent_.load(std::memory_order_relaxed);
  stats.dropped_queue_full =
      dropped_queue_full_.load(std::memory_order_relaxed);
  stats.dropped_unsent = dropped_unsent_.load(std::memory_order_relaxed);
  stats.dropped_oversized = dropped_oversized_.load(std::memory_order_relaxed);
  return stats;
}

void QueuedSender::Run() {
  std::vector<PendingMessage> batch;
  batch.reserve(queue_.capacity());
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      in_progress_ = 0;
      if (queue_.empty()) drained_.notify_all();
      sender_idle_ = true;
      work_ready_.wait(lock, [this] { return !queue_.empty() || stopping_; });
      sender_idle_ = false;
      // Let a packet fill unless it is already big, or someone is waiting.
      work_ready_.wait_for(lock, absl::ToChronoNanoseconds(options_.linger),
                           [this] {
                             return queue_.size() >= kEagerBatch || stopping_ ||
                                    flush_requested_;
                           });
      if (queue_.empty() && stopping_) return;
      flush_requested_ = false;
      batch.swap(queue_);
      in_progress_ = batch.size();
    }
    SendAll(batch);
    batch.clear();
  }
}

void QueuedSender::SendAll(std::vector<PendingMessage>& pending) {
  v1::Batch& batch = batch_;
  batch.Clear();
  size_t bytes = kPacketOverhead;
  for (PendingMessage& message : pending) {
    v1::Message* built = batch.add_messages();
    Materialize(message, random_, built);
    const size_t size = EncodedSizeInBatch(built->ByteSizeLong());
    if (size + kPacketOverhead > options_.max_packet_bytes) {
      batch.mutable_messages()->RemoveLast();
      dropped_oversized_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    if (bytes + size > options_.max_packet_bytes) {
      // Send what fits, then start the next packet with this message.
      v1::Message carried;
      carried.Swap(built);
      batch.mutable_messages()->RemoveLast();
      SendPacket(batch);
      batch.Clear();
      batch.add_messages()->Swap(&carried);
      bytes = kPacketOverhead;
    }
    bytes += size;
  }
  if (batch.messages_size() > 0) SendPacket(batch);
}

void QueuedSender::SendPacket(const v1::Batch& batch) {
  v1::Packet packet;
  batch.SerializeToString(packet.mutable_batch());
  if (options_.signer.has_value()) options_.signer->Sign(&packet);
  const std::string wire = packet.SerializeAsString();
  absl::Status status = transport_->Send(wire);
  if (!status.ok() && transport_up_) {
    const absl::Time give_up = absl::Now() + options_.unsent_grace;
    while (!status.ok() && absl::Now() < give_up) {
      absl::SleepFor(absl::Milliseconds(1));
      status = transport_->Send(wire);
    }
  }
  transport_up_ = status.ok();
  (status.ok() ? sent_ : dropped_unsent_)
      .fetch_add(batch.messages_size(), std::memory_order_relaxed);
}

}  // namespace metlog
