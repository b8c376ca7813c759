#include "router/sink_runner.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace metlog {

uint64_t SinkRunnerStats::dropped_total() const {
  uint64_t total = 0;
  for (const auto& [reason, count] : dropped) total += count;
  return total;
}

void SinkRunnerStats::AddTotals(const SinkRunnerStats& other) {
  received += other.received;
  delivered += other.delivered;
  for (const auto& [reason, count] : other.dropped) dropped[reason] += count;
  batches_written += other.batches_written;
  write_errors += other.write_errors;
}

SinkRunner::SinkRunner(std::string name, std::unique_ptr<Sink> sink,
                       const v1::QueueConfig& queue, RetryPolicy retry)
    : name_(std::move(name)),
      sink_(std::move(sink)),
      reads_messages_(sink_->ReadsMessages()),
      queue_config_(queue),
      retry_(retry) {}

SinkRunner::~SinkRunner() { Stop(absl::Now()); }

absl::Status SinkRunner::Start() {
  if (absl::Status status = sink_->Start(); !status.ok()) {
    if (!IsTransient(status)) {
      return absl::Status(
          status.code(),
          absl::StrCat("sink \"", name_, "\": ", status.message()));
    }
    // A back end that is down now may be up by the first write, which
    // retries; refusing to start would lose everything meanwhile.
    LOG(WARNING) << "sink " << name_ << ": " << status
                 << "; will retry on the first write";
  }
  absl::MutexLock lock(&mu_);
  accepting_ = true;
  thread_ = std::thread([this] { Run(); });
  return absl::OkStatus();
}

bool SinkRunner::HasRoom(uint64_t charge) const {
  return queue_.size() < queue_config_.capacity_messages() &&
         queued_bytes_ + charge <= queue_config_.capacity_bytes();
}

bool SinkRunner::BatchDue() const {
  return queue_.size() >= queue_config_.max_batch_messages() ||
         queued_wire_bytes_ >= queue_config_.max_batch_bytes() ||
         2 * queue_.size() >= queue_config_.capacity_messages() ||
         2 * queued_bytes_ >= queue_config_.capacity_bytes();
}

namespace {

// What a message counts against max_batch_bytes: its size on the wire.
uint32_t WireBytes(const MessageRef& message) {
  return static_cast<uint32_t>(message.wire().bytes.size());
}

}  // namespace

uint64_t SinkRunner::ChargeFor(const MessageRef& message) const {
  return queue_.empty() || queue_.back().message.packet() != message.packet()
             ? message.packet()->footprint()
             : 0;
}

MessageRef SinkRunner::PopFront() {
  const Queued front = queue_.front();
  queue_.pop_front();
  queued_wire_bytes_ -= WireBytes(front.message);
  if (!queue_.empty() &&
      queue_.front().message.packet() == front.message.packet()) {
    queue_.front().charge += front.charge;
  } else {
    queued_bytes_ -= front.charge;
  }
  return front.message;
}

void SinkRunner::Drop(const std::string& reason, uint64_t count) {
  if (count > 0) stats_.dropped[reason] += count;
}

uint64_t SinkRunner::Enqueue(absl::Span<const MessageRef> messages) {
  absl::MutexLock lock(&mu_);
  const size_t size_before = queue_.size();
  const bool due_before = BatchDue();
  uint64_t dropped = 0;
  const auto overflow = queue_config_.overflow();
  // A message is received once it is queued or dropped, so that Stats()
  // balances at every moment, also while a BLOCK wait releases the lock.
  auto refuse = [&](const MessageRef& message, const std::string& reason)
                    ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
                      ++stats_.received;
                      ++dropped;
                      Drop(reason, 1);
                      message.packet()->Release(1);
                    };
  for (const MessageRef& message : messages) {
    if (!accepting_) {
      refuse(message, "shutdown");
      continue;
    }
    uint64_t charge = ChargeFor(message);
    if (charge > queue_config_.capacity_bytes()) {
      refuse(message, "queue_full");
      continue;
    }
    if (!HasRoom(charge)) {
      // The charge is recomputed after each pop or wait: the queue's last
      // packet may have changed meanwhile.
      if (overflow == v1::QueueConfig::DROP_OLDEST) {
        while (!queue_.empty() && !HasRoom(charge = ChargeFor(message))) {
          const MessageRef oldest = PopFront();
          Drop("overwritten", 1);
          ++dropped;
          oldest.packet()->Release(1);
        }
      } else if (overflow == v1::QueueConfig::BLOCK) {
        // A full queue is a due batch: make sure the runner takes it.
        work_ready_.Signal();
        while (accepting_ && !HasRoom(charge = ChargeFor(message)) &&
               absl::Now() < deadline_) {
          room_ready_.WaitWithDeadline(&mu_, deadline_);
        }
      }
      charge = ChargeFor(message);
      if (!accepting_ || !HasRoom(charge)) {
        const bool shutting_down =
            !accepting_ || deadline_ != absl::InfiniteFuture();
        refuse(message, shutting_down ? "shutdown" : "queue_full");
        continue;
      }
    }
    ++stats_.received;
    queued_bytes_ += charge;
    queued_wire_bytes_ += WireBytes(message);
    queue_.push_back({message, charge});
  }
  // Wake the runner only when it sleeps on an empty queue or a batch just
  // became due; a futex wake per enqueue would cost more than the enqueue.
  if ((runner_idle_ && size_before == 0 && !queue_.empty()) ||
      (!due_before && BatchDue())) {
    work_ready_.Signal();
  }
  return dropped;
}

void SinkRunner::Run() {
  std::vector<MessageRef> batch;  // each holds a reference to its packet
  const size_t max_batch =
      std::max<uint32_t>(1, queue_config_.max_batch_messages());
  const absl::Duration flush_interval =
      absl::Milliseconds(queue_config_.flush_interval_ms());
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      runner_idle_ = true;
      while (queue_.empty() && !stopping_) work_ready_.Wait(&mu_);
      runner_idle_ = false;
      if (queue_.empty()) return;  // stopping with nothing left
      // Let the batch fill for up to flush_interval unless it cannot grow
      // or a shutdown has begun.
      const absl::Time fill_deadline = absl::Now() + flush_interval;
      while (!BatchDue() && deadline_ == absl::InfiniteFuture()) {
        if (work_ready_.WaitWithDeadline(&mu_, fill_deadline)) break;
      }
      uint64_t batch_bytes = 0;
      while (
          !queue_.empty() && batch.size() < max_batch &&
          (batch.empty() || batch_bytes + WireBytes(queue_.front().message) <=
                                queue_config_.max_batch_bytes())) {
        batch_bytes += WireBytes(queue_.front().message);
        batch.push_back(PopFront());
      }
      stats_.in_flight = batch.size();
      room_ready_.SignalAll();
    }
    if (reopen_requested_.exchange(false)) {
      if (absl::Status status = sink_->Reopen(); !status.ok()) {
        LOG(ERROR) << "sink " << name_ << ": reopen: " << status;
      }
    }
    std::string drop_reason;
    const absl::Time started = absl::Now();
    const bool delivered = WriteWithRetry(batch, &drop_reason);
    {
      absl::MutexLock lock(&mu_);
      stats_.in_flight = 0;
      stats_.last_write_latency = absl::Now() - started;
      if (delivered) {
        const uint64_t unusable =
            std::min<uint64_t>(sink_->TakeUnusable(), batch.size());
        Drop("unusable", unusable);
        stats_.delivered += batch.size() - unusable;
        ++stats_.batches_written;
      } else {
        Drop(drop_reason, batch.size());
      }
      batch_done_.SignalAll();
    }
    ReleaseMessages(batch);
    batch.clear();
  }
}

bool SinkRunner::WriteWithRetry(const std::vector<MessageRef>& batch,
                                std::string* drop_reason) {
  const absl::Duration write_timeout =
      absl::Milliseconds(queue_config_.write_timeout_ms());
  const absl::Time give_up_at =
      absl::Now() + absl::Milliseconds(queue_config_.max_retry_duration_ms());
  absl::Duration backoff = retry_.initial_backoff;
  for (;;) {
    absl::Time write_deadline;
    {
      absl::MutexLock lock(&mu_);
      if (absl::Now() >= deadline_) {
        *drop_reason = "shutdown";
        return false;
      }
      write_deadline = std::min(absl::Now() + write_timeout, deadline_);
    }
    const absl::Status status = sink_->Write(batch, write_deadline);
    if (status.ok()) return true;
    absl::MutexLock lock(&mu_);
    ++stats_.write_errors;
    if (!IsTransient(status)) {
      LOG(ERROR) << "sink " << name_ << ": dropping " << batch.size()
                 << " messages after a permanent error: " << status;
      *drop_reason = "permanent_error";
      return false;
    }
    // Full jitter: spread retries of many routers over the whole backoff.
    const absl::Duration wait = absl::Uniform(jitter_, 0.0, 1.0) * backoff;
    const absl::Time retry_at = absl::Now() + wait;
    if (retry_at > give_up_at && retry_at <= deadline_) {
      LOG(ERROR) << "sink " << name_ << ": dropping " << batch.size()
                 << " messages, still failing after "
                 << queue_config_.max_retry_duration_ms()
                 << " ms of retries: " << status;
      *drop_reason = "retry_exhausted";
      return false;
    }
    LOG_EVERY_T(WARNING, 5)
        << "sink " << name_ << ": " << status << "; retrying in " << wait;
    // BeginShutdown moves the deadline in and wakes us.
    while (absl::Now() < retry_at && retry_at <= deadline_) {
      work_ready_.WaitWithDeadline(&mu_, retry_at);
    }
    if (retry_at > deadline_) {
      *drop_reason = "shutdown";
      return false;
    }
    backoff = std::min(backoff * 2, retry_.max_backoff);
  }
}

void SinkRunner::BeginShutdown(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  deadline_ = std::min(deadline_, deadline);
  work_ready_.SignalAll();
  room_ready_.SignalAll();
  batch_done_.SignalAll();
}

uint64_t SinkRunner::Stop(absl::Time deadline) {
  BeginShutdown(deadline);
  {
    absl::MutexLock lock(&mu_);
    if (!thread_.joinable()) return 0;
    accepting_ = false;
    stopping_ = true;
    work_ready_.SignalAll();
    room_ready_.SignalAll();
    // The thread drains the queue; past the deadline, the batch being
    // written is cut short and the rest is counted.
    while (!(queue_.empty() && stats_.in_flight == 0) &&
           absl::Now() < deadline_) {
      batch_done_.WaitWithDeadline(&mu_, deadline_);
    }
    const uint64_t left = queue_.size();
    Drop("shutdown", left);
    for (const Queued& queued : queue_) queued.message.packet()->Release(1);
    queue_.clear();
    queued_bytes_ = 0;
    queued_wire_bytes_ = 0;
    work_ready_.SignalAll();
    // A write that began before the shutdown may have a later deadline.
    if (stats_.in_flight > 0) sink_->Cancel();
  }
  thread_.join();
  if (absl::Status status = sink_->Flush(); !status.ok()) {
    LOG(ERROR) << "sink " << name_ << ": flush at shutdown: " << status;
  }
  sink_->Stop();
  absl::MutexLock lock(&mu_);
  const auto shutdown = stats_.dropped.find("shutdown");
  return shutdown == stats_.dropped.end() ? 0 : shutdown->second;
}

void SinkRunner::RequestReopen() {
  reopen_requested_.store(true);
  absl::MutexLock lock(&mu_);
  work_ready_.Signal();
}

SinkRunnerStats SinkRunner::Stats() const {
  absl::MutexLock lock(&mu_);
  SinkRunnerStats stats = stats_;
  stats.queued = queue_.size();
  stats.queued_bytes = queued_bytes_;
  return stats;
}

}  // namespace metlog
