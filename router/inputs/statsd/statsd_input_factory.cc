// The statsd input kind (statsd lines over UDP), configured by
// metlog.v1.StatsdInputConfig.
#include <memory>
#include <string>

#include "router/input_registry.h"
#include "router/inputs/statsd/statsd_decoder.h"
#include "router/inputs/statsd/statsd_input.pb.h"
#include "router/inputs/udp/datagram_options.h"
#include "router/inputs/udp/udp_input.h"

namespace metlog {
namespace {

class StatsdInputFactory : public TypedInputFactory<v1::StatsdInputConfig> {
 public:
  std::string default_name() const override { return "statsd"; }

 protected:
  absl::Status CheckOptions(const v1::StatsdInputConfig& options,
                            const v1::InputConfig&,
                            const v1::RouterConfig&) const override {
    return CheckDatagramOptions(options.address(),
                                options.receive_buffer_bytes());
  }

  // statsd lines carry no signature: require_signature cannot protect them.
  InputReach ReachOf(const v1::StatsdInputConfig& options) const override {
    return InputReach{options.address(), /*listens=*/true,
                      /*signable=*/false};
  }

  absl::StatusOr<std::unique_ptr<Input>> CreateInput(
      const v1::StatsdInputConfig& options,
      const InputEnvironment& environment) const override {
    return UdpInput::Create(environment.name, options.address(),
                            options.receive_buffer_bytes(),
                            std::make_unique<StatsdDecoder>(environment.limits),
                            environment.dispatcher);
  }
};

const InputRegistration<StatsdInputFactory> kRegistration;

}  // namespace
}  // namespace metlog
