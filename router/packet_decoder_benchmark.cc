// The CPU cost of the router's hot path without the network: decoding a
// packet, and decoding plus routing it to three null sinks.
//   bazel run -c opt //router:packet_decoder_benchmark
#include "absl/synchronization/mutex.h"
#include "benchmark/benchmark.h"
#include "client/field.h"
#include "router/config_loader.h"
#include "router/packet_decoder.h"
#include "router/router.h"

namespace metlog {
namespace {

std::string Packet(int messages) {
  v1::Batch batch;
  for (int i = 0; i < messages; ++i) {
    v1::Message* m = batch.add_messages();
    m->set_uuid(std::string(16, 'u'));
    m->set_timestamp(1764085500000000000 + i);
    m->set_type(i % 2 == 0 ? "counter" : "timer");
    m->set_logger("checkout-service");
    m->set_severity(6);
    m->set_payload("1");
    m->set_env_version("1.0");
    m->set_pid(4242);
    m->set_hostname("web-1.example");
    *m->add_fields() = MakeField("name", i % 3 == 0 ? "db.query" : "orders");
    *m->add_fields() = MakeField("rate", 1.0);
  }
  v1::Packet packet;
  batch.SerializeToString(packet.mutable_batch());
  return packet.SerializeAsString();
}

void BM_Decode(benchmark::State& state) {
  const std::string packet = Packet(state.range(0));
  PacketDecoder decoder{v1::LimitsConfig()};
  for (auto _ : state) benchmark::DoNotOptimize(decoder.Decode(packet));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Decode)->Arg(1)->Arg(100);

void BM_DecodeAndRoute(benchmark::State& state) {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  auto config = ParseRouterConfig(R"pb(
    inputs { zmq { endpoint: "tcp://127.0.0.1:*" } }
    admin { listen_address: "" }
    stats_interval_ms: 0
    sinks { name: "counters" match: 'Type == "counter"'
            queue { overflow: BLOCK }
            options { [type.googleapis.com/metlog.sinks.NullOptions] {} } }
    sinks { name: "slow_or_db"
            match: 'Type == "timer" && Severity <= 4 || Fields[name] =~ /^db\\./'
            queue { overflow: BLOCK }
            options { [type.googleapis.com/metlog.sinks.NullOptions] {} } }
    sinks { name: "all" queue { overflow: BLOCK }
            options { [type.googleapis.com/metlog.sinks.NullOptions] {} } }
  )pb", "benchmark");
  auto router = Router::Create(*config);
  const std::string packet = Packet(state.range(0));
  PacketDecoder decoder{v1::LimitsConfig()};
  for (auto _ : state) (*router)->Dispatch(decoder.Decode(packet).messages);
  (*router)->Stop();
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_DecodeAndRoute)->Arg(1)->Arg(100)->UseRealTime();

}  // namespace
}  // namespace metlog
