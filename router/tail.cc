#include "router/tail.h"

#include <utility>

namespace metlog {

void Tail::Offer(const MessageView& message) {
  if (!matcher_.Matches(message)) return;
  absl::MutexLock lock(&mu_);
  ++matched_;
  auto full = [this](size_t bytes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return closed_ || messages_.size() >= bounds_.max_messages ||
           queued_bytes_ + bytes > bounds_.max_bytes;
  };
  // The wire size, a lower bound of the copy's, spares copying when full.
  if (full(message.wire().bytes.size())) {
    ++dropped_;
    return;
  }
  // A copy: the packet is lent only for the routing call. It is charged
  // the memory it holds: a message of many small fields holds 20 times
  // its wire size, and a stalled tail charged by wire size held 330 MB.
  auto copy = std::make_shared<const v1::Message>(message.message());
  const size_t bytes = copy->SpaceUsedLong();
  if (full(bytes)) {
    ++dropped_;
    return;
  }
  messages_.push_back({std::move(copy), bytes});
  queued_bytes_ += bytes;
}

std::optional<std::shared_ptr<const v1::Message>> Tail::Next(
    absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !messages_.empty() || closed_;
  };
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  if (messages_.empty()) return std::nullopt;
  Kept front = std::move(messages_.front());
  messages_.pop_front();
  queued_bytes_ -= front.bytes;
  return std::move(front.message);
}

uint64_t Tail::TakeNewlyDropped() {
  absl::MutexLock lock(&mu_);
  return dropped_ - std::exchange(dropped_told_, dropped_);
}

void Tail::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
  // Nobody will read them: free the memory now.
  messages_.clear();
  queued_bytes_ = 0;
}

v1::TailStats Tail::Stats() const {
  absl::MutexLock lock(&mu_);
  v1::TailStats stats;
  stats.set_match(match_);
  stats.set_matched(matched_);
  stats.set_queued(messages_.size());
  stats.set_queued_bytes(queued_bytes_);
  stats.set_dropped(dropped_);
  return stats;
}

}  // namespace metlog
