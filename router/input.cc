#include "router/input.h"

#include "glog/logging.h"

namespace metlog {

void Input::Accept(DecodeResult result,
                   const std::function<std::string()>& peer, PacketGroup* group,
                   Dispatcher* dispatcher) {
  counters_.packets.fetch_add(1, std::memory_order_relaxed);
  counters_.accepted.fetch_add(result.accepted(), std::memory_order_relaxed);
  if (!result.first_error.empty()) {
    for (size_t i = 0; i < result.rejected.size(); ++i) {
      counters_.rejected[i].fetch_add(result.rejected[i],
                                      std::memory_order_relaxed);
    }
    LOG_EVERY_T(WARNING, 1)
        << "input " << name_ << ": rejected " << result.rejected_total()
        << " from " << peer() << ": " << result.first_error;
  }
  if (result.accepted() == 0) return;
  if (group->signer != result.signer) {
    DispatchGroup(group, dispatcher);
    group->signer = std::move(result.signer);
  }
  group->packets.push_back(std::move(result.packet));
}

void Input::Refuse(RejectReason reason, std::string error,
                   const std::function<std::string()>& peer) {
  DecodeResult result;
  result.rejected[static_cast<int>(reason)] = 1;
  result.first_error = std::move(error);
  Accept(std::move(result), peer, nullptr, nullptr);
}

uint64_t Input::DispatchGroup(PacketGroup* group, Dispatcher* dispatcher) {
  if (group->packets.empty()) return 0;
  const uint64_t refused = dispatcher->Dispatch(group->packets, group->signer);
  group->packets.clear();
  return refused;
}

}  // namespace metlog
