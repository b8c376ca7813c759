// The metlog_json input kind (metlog-py JSON envelopes over UDP), configured by
// metlog.v1.MetlogJsonInputConfig.
#include <memory>
#include <string>

#include "router/input_registry.h"
#include "router/inputs/metlog_json/metlog_json_decoder.h"
#include "router/inputs/metlog_json/metlog_json_input.pb.h"
#include "router/inputs/udp/datagram_options.h"
#include "router/inputs/udp/udp_input.h"

namespace metlog {
namespace {

class MetlogJsonInputFactory
    : public TypedInputFactory<v1::MetlogJsonInputConfig> {
 public:
  std::string default_name() const override { return "metlog_json"; }

 protected:
  absl::Status CheckOptions(const v1::MetlogJsonInputConfig& options,
                            const v1::InputConfig&,
                            const v1::RouterConfig&) const override {
    return CheckDatagramOptions(options.address(),
                                options.receive_buffer_bytes());
  }

  // metlog-py JSON envelopes carry no signature: require_signature cannot
  // protect them.
  InputReach ReachOf(const v1::MetlogJsonInputConfig& options) const override {
    return InputReach{options.address(), /*listens=*/true,
                      /*signable=*/false};
  }

  absl::StatusOr<std::unique_ptr<Input>> CreateInput(
      const v1::MetlogJsonInputConfig& options,
      const InputEnvironment& environment) const override {
    return UdpInput::Create(
        environment.name, options.address(), options.receive_buffer_bytes(),
        std::make_unique<MetlogJsonDecoder>(environment.limits),
        environment.dispatcher);
  }
};

const InputRegistration<MetlogJsonInputFactory> kRegistration;

}  // namespace
}  // namespace metlog
