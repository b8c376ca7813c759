// The heka input kind (Heka's stream framing over TCP), configured by
// metlog.v1.HekaInputConfig.
#include <memory>
#include <string>

#include "client/net/socket_address.h"
#include "router/input_registry.h"
#include "router/inputs/heka/heka_input.h"
#include "router/inputs/heka/heka_input.pb.h"

namespace metlog {
namespace {

class HekaInputFactory : public TypedInputFactory<v1::HekaInputConfig> {
 public:
  std::string default_name() const override { return "heka"; }

 protected:
  absl::Status CheckOptions(const v1::HekaInputConfig& heka,
                            const v1::InputConfig&,
                            const v1::RouterConfig&) const override {
    return CheckListenAddress("address", heka.address(), SOCK_STREAM);
  }

  InputReach ReachOf(const v1::HekaInputConfig& heka) const override {
    return InputReach{heka.address(), /*listens=*/true, /*signable=*/true};
  }

  absl::StatusOr<std::unique_ptr<Input>> CreateInput(
      const v1::HekaInputConfig& heka,
      const InputEnvironment& environment) const override {
    auto input = HekaInput::Create(
        environment.name, heka, environment.limits, environment.signer_keys,
        environment.require_signature, environment.dispatcher);
    if (!input.ok()) return input.status();
    return std::unique_ptr<Input>(*std::move(input));
  }
};

const InputRegistration<HekaInputFactory> kRegistration;

}  // namespace
}  // namespace metlog
