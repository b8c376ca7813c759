#include "router/tail.h"

namespace metlog {

void Tail::Offer(const MessagePtr& message) {
  if (!matcher_.Matches(*message)) return;
  absl::MutexLock lock(&mu_);
  if (messages_.size() >= backlog_) {
    ++skipped_;
    return;
  }
  messages_.push_back(message);
}

std::optional<MessagePtr> Tail::Next(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !messages_.empty() || closed_;
  };
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  if (messages_.empty()) return std::nullopt;
  MessagePtr message = std::move(messages_.front());
  messages_.pop_front();
  return message;
}

void Tail::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
}

uint64_t Tail::skipped() const {
  absl::MutexLock lock(&mu_);
  return skipped_;
}

}  // namespace metlog
