#include "router/tail.h"

namespace metlog {

void Tail::Offer(const MessageRef& message) {
  if (!matcher_.Matches(message)) return;
  absl::MutexLock lock(&mu_);
  if (messages_.size() >= backlog_) {
    ++skipped_;
    return;
  }
  // A copy: the packet is lent only for the routing call.
  messages_.push_back(std::make_shared<const v1::Message>(*message));
}

std::optional<std::shared_ptr<const v1::Message>> Tail::Next(
    absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !messages_.empty() || closed_;
  };
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  if (messages_.empty()) return std::nullopt;
  std::shared_ptr<const v1::Message> message = std::move(messages_.front());
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
