// Live views of traffic (Admin.Tail): tails opened and closed, and what
// Dispatch offers them.
#include <algorithm>
#include <utility>

#include "router/router.h"

namespace metlog {

std::shared_ptr<Tail> Router::AddTail(std::string match, Matcher matcher,
                                      TailBounds bounds) {
  auto tail =
      std::make_shared<Tail>(std::move(match), std::move(matcher), bounds);
  absl::MutexLock lock(&tails_mu_);
  tails_.push_back(tail);
  tail_count_.store(static_cast<int>(tails_.size()));
  return tail;
}

void Router::RemoveTail(const std::shared_ptr<Tail>& tail) {
  absl::MutexLock lock(&tails_mu_);
  tails_.erase(std::remove(tails_.begin(), tails_.end(), tail), tails_.end());
  tail_count_.store(static_cast<int>(tails_.size()));
}

void Router::OfferToTails(absl::Span<const PacketRef> packets) {
  absl::MutexLock lock(&tails_mu_);
  for (const auto& tail : tails_) {
    for (const PacketRef& packet : packets) {
      for (uint32_t i = 0; i < packet->size(); ++i) {
        tail->Offer(packet->View(i));
      }
    }
  }
}

}  // namespace metlog
