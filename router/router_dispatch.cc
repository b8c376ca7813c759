// The data path: each sink's matcher over a group of packets, and the
// matched messages queued for it (shared, not copied).
#include <algorithm>
#include <vector>

#include "router/router.h"

namespace metlog {

uint64_t Router::Dispatch(absl::Span<const PacketRef> packets,
                          absl::string_view signer) {
  return RouteMessages(packets, signer, /*count_unmatched=*/true);
}

uint64_t Router::RouteMessages(absl::Span<const PacketRef> packets,
                               absl::string_view signer, bool count_unmatched) {
  const std::shared_ptr<const RoutingTable> routing = table();
  uint64_t refused = 0;
  // Reused by each input thread: an allocation per group costs more than
  // matching a small one.
  thread_local std::vector<MessageView> matched;
  // Per message of the group, in order: whether any sink took it.
  thread_local std::vector<uint8_t> taken;
  // A packet no one will parse is charged to queues without its parse (a
  // tail opened meanwhile may still parse it: bounded by the packet's own
  // memory bound, and rare).
  if (!routing->any_reads_messages &&
      tail_count_.load(std::memory_order_relaxed) == 0) {
    for (const PacketRef& packet : packets) packet->ChargeNoParse();
  }
  if (count_unmatched) {
    size_t messages = 0;
    for (const PacketRef& packet : packets) messages += packet->size();
    taken.assign(messages, 0);
  }
  for (const Route& route : routing->routes) {
    if (!route.config.signers().empty() &&
        std::find(route.config.signers().begin(), route.config.signers().end(),
                  signer) == route.config.signers().end()) {
      continue;
    }
    matched.clear();
    size_t index = 0;
    for (const PacketRef& packet : packets) {
      const size_t before = matched.size();
      for (uint32_t i = 0; i < packet->size(); ++i, ++index) {
        const MessageView message = packet->View(i);
        if (route.matcher->Matches(message)) {
          matched.push_back(message);
          if (count_unmatched) taken[index] = 1;
        }
      }
      if (const size_t n = matched.size() - before; n > 0) {
        // One atomic step for all of this sink's references to the packet.
        packet->Retain(static_cast<uint32_t>(n));
        // Parsed here, while its bytes are in this core's cache, and on a
        // thread decode_threads can multiply.
        if (route.runner->reads_messages()) packet->Parse();
      }
    }
    if (!matched.empty()) {
      refused += route.runner->Enqueue(absl::MakeConstSpan(matched));
    }
  }
  if (count_unmatched) {
    if (const auto n = std::count(taken.begin(), taken.end(), 0); n > 0) {
      unmatched_.fetch_add(n, std::memory_order_relaxed);
    }
  }
  if (tail_count_.load(std::memory_order_relaxed) > 0) OfferToTails(packets);
  return refused;
}

}  // namespace metlog
