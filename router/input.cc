#include "router/input.h"

#include "glog/logging.h"

namespace metlog {

uint64_t Input::Handle(const DecodeResult& result,
                       const std::function<std::string()>& peer,
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
  return result.packet == nullptr ? 0 : dispatcher->Dispatch(*result.packet);
}

}  // namespace metlog
