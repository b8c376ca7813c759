#include "tools/bench_throughput.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "absl/time/clock.h"
#include "tools/bench_load.h"
#include "tools/bench_router.h"

namespace metlog {
namespace {

absl::Duration WarmUp(absl::Duration duration) {
  return std::min(duration / 5, absl::Seconds(1));
}

// Deliveries per second by `router`'s sinks named `sink_prefix`... while
// `packet` is pushed at it, over `duration` after a warm-up.
absl::StatusOr<double> MeasureDeliveries(const BenchRouter& router,
                                         const std::string& packet,
                                         absl::string_view sink_prefix,
                                         absl::Duration duration) {
  FramePusher pusher(router.endpoint(), packet);
  absl::SleepFor(WarmUp(duration));
  const absl::StatusOr<uint64_t> before = router.Delivered(sink_prefix);
  const absl::Time start = absl::Now();
  absl::SleepFor(duration);
  const absl::StatusOr<uint64_t> after = router.Delivered(sink_prefix);
  const absl::Time end = absl::Now();
  if (!before.ok()) return before.status();
  if (!after.ok()) return after.status();
  return (*after - *before) / absl::ToDoubleSeconds(end - start);
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

absl::StatusOr<double> RouterDeliveriesPerSecond(
    const BenchEnvironment& environment, const std::string& config,
    const std::string& packet, absl::string_view sink_prefix,
    absl::Duration duration) {
  absl::StatusOr<std::unique_ptr<BenchRouter>> router = BenchRouter::Start(
      environment.router_binary, config, environment.scratch_dir);
  if (!router.ok()) return router.status();
  return MeasureDeliveries(**router, packet, sink_prefix, duration);
}

absl::StatusOr<RouterBesideRaw> MeasureRouterBesideRawZmq(
    const BenchEnvironment& environment, const std::string& config,
    const std::string& packet, int messages_per_packet,
    absl::string_view sink_prefix, absl::Duration duration, int slices) {
  absl::StatusOr<std::unique_ptr<BenchRouter>> router = BenchRouter::Start(
      environment.router_binary, config, environment.scratch_dir);
  if (!router.ok()) return router.status();
  const absl::Duration slice = duration / slices;
  std::vector<double> raw, routed;
  for (int i = 0; i < slices; ++i) {
    raw.push_back(RawZmqFramesPerSecond(packet.size(), slice) *
                  messages_per_packet);
    absl::StatusOr<double> delivered =
        MeasureDeliveries(**router, packet, sink_prefix, slice);
    if (!delivered.ok()) return delivered.status();
    routed.push_back(*delivered);
  }
  RouterBesideRaw result;
  result.raw_messages_per_second = Median(raw);
  result.router_messages_per_second = Median(routed);
  return result;
}

}  // namespace metlog
