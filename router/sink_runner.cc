#include "router/sink_runner.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "router/disk_record.h"

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
  if (queue_config_.overflow() == v1::QueueConfig::DISK) {
    if (queue_config_.disk().dir().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "sink \"", name_, "\": overflow DISK needs disk { dir: ... }"));
    }
    // An unusable directory is not fatal: the other sinks keep delivering,
    // this one keeps its memory queue, and its thread retries. Bad options
    // are a config mistake that no retry fixes.
    next_disk_open_ = absl::Now();
    if (!RetryOpenDiskBuffer()) {
      absl::MutexLock lock(&mu_);
      if (disk_open_error_.code() == absl::StatusCode::kInvalidArgument) {
        return disk_open_error_;
      }
    }
  }
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

bool SinkRunner::RetryOpenDiskBuffer() {
  {
    absl::MutexLock lock(&mu_);
    if (disk_ != nullptr) return true;
  }
  if (absl::Now() < next_disk_open_) return false;
  next_disk_open_ = absl::Now() + kDiskOpenRetry;
  const absl::Status status = OpenDiskBuffer();
  absl::MutexLock lock(&mu_);
  if (status.ok()) {
    if (!disk_unavailable_.empty()) {
      LOG(INFO) << "sink " << name_ << ": disk buffer opened";
    }
    disk_unavailable_.clear();
    return true;
  }
  const std::string error =
      absl::StrCat("sink \"", name_, "\": ", status.message());
  disk_open_error_ = absl::Status(status.code(), error);
  if (status.code() == absl::StatusCode::kInvalidArgument) return false;
  if (error != disk_unavailable_) {
    LOG(ERROR) << error << "; retrying every " << kDiskOpenRetry
               << ", and until it opens what would go to disk is dropped "
                  "(\"disk_unavailable\")";
  } else {
    LOG_EVERY_T(ERROR, 30) << error << "; still retrying";
  }
  disk_unavailable_ = error;
  return false;
}

absl::Status SinkRunner::OpenDiskBuffer() {
  const v1::DiskBufferConfig& config = queue_config_.disk();
  DiskBufferOptions options;
  options.dir = config.dir();
  options.max_segment_bytes = config.max_segment_bytes();
  options.max_total_bytes = config.max_total_bytes();
  switch (config.full_action()) {
    case v1::DiskBufferConfig::BLOCK:
      options.full_action = DiskBufferOptions::FullAction::kBlock;
      break;
    case v1::DiskBufferConfig::DROP_OLDEST_SEGMENT:
      options.full_action = DiskBufferOptions::FullAction::kDropOldestSegment;
      break;
    case v1::DiskBufferConfig::REFUSE_NEW:
      options.full_action = DiskBufferOptions::FullAction::kRefuseNew;
      break;
  }
  switch (config.fsync()) {
    case v1::DiskBufferConfig::EVERY_BATCH:
      options.fsync = DiskBufferOptions::FsyncPolicy::kEveryBatch;
      break;
    case v1::DiskBufferConfig::INTERVAL:
      options.fsync = DiskBufferOptions::FsyncPolicy::kInterval;
      break;
    case v1::DiskBufferConfig::NEVER:
      options.fsync = DiskBufferOptions::FsyncPolicy::kNever;
      break;
  }
  options.fsync_interval = absl::Milliseconds(config.fsync_interval_ms());
  absl::StatusOr<std::unique_ptr<DiskBuffer>> disk = DiskBuffer::Open(options);
  if (!disk.ok()) return disk.status();
  const DiskBufferStats found = (*disk)->Stats();
  (found.corrupted_cuts > 0 ? LOG(WARNING) : LOG(INFO))
      << "sink " << name_ << ": disk buffer " << options.dir << ": replaying "
      << found.pending_at_open << " records (" << found.bytes_on_disk
      << " bytes on disk); " << found.corrupted_cuts << " bad tails cut ("
      << found.corrupted_bytes << " bytes)";
  absl::MutexLock lock(&mu_);
  disk_ = *std::move(disk);
  // Received by an earlier run, counted again so the counters balance.
  stats_.received += found.pending_at_open;
  disk_unread_ = found.pending_at_open;
  return absl::OkStatus();
}

uint64_t SinkRunner::Spill(const std::vector<MessageView>& messages,
                           absl::Time deadline) {
  std::string records;
  std::vector<size_t> ends;
  ends.reserve(messages.size());
  for (const MessageView& message : messages) {
    AppendDiskRecord(message, &records);
    ends.push_back(records.size());
  }
  std::vector<absl::string_view> views;
  views.reserve(messages.size());
  size_t begin = 0;
  for (size_t end : ends) {
    views.push_back(absl::string_view(records).substr(begin, end - begin));
    begin = end;
  }
  const DiskAppendResult result = disk_->Append(views, deadline);
  ReleaseMessages(messages);
  absl::MutexLock lock(&mu_);
  disk_spilling_ -= messages.size();
  stats_.received += messages.size();
  disk_unread_ += result.accepted;
  disk_unread_ -= std::min(disk_unread_, result.dropped_oldest);
  Drop("disk_dropped_oldest", result.dropped_oldest);
  const uint64_t refused = messages.size() - result.accepted;
  if (refused > 0) {
    LOG_EVERY_T(ERROR, 5) << "sink " << name_ << ": " << refused
                          << " messages not written to disk: " << result.status;
    switch (result.status.code()) {
      case absl::StatusCode::kResourceExhausted:
      case absl::StatusCode::kDeadlineExceeded:
      case absl::StatusCode::kUnavailable:
        Drop("disk_full", refused);
        break;
      case absl::StatusCode::kInvalidArgument:
        Drop("too_large", refused);
        break;
      default:
        Drop("disk_error", refused);
        break;
    }
  }
  if (result.accepted > 0) work_ready_.Signal();
  return refused + result.dropped_oldest;
}

DiskPosition SinkRunner::ReadFromDisk(std::vector<MessageView>* batch) {
  const DiskReadBatch read =
      disk_->Read(std::max<uint32_t>(1, queue_config_.max_batch_messages()),
                  queue_config_.max_batch_bytes());
  uint64_t unreadable = 0;
  PacketRef packet = PacketOfDiskRecords(read.records, &unreadable);
  const uint32_t size = static_cast<uint32_t>(packet->size());
  for (uint32_t i = 0; i < size; ++i) batch->push_back(packet->View(i));
  if (size > 0) {
    // One reference per message, as queued messages hold.
    packet->Retain(size - 1);
    packet.release();
  }
  absl::MutexLock lock(&mu_);
  const uint64_t gone = read.records.size() + read.cut_records;
  disk_unread_ -= std::min(disk_unread_, gone);
  Drop("disk_corrupted", read.cut_records);
  Drop("unusable", unreadable);
  return read.end;
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
uint32_t WireBytes(const MessageView& message) {
  return static_cast<uint32_t>(message.wire().bytes.size());
}

}  // namespace

uint64_t SinkRunner::ChargeFor(const MessageView& message) const {
  return queue_.empty() || SharedPacket::Of(queue_.back().message) !=
                               SharedPacket::Of(message)
             ? SharedPacket::Of(message)->footprint()
             : 0;
}

MessageView SinkRunner::PopFront() {
  const Queued front = queue_.front();
  queue_.pop_front();
  queued_wire_bytes_ -= WireBytes(front.message);
  if (!queue_.empty() && SharedPacket::Of(queue_.front().message) ==
                             SharedPacket::Of(front.message)) {
    queue_.front().charge += front.charge;
  } else {
    queued_bytes_ -= front.charge;
  }
  return front.message;
}

void SinkRunner::Drop(const std::string& reason, uint64_t count) {
  if (count > 0) stats_.dropped[reason] += count;
}

uint64_t SinkRunner::Enqueue(absl::Span<const MessageView> messages) {
  std::vector<MessageView> spill;  // overflow DISK: for the disk buffer
  absl::Time spill_deadline;
  uint64_t dropped = EnqueueInMemory(messages, &spill);
  if (spill.empty()) return dropped;
  {
    absl::MutexLock lock(&mu_);
    spill_deadline = deadline_;
  }
  return dropped + Spill(spill, spill_deadline);
}

uint64_t SinkRunner::EnqueueInMemory(absl::Span<const MessageView> messages,
                                     std::vector<MessageView>* spill) {
  absl::MutexLock lock(&mu_);
  // What the runner last saw of the queue, for the wake-up below; a BLOCK
  // wait lets the runner drain it meanwhile and go idle.
  size_t size_before = queue_.size();
  bool due_before = BatchDue();
  uint64_t dropped = 0;
  const auto overflow = queue_config_.overflow();
  // A message is received once it is queued or dropped, so that Stats()
  // balances at every moment, also while a BLOCK wait releases the lock.
  auto refuse = [&](const MessageView& message, const std::string& reason)
                    ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
                      ++stats_.received;
                      ++dropped;
                      Drop(reason, 1);
                      SharedPacket::Of(message)->Release(1);
                    };
  for (const MessageView& message : messages) {
    if (!accepting_) {
      refuse(message, "shutdown");
      continue;
    }
    uint64_t charge = ChargeFor(message);
    if (overflow == v1::QueueConfig::DISK &&
        (queue_config_.disk().write_through() ||
         disk_unread_ + disk_spilling_ > 0 || !spill->empty() ||
         !HasRoom(charge))) {
      if (disk_ == nullptr) {
        refuse(message, "disk_unavailable");
      } else {
        spill->push_back(message);
      }
      continue;
    }
    if (charge > queue_config_.capacity_bytes()) {
      refuse(message, "queue_full");
      continue;
    }
    if (!HasRoom(charge)) {
      // The charge is recomputed after each pop or wait: the queue's last
      // packet may have changed meanwhile.
      if (overflow == v1::QueueConfig::DROP_OLDEST) {
        while (!queue_.empty() && !HasRoom(charge = ChargeFor(message))) {
          const MessageView oldest = PopFront();
          Drop("overwritten", 1);
          ++dropped;
          SharedPacket::Of(oldest)->Release(1);
        }
      } else if (overflow == v1::QueueConfig::BLOCK) {
        // A full queue is a due batch: make sure the runner takes it.
        work_ready_.Signal();
        while (accepting_ && !HasRoom(charge = ChargeFor(message)) &&
               absl::Now() < deadline_) {
          room_ready_.WaitWithDeadline(&mu_, deadline_);
        }
        size_before = queue_.size();
        due_before = BatchDue();
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
  disk_spilling_ += spill->size();
  return dropped;
}

void SinkRunner::Run() {
  std::vector<MessageView> batch;  // each holds a reference to its packet
  const size_t max_batch =
      std::max<uint32_t>(1, queue_config_.max_batch_messages());
  const absl::Duration flush_interval =
      absl::Milliseconds(queue_config_.flush_interval_ms());
  const bool disk_wanted = queue_config_.overflow() == v1::QueueConfig::DISK;
  for (;;) {
    if (disk_wanted) RetryOpenDiskBuffer();
    // Memory holds the oldest messages: disk only gets new ones while
    // memory is full or disk is not drained yet.
    bool from_disk = false;
    {
      absl::MutexLock lock(&mu_);
      runner_idle_ = true;
      while (queue_.empty() && disk_unread_ == 0 && !stopping_) {
        if (!disk_wanted) {
          work_ready_.Wait(&mu_);
        } else if (work_ready_.WaitWithDeadline(
                       &mu_,
                       absl::Now() + (disk_ != nullptr ? DiskSyncPeriod()
                                                       : kDiskOpenRetry))) {
          mu_.Unlock();
          SyncOrOpenDisk();
          mu_.Lock();
        }
      }
      runner_idle_ = false;
      // Stopping: what is on disk stays there for the next start.
      if (queue_.empty() && (stopping_ || disk_unread_ == 0)) return;
      from_disk = queue_.empty();
      if (!from_disk) {
        // Let the batch fill for up to flush_interval unless it cannot
        // grow or a shutdown has begun.
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
    }
    DiskPosition disk_end;
    if (from_disk) {
      disk_end = ReadFromDisk(&batch);
      absl::MutexLock lock(&mu_);
      if (batch.empty()) {
        // Nothing readable although the count says so (a read error):
        // try again later rather than spin.
        work_ready_.WaitWithDeadline(&mu_, absl::Now() + flush_interval);
        continue;
      }
      stats_.in_flight = batch.size();
    }
    if (reopen_requested_.exchange(false)) {
      if (absl::Status status = sink_->Reopen(); !status.ok()) {
        LOG(ERROR) << "sink " << name_ << ": reopen: " << status;
      }
    }
    std::string drop_reason;
    const absl::Time started = absl::Now();
    const bool delivered = WriteWithRetry(batch, &drop_reason);
    // A batch read from disk that a shutdown cut short stays there, for
    // the next start; one delivered or given up on leaves it.
    const bool keep_on_disk =
        from_disk && !delivered && drop_reason == "shutdown";
    if (disk_ != nullptr && !from_disk && !delivered &&
        drop_reason == "shutdown") {
      // Cut short by the shutdown: saved behind what is on disk rather
      // than dropped. Spill counts it received again, and releases it.
      {
        absl::MutexLock lock(&mu_);
        stats_.received -= batch.size();
        stats_.in_flight = 0;
        disk_spilling_ += batch.size();
      }
      Spill(batch, absl::Now());
      batch.clear();
      absl::MutexLock lock(&mu_);
      batch_done_.SignalAll();
      continue;
    }
    if (from_disk && !keep_on_disk) {
      if (absl::Status status = disk_->Commit(disk_end); !status.ok()) {
        LOG_EVERY_T(ERROR, 5) << "sink " << name_ << ": " << status;
      }
    }
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
      } else if (keep_on_disk) {
        disk_unread_ += batch.size();
        disk_->Rewind();
      } else {
        Drop(drop_reason, batch.size());
      }
      batch_done_.SignalAll();
    }
    ReleaseMessages(batch);
    batch.clear();
  }
}

absl::Duration SinkRunner::DiskSyncPeriod() const {
  return std::max(absl::Milliseconds(queue_config_.disk().fsync_interval_ms()),
                  absl::Milliseconds(1));
}

void SinkRunner::SyncOrOpenDisk() {
  if (!RetryOpenDiskBuffer()) return;
  // fsync INTERVAL's promise holds while the sink is idle or retrying too.
  if (absl::Status status = disk_->SyncIfDue(); !status.ok()) {
    LOG_EVERY_T(ERROR, 5) << "sink " << name_ << ": " << status;
  }
}

bool SinkRunner::WriteWithRetry(const std::vector<MessageView>& batch,
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
    // Full jitter: spread retries of many routers over the whole backoff;
    // never sooner than the back end asked (a 429's Retry-After, say).
    const absl::Duration wait = std::max(
        absl::Uniform(jitter_, 0.0, 1.0) * backoff, RetryDelay(status));
    const absl::Time retry_at = absl::Now() + wait;
    // With a disk buffer the operator asked for no loss: the batch is
    // retried until delivered (or the shutdown keeps it on disk), while new
    // messages wait on disk behind it.
    if (disk_ == nullptr && retry_at > give_up_at && retry_at <= deadline_) {
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
      if (queue_config_.overflow() != v1::QueueConfig::DISK) {
        work_ready_.WaitWithDeadline(&mu_, retry_at);
      } else if (work_ready_.WaitWithDeadline(
                     &mu_,
                     std::min(retry_at, absl::Now() + DiskSyncPeriod()))) {
        mu_.Unlock();
        SyncOrOpenDisk();
        mu_.Lock();
      }
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
  if (disk_ != nullptr) disk_->EndWaitsBy(deadline_);
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
    // With a disk buffer, what is left goes to disk (below) instead.
    if (disk_ == nullptr) {
      Drop("shutdown", queue_.size());
      for (const Queued& queued : queue_)
        SharedPacket::Of(queued.message)->Release(1);
      queue_.clear();
      queued_bytes_ = 0;
      queued_wire_bytes_ = 0;
    }
    work_ready_.SignalAll();
    // A write that began before the shutdown may have a later deadline.
    if (stats_.in_flight > 0) sink_->Cancel();
  }
  thread_.join();
  if (disk_ != nullptr) SaveToDisk();
  if (absl::Status status = sink_->Flush(); !status.ok()) {
    LOG(ERROR) << "sink " << name_ << ": flush at shutdown: " << status;
  }
  sink_->Stop();
  absl::MutexLock lock(&mu_);
  const auto shutdown = stats_.dropped.find("shutdown");
  return shutdown == stats_.dropped.end() ? 0 : shutdown->second;
}

void SinkRunner::SaveToDisk() {
  std::vector<MessageView> left;
  absl::Time deadline;
  {
    absl::MutexLock lock(&mu_);
    // No longer received: Spill counts them again, on disk or dropped.
    stats_.received -= queue_.size();
    for (const Queued& queued : queue_) left.push_back(queued.message);
    queue_.clear();
    queued_bytes_ = 0;
    queued_wire_bytes_ = 0;
    disk_spilling_ += left.size();
    deadline = deadline_;
  }
  if (!left.empty()) {
    LOG(INFO) << "sink " << name_ << ": writing the " << left.size()
              << " messages left in memory to disk";
    Spill(left, deadline);
  }
  if (absl::Status status = disk_->Close(); !status.ok()) {
    LOG(ERROR) << "sink " << name_ << ": closing the disk buffer: " << status;
  }
  const DiskBufferStats stats = disk_->Stats();
  LOG(INFO) << "sink " << name_ << ": " << stats.records_on_disk
            << " records left on disk for the next start";
}

void SinkRunner::RequestReopen() {
  reopen_requested_.store(true);
  absl::MutexLock lock(&mu_);
  work_ready_.Signal();
}

SinkRunnerStats SinkRunner::Stats() const {
  SinkRunnerStats stats;
  const DiskBuffer* disk;
  {
    absl::MutexLock lock(&mu_);
    stats = stats_;
    stats.queued = queue_.size() + disk_unread_;
    stats.queued_bytes = queued_bytes_;
    stats.disk_unavailable = disk_unavailable_;
    disk = disk_.get();
  }
  stats.has_disk = queue_config_.overflow() == v1::QueueConfig::DISK;
  if (disk != nullptr) stats.disk = disk->Stats();
  return stats;
}

}  // namespace metlog
