// The CPU cost of the router's hot path without the network: decoding a
// packet, and decoding plus routing it to three null sinks.
//   bazel run -c opt //router:packet_decoder_benchmark
#include "absl/synchronization/mutex.h"
#include "benchmark/benchmark.h"
#include "router/packet_decoder.h"
#include "router/router.h"
#include "tools/benchmark_workload.h"

namespace metlog {
namespace {

void BM_Decode(benchmark::State& state) {
  const std::string packet = BenchmarkPacket(state.range(0));
  PacketDecoder decoder{v1::LimitsConfig()};
  for (auto _ : state) benchmark::DoNotOptimize(decoder.Decode(packet));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Decode)->Arg(1)->Arg(100);

void BM_DecodeAndRoute(benchmark::State& state) {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  auto router = Router::Create(BenchmarkRouterConfig(/*decode_threads=*/1));
  const std::string packet = BenchmarkPacket(state.range(0));
  PacketDecoder decoder{v1::LimitsConfig()};
  for (auto _ : state) (*router)->Dispatch({decoder.Decode(packet).packet});
  (*router)->Stop();
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_DecodeAndRoute)->Arg(1)->Arg(100)->UseRealTime();

}  // namespace
}  // namespace metlog
