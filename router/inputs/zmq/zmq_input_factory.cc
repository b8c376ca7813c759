// The zmq input kind, configured by metlog.v1.ZmqInputConfig.
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "client/endpoint.h"
#include "router/curve_keys.h"
#include "router/input_registry.h"
#include "router/inputs/zmq/zmq_input.h"
#include "router/inputs/zmq/zmq_input.pb.h"

namespace metlog {
namespace {

// Beyond these a value is a typo or unbounded.
constexpr uint32_t kMaxDecodeThreads = 64;
constexpr int32_t kMaxReceiveHwm = 1000000;

class ZmqInputFactory : public TypedInputFactory<v1::ZmqInputConfig> {
 public:
  std::string default_name() const override { return "zmq"; }

 protected:
  absl::Status CheckOptions(const v1::ZmqInputConfig& zmq,
                            const v1::InputConfig&,
                            const v1::RouterConfig& config) const override {
    // As ZmqInput::Create will bind or connect it: ZeroMQ itself would take
    // "tcp://*:99999" as port 34463.
    if (absl::Status status = zmq.bind() ? CheckBindEndpoint(zmq.endpoint())
                                         : CheckConnectEndpoint(zmq.endpoint());
        !status.ok()) {
      return status;
    }
    // 0 would be ZeroMQ's "no limit": unbounded memory for one slow router.
    if (zmq.receive_hwm() < 1 || zmq.receive_hwm() > kMaxReceiveHwm) {
      return OptionOutOfRange("receive_hwm", zmq.receive_hwm(), 1,
                              kMaxReceiveHwm);
    }
    // Below one packet of the largest size, the budget could not hold.
    const uint64_t max_packet_bytes = config.limits().max_packet_bytes();
    if (zmq.receive_budget_bytes() < max_packet_bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("receive_budget_bytes is ", zmq.receive_budget_bytes(),
                       "; it must be at least limits.max_packet_bytes (",
                       max_packet_bytes, ")"));
    }
    if (zmq.decode_threads() < 1 || zmq.decode_threads() > kMaxDecodeThreads) {
      return OptionOutOfRange("decode_threads", zmq.decode_threads(), 1,
                              kMaxDecodeThreads);
    }
    if (zmq.has_curve()) return LoadCurveServerKeys(zmq.curve()).status();
    return absl::OkStatus();
  }

  InputReach ReachOf(const v1::ZmqInputConfig& zmq) const override {
    InputReach reach{zmq.endpoint(), /*listens=*/zmq.bind(),
                     /*signable=*/true};
    reach.can_authenticate = true;
    reach.authenticated = zmq.has_curve();
    return reach;
  }

  absl::StatusOr<std::unique_ptr<Input>> CreateInput(
      const v1::ZmqInputConfig& zmq,
      const InputEnvironment& environment) const override {
    auto input = ZmqInput::Create(environment.name, zmq, environment.limits,
                                  environment.PacketVerifierOrNull(),
                                  environment.dispatcher);
    if (!input.ok()) return input.status();
    return std::unique_ptr<Input>(*std::move(input));
  }
};

const InputRegistration<ZmqInputFactory> kRegistration;

}  // namespace
}  // namespace metlog
