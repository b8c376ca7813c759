// The statsd input kind (statsd lines over UDP), configured by
// metlog.v1.StatsdInputConfig.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "router/input_registry.h"
#include "router/inputs/statsd/statsd_decoder.h"
#include "router/inputs/statsd/statsd_input.pb.h"
#include "router/inputs/udp/datagram_options.h"
#include "router/inputs/udp/udp_input.h"

namespace metlog {
namespace {

// Beyond this a value is a typo: the machine has not that many cores.
constexpr uint32_t kMaxReaderThreads = 64;

class StatsdInputFactory : public TypedInputFactory<v1::StatsdInputConfig> {
 public:
  std::string default_name() const override { return "statsd"; }

 protected:
  absl::Status CheckOptions(const v1::StatsdInputConfig& options,
                            const v1::InputConfig&,
                            const v1::RouterConfig&) const override {
    if (options.reader_threads() < 1 ||
        options.reader_threads() > kMaxReaderThreads) {
      return OptionOutOfRange("reader_threads", options.reader_threads(), 1,
                              kMaxReaderThreads);
    }
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
    // One decoder per reader thread: a decoder keeps per-thread state.
    std::vector<std::unique_ptr<DatagramDecoder>> decoders;
    for (uint32_t i = 0; i < options.reader_threads(); ++i) {
      decoders.push_back(std::make_unique<StatsdDecoder>(environment.limits));
    }
    return UdpInput::Create(environment.name, options.address(),
                            options.receive_buffer_bytes(),
                            std::move(decoders), environment.dispatcher);
  }
};

const InputRegistration<StatsdInputFactory> kRegistration;

}  // namespace
}  // namespace metlog
