#include "router/config_loader.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "proto/text_proto.h"
#include "router/config_validation.h"
#include "sinks/sink.h"

namespace metlog {
namespace {

constexpr absl::string_view kDefaultConfig = R"pb(
  inputs {
    name: "zmq"
    options {
      [type.googleapis.com/metlog.v1.ZmqInputConfig] {
        endpoint: "tcp://127.0.0.1:5565"
      }
    }
  }
  # Admin.Publish, on the admin port.
  inputs {
    name: "grpc"
    options {
      [type.googleapis.com/metlog.v1.GrpcPublishInputConfig] {}
    }
  }
  admin { listen_address: "127.0.0.1:5566" }
  sinks {
    name: "console"
    match: "TRUE"
    queue { capacity_messages: 1000000 capacity_bytes: 268435456 }
    options {
      [type.googleapis.com/metlog.sinks.ConsoleOptions] {
        encoding { codec: TEXT }
      }
    }
  }
  sinks {
    name: "file"
    match: "TRUE"
    queue { capacity_messages: 1000000 capacity_bytes: 268435456 }
    options {
      [type.googleapis.com/metlog.sinks.FileOptions] {
        path: "metlog.jsonl"
        encoding { codec: JSON }
      }
    }
  }
)pb";

absl::Status Validate(const v1::RouterConfig& config,
                      absl::string_view source) {
  if (config.inputs_size() == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(source,
                     ": no inputs: add e.g. inputs { options { "
                     "[type.googleapis.com/metlog.v1.ZmqInputConfig] {} } }"));
  }
  if (config.sinks_size() == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": no sinks: messages would go nowhere"));
  }
  absl::flat_hash_set<std::string> names;
  for (const v1::SinkConfig& sink : config.sinks()) {
    if (sink.name().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": every sink needs a name"));
    }
    if (!names.insert(sink.name()).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ": sink name \"", sink.name(), "\" is used twice"));
    }
    const v1::QueueConfig& queue = sink.queue();
    if (queue.capacity_messages() == 0 || queue.capacity_bytes() == 0 ||
        queue.max_batch_messages() == 0 || queue.max_batch_bytes() == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ": sink \"", sink.name(),
          "\": queue capacities and batch sizes must be at least 1"));
    }
    // 0 would fail every write at once, so nothing could be delivered.
    if (queue.write_timeout_ms() == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": sink \"", sink.name(),
                       "\": queue write_timeout_ms must be at least 1"));
    }
    if (!sink.has_options()) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ": sink \"", sink.name(), "\" has no options; known types: ",
          absl::StrJoin(SinkRegistry::Global().KnownTypes(), ", ")));
    }
  }
  if (absl::Status status = CheckInputsAndLimits(config); !status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": ", status.message()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::RouterConfig> ParseRouterConfig(absl::string_view text,
                                                   absl::string_view source) {
  v1::RouterConfig config;
  if (absl::Status status = ParseTextProto(text, source, &config);
      !status.ok()) {
    return status;
  }
  if (absl::Status status = Validate(config, source); !status.ok()) {
    return status;
  }
  return config;
}

absl::StatusOr<v1::RouterConfig> LoadRouterConfig(const std::string& path) {
  v1::RouterConfig config;
  if (absl::Status status = ReadTextProto(path, &config); !status.ok()) {
    return status;
  }
  if (absl::Status status = Validate(config, path); !status.ok()) {
    return status;
  }
  return config;
}

v1::RouterConfig DefaultRouterConfig() {
  absl::StatusOr<v1::RouterConfig> config =
      ParseRouterConfig(kDefaultConfig, "embedded default");
  // The embedded text is fixed at build time and covered by a test.
  return config.ok() ? *std::move(config) : v1::RouterConfig();
}

}  // namespace metlog
