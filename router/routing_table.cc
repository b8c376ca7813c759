#include "router/routing_table.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "sinks/sink.h"

namespace metlog {
namespace {

using google::protobuf::util::MessageDifferencer;

struct CompiledSink {
  std::shared_ptr<const Matcher> matcher;
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
  return CompiledSink{std::make_shared<const Matcher>(*std::move(matcher)),
                      *std::move(sink)};
}

}  // namespace

absl::Status CheckSink(const v1::SinkConfig& config) {
  return CompileSink(config).status();
}

absl::StatusOr<std::shared_ptr<const RoutingTable>> BuildRoutingTable(
    const v1::RouterConfig& config, const RoutingTable* current) {
  auto table = std::make_shared<RoutingTable>();
  for (const v1::SinkConfig& sink_config : config.sinks()) {
    const Route* kept = nullptr;
    if (current != nullptr) {
      for (const Route& route : current->routes) {
        if (MessageDifferencer::Equals(route.config, sink_config)) {
          kept = &route;
        }
      }
    }
    if (kept != nullptr) {
      table->routes.push_back(*kept);
      continue;
    }
    absl::StatusOr<CompiledSink> compiled = CompileSink(sink_config);
    if (!compiled.ok()) return compiled.status();
    auto runner = std::make_shared<SinkRunner>(
        sink_config.name(), std::move(compiled->sink), sink_config.queue());
    if (absl::Status status = runner->Start(); !status.ok()) return status;
    table->routes.push_back(
        {sink_config, std::move(compiled->matcher), std::move(runner)});
  }
  for (const Route& route : table->routes) {
    table->any_reads_messages |= route.runner->reads_messages();
  }
  return table;
}

}  // namespace metlog
