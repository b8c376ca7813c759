#include "client/queued_sender.h"

#include <algorithm>
#include <system_error>
#include <utility>

#include "absl/base/optimization.h"
#include "client/fork_safe_clock.h"
#include "google/protobuf/io/coded_stream.h"

namespace metlog {
namespace {

using google::protobuf::io::CodedOutputStream;

// Wake the background thread early once this many messages wait, so a busy
// client sends full packets instead of waiting for the linger timer.
constexpr size_t kEagerBatch = 512;

// Bytes a message adds to a serialized Batch: tag, length, body.
size_t EncodedSizeInBatch(size_t message_bytes) {
  return 1 + CodedOutputStream::VarintSize64(message_bytes) + message_bytes;
}

// Packet { bytes batch = 1; Signature signature = 2; }: the batch's tag and
// length (at most 5 bytes), and the whole signature with its signer name.
size_t PacketOverhead(const std::optional<PacketSigner>& signer) {
  size_t overhead = 1 + 5;
  if (signer.has_value()) {
    const size_t name = signer->name().size();
    const size_t body = 1 + CodedOutputStream::VarintSize64(name) + name + 1 +
                        5 +          // key_version
                        1 + 1 + 32;  // hmac_sha256
    overhead += 1 + CodedOutputStream::VarintSize64(body) + body;
  }
  return overhead;
}

}  // namespace

absl::StatusOr<std::unique_ptr<QueuedSender>> QueuedSender::Create(
    TransportFactory make_transport, Options options) {
  const size_t overhead = PacketOverhead(options.signer);
  if (options.max_packet_bytes <= overhead + 64) {
    return absl::InvalidArgumentError(
        "max_packet_bytes leaves no room for messages");
  }
  absl::StatusOr<std::unique_ptr<Transport>> transport = make_transport();
  if (!transport.ok()) return transport.status();
  std::unique_ptr<QueuedSender> sender(
      new QueuedSender(std::move(make_transport), std::move(options)));
  sender->transport_ = *std::move(transport);
  // Registered before the thread starts, so no fork can copy a lock it holds.
  RegisterForkObserver(sender.get());
  std::lock_guard<std::mutex> lock(sender->mu_);
  if (!sender->StartThreadLocked()) {
    return absl::ResourceExhaustedError(
        "metlog sender: cannot start its background thread");
  }
  return sender;
}

QueuedSender::QueuedSender(TransportFactory make_transport, Options options)
    : options_(std::move(options)),
      make_transport_(std::move(make_transport)),
      packet_overhead_(PacketOverhead(options_.signer)),
      work_ready_(std::make_unique<std::condition_variable>()),
      drained_(std::make_unique<std::condition_variable>()) {
  queue_.reserve(std::min<size_t>(options_.queue_capacity, kEagerBatch * 4));
}

QueuedSender::~QueuedSender() {
  UnregisterForkObserver(this);
  Shutdown(options_.shutdown_timeout);
}

bool QueuedSender::StartThreadLocked() {
  try {
    thread_ = std::make_unique<std::thread>([this] { Run(); });
    return true;
  } catch (const std::system_error&) {
    state_ = State::kStopped;
    return false;
  }
}

void QueuedSender::BeforeFork() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu_.lock(); }

void QueuedSender::AfterForkInParent() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  mu_.unlock();
}

void QueuedSender::AfterForkInChild() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  restart_after_fork_ = true;
  mu_.unlock();
}

void QueuedSender::RestartAfterForkLocked() {
  restart_after_fork_ = false;
  // The parent's thread does not exist here and its condition variables
  // may list it as a waiter: abandon them rather than join or destroy them.
  (void)thread_.release();
  (void)work_ready_.release();
  (void)drained_.release();
  work_ready_ = std::make_unique<std::condition_variable>();
  drained_ = std::make_unique<std::condition_variable>();
  if (transport_ != nullptr && !transport_->SafeToDestroyAfterFork()) {
    (void)transport_.release();
  }
  transport_.reset();
  transport_up_ = true;
  last_packet_messages_ = 0;
  tally_ = Tally();  // the parent's thread may have been half-way through
  // What was queued is the parent's to send, and its counts the parent's.
  queue_.clear();
  queued_bytes_ = 0;
  in_flight_ = 0;
  flush_requested_ = false;
  sender_idle_ = false;
  sent_ = dropped_queue_full_ = dropped_unsent_ = dropped_oversized_ =
      dropped_shutdown_ = 0;
  if (state_ != State::kRunning) {
    state_ = State::kStopped;
    return;
  }
  StartThreadLocked();
}

bool QueuedSender::Oversized(const PendingMessage& message) const {
  return message.text.size() > options_.max_message_bytes ||
         (message.extras != nullptr &&
          message.extras->fields_wire().size() > options_.max_message_bytes) ||
         (message.message != nullptr &&
          message.message->ByteSizeLong() > options_.max_message_bytes);
}

void QueuedSender::Send(PendingMessage&& message) {
  // A plain metric with a short name (kept inline by std::string) holds
  // just its struct and cannot be oversized; the rest is looked at closely.
  // The exact size check follows once the message is built.
  size_t footprint = sizeof(PendingMessage);
  bool oversized = false;
  if (ABSL_PREDICT_FALSE(message.extras != nullptr ||
                         message.message != nullptr ||
                         message.text.size() > 15)) {
    oversized = Oversized(message);
    // Below 4 GiB unless oversized, and then it is not queued.
    footprint = Footprint(message);
  }
  message.footprint = static_cast<uint32_t>(footprint);
  std::condition_variable* wake = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (ABSL_PREDICT_FALSE(restart_after_fork_ || state_ != State::kRunning ||
                           oversized)) {
      if (restart_after_fork_) RestartAfterForkLocked();
      if (state_ != State::kRunning) {
        ++dropped_shutdown_;
        return;
      }
      if (oversized) {
        ++dropped_oversized_;
        return;
      }
    }
    if (queue_.size() >= options_.queue_capacity ||
        queued_bytes_ + footprint > options_.max_queued_bytes) {
      ++dropped_queue_full_;
      return;
    }
    queued_bytes_ += message.footprint;
    queue_.push_back(std::move(message));
    // Wake the background thread only when it sleeps on an empty queue or a
    // packet's worth is waiting: a futex wake per message would cost more
    // than the rest of this call.
    if ((queue_.size() == 1 && sender_idle_) || queue_.size() == kEagerBatch) {
      wake = work_ready_.get();
    }
  }
  if (wake != nullptr) wake->notify_one();
}

bool QueuedSender::Flush(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  if (restart_after_fork_) RestartAfterForkLocked();
  if (Drained()) return true;
  flush_requested_ = true;
  work_ready_->notify_one();
  return drained_->wait_for(lock, absl::ToChronoNanoseconds(timeout),
                            [this] { return Drained(); });
}

bool QueuedSender::Shutdown(absl::Duration timeout) {
  const absl::Time deadline = WallNow() + timeout;
  std::unique_ptr<std::thread> thread;
  uint64_t dropped_before = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (restart_after_fork_) {
      // A forked child that never used this sender: nothing to send.
      if (state_ == State::kRunning) state_ = State::kStopping;
      RestartAfterForkLocked();
      return true;
    }
    if (state_ != State::kRunning) return false;
    state_ = State::kStopping;
    stop_deadline_ns_.store(absl::ToUnixNanos(deadline));
    thread = std::move(thread_);
    dropped_before = dropped_shutdown_ + dropped_unsent_;
    work_ready_->notify_one();
  }
  // The thread returns by the deadline (plus one packet's work): it checks
  // it between packets and while retrying, and closes its transport with
  // what time is left.
  if (thread != nullptr) thread->join();
  std::lock_guard<std::mutex> lock(mu_);
  // Left over only when the thread never ran.
  dropped_shutdown_ += queue_.size();
  queue_.clear();
  queued_bytes_ = 0;
  state_ = State::kStopped;
  return dropped_shutdown_ + dropped_unsent_ == dropped_before;
}

bool QueuedSender::Drained() const { return queue_.empty() && in_flight_ == 0; }

absl::Time QueuedSender::StopDeadline() const {
  const int64_t ns = stop_deadline_ns_.load(std::memory_order_relaxed);
  return ns == INT64_MAX ? absl::InfiniteFuture() : absl::FromUnixNanos(ns);
}

SenderStats QueuedSender::Stats() const {
  SenderStats stats;
  std::lock_guard<std::mutex> lock(mu_);
  if (restart_after_fork_) return stats;  // a forked child's, still unused
  stats.queued = queue_.size() + in_flight_;
  stats.queued_bytes = queued_bytes_;
  stats.sent = sent_;
  stats.dropped_queue_full = dropped_queue_full_;
  stats.dropped_unsent = dropped_unsent_;
  stats.dropped_oversized = dropped_oversized_;
  stats.dropped_shutdown = dropped_shutdown_;
  return stats;
}

void QueuedSender::Account(size_t messages, size_t bytes,
                           uint64_t Tally::*outcome) {
  tally_.messages += messages;
  tally_.bytes += bytes;
  tally_.*outcome += messages;
}

void QueuedSender::DropUnbuilt(std::vector<PendingMessage>& batch, size_t from,
                               uint64_t Tally::*outcome) {
  size_t bytes = 0;
  for (size_t i = from; i < batch.size(); ++i) bytes += batch[i].footprint;
  Account(batch.size() - from, bytes, outcome);
}

void QueuedSender::CommitTallyLocked() {
  in_flight_ -= tally_.messages;
  queued_bytes_ -= tally_.bytes;
  sent_ += tally_.sent;
  dropped_unsent_ += tally_.unsent;
  dropped_oversized_ += tally_.oversized;
  dropped_shutdown_ += tally_.shutdown;
  tally_ = Tally();
}

void QueuedSender::Run() {
  if (transport_ == nullptr) {
    // A forked child: the parent's transport was abandoned. Without one,
    // every packet counts as unsent.
    absl::StatusOr<std::unique_ptr<Transport>> made = make_transport_();
    if (made.ok()) transport_ = *std::move(made);
  }
  std::vector<PendingMessage> batch;
  // Allocated once, here rather than as members: a forked child abandons
  // the parent's thread and starts its own.
  PacketBuilder packet(options_.max_packet_bytes, options_.signer.has_value()
                                                      ? &*options_.signer
                                                      : nullptr);
  MessageWriter writer;
  std::unique_lock<std::mutex> lock(mu_);
  batch.reserve(queue_.capacity());
  for (;;) {
    if (Drained()) drained_->notify_all();
    sender_idle_ = true;
    work_ready_->wait(
        lock, [this] { return !queue_.empty() || state_ != State::kRunning; });
    sender_idle_ = false;
    // Let a packet fill unless it is already big, or someone is waiting.
    work_ready_->wait_for(
        lock, absl::ToChronoNanoseconds(options_.linger), [this] {
          return queue_.size() >= kEagerBatch || state_ != State::kRunning ||
                 flush_requested_;
        });
    if (state_ != State::kRunning &&
        (queue_.empty() || WallNow() >= StopDeadline())) {
      break;
    }
    flush_requested_ = false;
    batch.swap(queue_);
    in_flight_ = batch.size();
    lock.unlock();
    SendAll(batch, packet, writer);
    batch.clear();
    lock.lock();
    CommitTallyLocked();
  }
  // Still queued at the deadline: dropped unbuilt.
  dropped_shutdown_ += queue_.size();
  queue_.clear();
  queued_bytes_ = 0;
  drained_->notify_all();
  lock.unlock();
  if (transport_ != nullptr) {
    transport_->Close(
        std::max(StopDeadline() - WallNow(), absl::ZeroDuration()));
    transport_.reset();
  }
}

void QueuedSender::SendAll(std::vector<PendingMessage>& pending,
                           PacketBuilder& packet, MessageWriter& writer) {
  packet.Clear();
  size_t packet_bytes = packet_overhead_;
  size_t packet_footprint = 0;
  // Sends the packet being built; false when the transport refused it.
  auto send_packet = [&] {
    const bool sent = SendPacket(packet.Finish(), packet.messages());
    Account(packet.messages(), packet_footprint,
            sent ? &Tally::sent : &Tally::unsent);
    packet.Clear();
    packet_bytes = packet_overhead_;
    packet_footprint = 0;
    return sent;
  };
  const bool stopping =
      stop_deadline_ns_.load(std::memory_order_relaxed) != INT64_MAX;
  for (size_t i = 0; i < pending.size(); ++i) {
    if (stopping && WallNow() >= StopDeadline()) {
      Account(packet.messages(), packet_footprint, &Tally::shutdown);
      packet.Clear();
      DropUnbuilt(pending, i, &Tally::shutdown);
      return;
    }
    PendingMessage& message = pending[i];
    const size_t message_bytes = writer.Prepare(message, random_);
    const size_t size = EncodedSizeInBatch(message_bytes);
    if (message_bytes > options_.max_message_bytes ||
        size + packet_overhead_ > options_.max_packet_bytes) {
      Account(1, message.footprint, &Tally::oversized);
      continue;
    }
    if (packet_bytes + size > options_.max_packet_bytes) {
      // Send what fits; this message starts the next packet.
      if (!send_packet() && !transport_up_) {
        // No router: drop the rest without building it.
        DropUnbuilt(pending, i, &Tally::unsent);
        return;
      }
    }
    packet.Append(writer, message_bytes);
    packet_bytes += size;
    packet_footprint += message.footprint;
  }
  if (packet.messages() > 0) send_packet();
}

bool QueuedSender::SendPacket(absl::string_view wire, size_t messages) {
  if (transport_ == nullptr) {
    transport_up_ = false;
    return false;
  }
  auto send = [&] {
    absl::Status status = transport_->Send(wire);
    if (transport_->TakeEarlierRefusal() && last_packet_messages_ > 0) {
      std::lock_guard<std::mutex> lock(mu_);
      CommitTallyLocked();
      const uint64_t refused = std::min<uint64_t>(last_packet_messages_, sent_);
      sent_ -= refused;
      dropped_unsent_ += refused;
      last_packet_messages_ = 0;
    }
    return status;
  };
  absl::Status status = send();
  if (!status.ok() && transport_up_) {
    const absl::Time give_up =
        std::min(WallNow() + options_.unsent_grace, StopDeadline());
    while (!status.ok() && WallNow() < give_up) {
      absl::SleepFor(absl::Milliseconds(1));
      status = send();
    }
  }
  transport_up_ = status.ok();
  last_packet_messages_ = status.ok() ? messages : 0;
  return status.ok();
}

}  // namespace metlog
