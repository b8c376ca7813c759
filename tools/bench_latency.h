// End-to-end latency for //tools:bench: client -> router -> file sink.
//
// Method: one client thread calls Incr() at a steady rate; the client
// stamps each message with the wall clock at the call. The router (the real
// binary) writes every message to a file sink as length-delimited protobuf
// records. This process waits on inotify for each write to the file, reads
// the new records, and takes as latency the wall clock read right after the
// read minus the record's timestamp: from the call to the moment the record
// is in the file (the page cache; no fsync). Client and reader share one
// clock, so no clock sync is involved.
#ifndef METLOG_TOOLS_BENCH_LATENCY_H_
#define METLOG_TOOLS_BENCH_LATENCY_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tools/bench_throughput.h"

namespace metlog {

struct BatchingSettings {
  // The client's QueuedSender::Options::linger.
  absl::Duration client_linger;
  // The file sink's queue { flush_interval_ms }.
  uint32_t sink_flush_interval_ms = 0;
};

struct LatencyResult {
  absl::Duration p50, p99, p999, max;
  uint64_t sent = 0;      // messages the client was asked to send (timed)
  uint64_t received = 0;  // of those, found in the file
};

// Sends `rate` messages per second for a warm-up and then `duration`, and
// returns the latency percentiles of the messages sent after the warm-up.
absl::StatusOr<LatencyResult> MeasureEndToEndLatency(
    const BenchEnvironment& environment, const BatchingSettings& batching,
    double rate, absl::Duration duration);

}  // namespace metlog

#endif  // METLOG_TOOLS_BENCH_LATENCY_H_
