#include "tools/bench_config.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/substitute.h"

namespace metlog {

std::string BenchRouterConfig(const std::vector<BenchSink>& sinks) {
  std::string config = R"pb(
    inputs {
      options {
        [type.googleapis.com/metlog.v1.ZmqInputConfig] {
          endpoint: "tcp://127.0.0.1:*"
        }
      }
    }
    admin { listen_address: "127.0.0.1:0" }
    stats_interval_ms: 0
    shutdown_deadline_ms: 1000
  )pb";
  for (const BenchSink& sink : sinks) {
    absl::StrAppend(
        &config,
        absl::Substitute("sinks { name: \"$0\" match: '$1' queue { $2 } "
                         "options { $3 } }\n",
                         sink.name, sink.match, sink.queue, sink.options));
  }
  return config;
}

std::string NullSinkOptions() {
  return "[type.googleapis.com/metlog.sinks.NullOptions] {}";
}

std::string ProtobufFileSinkOptions(const std::string& path) {
  return absl::Substitute(
      "[type.googleapis.com/metlog.sinks.FileOptions] { path: \"$0\" "
      "max_bytes: 0 encoding { codec: PROTOBUF } }",
      path);
}

}  // namespace metlog
