// The statsd input's decoding cost per line, without the network:
//   bazel run -c opt //router/inputs/statsd:statsd_decoder_benchmark
#include <string>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "router/inputs/statsd/statsd_decoder.h"

namespace metlog {
namespace {

// A datagram of `lines` counters, timers and gauges, as the side-by-side
// benchmark (tools/statsd_benchmark.cc) sends them.
std::string Datagram(int lines) {
  std::string datagram;
  for (int n = 0; n < lines; ++n) {
    if (n > 0) datagram += '\n';
    switch (n % 3) {
      case 0:
        absl::StrAppend(&datagram, "bench.hits.", n, ":1|c");
        break;
      case 1:
        absl::StrAppend(&datagram, "bench.latency.", n, ":", n * 7, ".5|ms");
        break;
      default:
        absl::StrAppend(&datagram, "bench.depth.", n, ":", n % 70, "|g");
    }
  }
  return datagram;
}

void BM_Decode(benchmark::State& state) {
  const std::string datagram = Datagram(state.range(0));
  StatsdDecoder decoder{v1::LimitsConfig()};
  for (auto _ : state) benchmark::DoNotOptimize(decoder.Decode(datagram));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_Decode)->Arg(1)->Arg(20);

void BM_DecodeTagged(benchmark::State& state) {
  const std::string datagram =
      "api.requests:1|c|@0.5|#env:prod,region:eu-west-1,canary";
  StatsdDecoder decoder{v1::LimitsConfig()};
  for (auto _ : state) benchmark::DoNotOptimize(decoder.Decode(datagram));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeTagged);

}  // namespace
}  // namespace metlog
