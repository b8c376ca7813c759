#include "tools/bench_throughput.h"

#include <algorithm>

#include "absl/time/clock.h"
#include "tools/bench_load.h"
#include "tools/bench_router.h"

namespace metlog {

absl::StatusOr<double> RouterDeliveriesPerSecond(
    const BenchEnvironment& environment, const std::string& config,
    const std::string& packet, absl::string_view sink_prefix,
    absl::Duration duration) {
  absl::StatusOr<std::unique_ptr<BenchRouter>> router = BenchRouter::Start(
      environment.router_binary, config, environment.scratch_dir);
  if (!router.ok()) return router.status();
  FramePusher pusher((*router)->endpoint(), packet);
  absl::SleepFor(std::min(duration / 5, absl::Seconds(1)));  // warm-up
  const absl::StatusOr<uint64_t> before = (*router)->Delivered(sink_prefix);
  const absl::Time start = absl::Now();
  absl::SleepFor(duration);
  const absl::StatusOr<uint64_t> after = (*router)->Delivered(sink_prefix);
  const absl::Time end = absl::Now();
  if (!before.ok()) return before.status();
  if (!after.ok()) return after.status();
  return (*after - *before) / absl::ToDoubleSeconds(end - start);
}

}  // namespace metlog
