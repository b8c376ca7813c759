// The router's memory for //tools:bench, read from /proc: idle, and under
// overload (a sink slower than the input, behind its default bounded
// queue, while packets arrive as fast as the router takes them).
#ifndef METLOG_TOOLS_BENCH_MEMORY_H_
#define METLOG_TOOLS_BENCH_MEMORY_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tools/bench_throughput.h"

namespace metlog {

struct RouterMemory {
  uint64_t idle_bytes = 0;           // VmRSS once started, before any load
  uint64_t overload_peak_bytes = 0;  // VmHWM at the end of the overload
  uint64_t overload_end_bytes = 0;   // VmRSS at the end of the overload
  uint64_t received = 0;             // messages the slow sink was offered
  uint64_t delivered = 0;            // of those, written
  uint64_t dropped = 0;              // of those, dropped at its full queue
  uint64_t queued = 0;               // in its queue at the end
  uint64_t queued_bytes = 0;         // what those are charged (Stats)
};

// The slow sink is a file sink writing into a named pipe that this process
// reads at 1 MiB/s (about 8 k messages per second, a small fraction of what
// the router takes in); `packet` is pushed without pause for `duration`.
absl::StatusOr<RouterMemory> MeasureRouterMemory(
    const BenchEnvironment& environment, const std::string& packet,
    absl::Duration duration);

}  // namespace metlog

#endif  // METLOG_TOOLS_BENCH_MEMORY_H_
