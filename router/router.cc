#include "router/router.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "router/zmq_input.h"
#include "sinks/sink.h"

namespace metlog {
namespace {

struct CompiledSink {
  Matcher matcher;
  std::unique_ptr<Sink> sink;
};

// Compiles the match expression and creates the (not yet started) sink.
absl::StatusOr<CompiledSink> CompileSink(const v1::SinkConfig& config) {
  absl::StatusOr<Matcher> matcher = Matcher::Compile(config.match());
  if (!matcher.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("sink \"", config.name(), "\": match \"", config.match(),
                     "\": ", matcher.status().message()));
  }
  absl::StatusOr<std::unique_ptr<Sink>> sink =
      SinkRegistry::Global().Create(config.options());
  if (!sink.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "sink \"", config.name(), "\": ", sink.status().message()));
  }
  return CompiledSink{*std::move(matcher), *std::move(sink)};
}

}  // namespace

absl::Status Router::Check(const v1::RouterConfig& config) {
  for (const v1::SinkConfig& sink_config : config.sinks()) {
    if (absl::StatusOr<CompiledSink> compiled = CompileSink(sink_config);
        !compiled.ok()) {
      return compiled.status();
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Router>> Router::Create(
    const v1::RouterConfig& config) {
  std::unique_ptr<Router> router(new Router(config));
  for (const v1::SinkConfig& sink_config : config.sinks()) {
    absl::StatusOr<CompiledSink> compiled = CompileSink(sink_config);
    if (!compiled.ok()) return compiled.status();
    auto runner = std::make_unique<SinkRunner>(
        sink_config.name(), std::move(compiled->sink), sink_config.queue());
    if (absl::Status status = runner->Start(); !status.ok()) return status;
    router->routes_.push_back({sink_config.name(),
                               std::move(compiled->matcher),
                               std::move(runner)});
  }
  for (const v1::InputConfig& input_config : config.inputs()) {
    const std::string name =
        input_config.name().empty() ? "zmq" : input_config.name();
    absl::StatusOr<std::unique_ptr<ZmqInput>> input = ZmqInput::Create(
        name, input_config.zmq(), config.limits(), router.get());
    if (!input.ok()) return input.status();
    router->inputs_.push_back(*std::move(input));
  }
  return router;
}

Router::~Router() { Stop(); }

void Router::Start() {
  for (auto& input : inputs_) input->Start();
}

uint64_t Router::Stop() {
  if (stopped_) return 0;
  stopped_ = true;
  for (auto& input : inputs_) input->Stop();
  const absl::Time deadline =
      absl::Now() + absl::Milliseconds(config_.shutdown_deadline_ms());
  uint64_t undelivered = 0;
  for (Route& route : routes_) {
    const uint64_t lost = route.runner->Stop(deadline);
    if (lost > 0) {
      LOG(WARNING) << "sink " << route.name << ": " << lost
                   << " messages undelivered at shutdown";
    }
    undelivered += lost;
  }
  return undelivered;
}

void Router::Dispatch(const std::vector<SizedMessage>& messages) {
  std::vector<SizedMessage> matched;
  matched.reserve(messages.size());
  for (Route& route : routes_) {
    matched.clear();
    for (const SizedMessage& message : messages) {
      if (route.matcher.Matches(*message.message)) matched.push_back(message);
    }
    if (!matched.empty()) route.runner->Enqueue(matched);
  }
}

std::vector<std::string> Router::InputAddresses() const {
  std::vector<std::string> addresses;
  for (const auto& input : inputs_) {
    addresses.push_back(absl::StrCat(input->name(), " ", input->address()));
  }
  return addresses;
}

}  // namespace metlog
