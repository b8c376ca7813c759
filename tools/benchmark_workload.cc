#include "tools/benchmark_workload.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "client/envelope/field.h"
#include "router/config_loader.h"

namespace metlog {
namespace {

v1::Message Metric(int i) {
  v1::Message m;
  m.set_uuid(std::string(16, 'u'));
  m.set_timestamp(1764085500000000000 + i);
  m.set_type(i % 2 == 0 ? "counter" : "timer");
  m.set_logger("checkout-service");
  m.set_severity(6);
  m.set_payload("1");
  m.set_env_version("1.0");
  m.set_pid(4242);
  m.set_hostname("web-1.example");
  *m.add_fields() =
      MakeField("name", i % 3 == 0 ? "db.query" : "orders.placed");
  *m.add_fields() = MakeField("rate", 1.0);
  return m;
}

}  // namespace

std::string BenchmarkPacket(int messages) {
  v1::Batch batch;
  for (int i = 0; i < messages; ++i) *batch.add_messages() = Metric(i);
  v1::Packet packet;
  batch.SerializeToString(packet.mutable_batch());
  return packet.SerializeAsString();
}

v1::RouterConfig BenchmarkRouterConfig(int decode_threads,
                                       bool sinks_read_messages) {
  const std::string null_options = absl::StrCat(
      "[type.googleapis.com/metlog.sinks.NullOptions] { ",
      "read_messages: ", sinks_read_messages ? "true" : "false", " }");
  auto config =
      ParseRouterConfig(absl::StrCat(
                            R"pb(
                              inputs { options {
                                [type.googleapis.com/metlog.v1.ZmqInputConfig] {
                                  endpoint: "tcp://127.0.0.1:*"
                                  decode_threads:)pb",
                            decode_threads, R"pb(
                              }
                              }
            }
            admin { listen_address: "" }
            stats_interval_ms: 0
            sinks {
              name: "counters"
              match: 'Type == "counter"'
              queue { overflow: BLOCK }
              options { )pb",
                            null_options, R"pb(}
                                               }
            sinks {
              name: "slow_or_db"
              match: 'Type == "timer" && Severity <= 4 || Fields[name] =~ /^db\\./'
              queue { overflow: BLOCK }
              options { )pb",
                            null_options, R"pb(}
                                               }
            sinks {
              name: "all"
              queue { overflow: BLOCK }
              options { )pb",
                            null_options, R"pb(}
                                               }
          )pb"),
                        "benchmark workload");
  // The text is fixed here; failing to parse it is a bug in this file.
  if (!config.ok()) std::abort();
  return *config;
}

}  // namespace metlog
