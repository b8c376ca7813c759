// The udp input kind (one Packet per datagram), configured by
// metlog.v1.UdpInputConfig.
#include <memory>
#include <string>

#include "router/input_registry.h"
#include "router/inputs/udp/datagram_options.h"
#include "router/inputs/udp/udp_input.h"
#include "router/inputs/udp/udp_input.pb.h"

namespace metlog {
namespace {

class UdpInputFactory : public TypedInputFactory<v1::UdpInputConfig> {
 public:
  std::string default_name() const override { return "udp"; }

 protected:
  absl::Status CheckOptions(const v1::UdpInputConfig& udp,
                            const v1::InputConfig&,
                            const v1::RouterConfig&) const override {
    return CheckDatagramOptions(udp.address(), udp.receive_buffer_bytes());
  }

  InputReach ReachOf(const v1::UdpInputConfig& udp) const override {
    return InputReach{udp.address(), /*listens=*/true, /*signable=*/true};
  }

  absl::StatusOr<std::unique_ptr<Input>> CreateInput(
      const v1::UdpInputConfig& udp,
      const InputEnvironment& environment) const override {
    auto input = UdpInput::Create(environment.name, udp, environment.limits,
                                  environment.PacketVerifierOrNull(),
                                  environment.dispatcher);
    if (!input.ok()) return input.status();
    return std::unique_ptr<Input>(*std::move(input));
  }
};

const InputRegistration<UdpInputFactory> kRegistration;

}  // namespace
}  // namespace metlog
