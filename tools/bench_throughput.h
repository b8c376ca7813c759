// Router throughput for //tools:bench: the real router binary fed packets
// as fast as it takes them, counted by its sinks.
#ifndef METLOG_TOOLS_BENCH_THROUGHPUT_H_
#define METLOG_TOOLS_BENCH_THROUGHPUT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace metlog {

struct BenchEnvironment {
  std::string router_binary;
  std::string scratch_dir;  // config files, router logs, sink files
};

// Starts the router on `config`, pushes `packet` at it without pause,
// and returns deliveries per second over `duration` (after a warm-up),
// summed over the sinks whose name starts with `sink_prefix`.
absl::StatusOr<double> RouterDeliveriesPerSecond(
    const BenchEnvironment& environment, const std::string& config,
    const std::string& packet, absl::string_view sink_prefix,
    absl::Duration duration);

struct RouterBesideRaw {
  double raw_messages_per_second = 0;
  double router_messages_per_second = 0;
};

// The router on `config` (deliveries by the sinks named `sink_prefix`...)
// and raw libzmq carrying frames of the packet's size, counted as
// `messages_per_packet` messages each. Both are measured in turns, in
// `slices` slices of `duration` / `slices` each, and the median slice of
// each is returned: a change in the machine's load then affects both alike.
absl::StatusOr<RouterBesideRaw> MeasureRouterBesideRawZmq(
    const BenchEnvironment& environment, const std::string& config,
    const std::string& packet, int messages_per_packet,
    absl::string_view sink_prefix, absl::Duration duration, int slices = 3);

}  // namespace metlog

#endif  // METLOG_TOOLS_BENCH_THROUGHPUT_H_
