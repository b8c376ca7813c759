// The router configs //tools:bench runs, all written here: when the config's
// form changes (inputs becoming Any options, say), this is the one place to
// adapt.
#ifndef METLOG_TOOLS_BENCH_CONFIG_H_
#define METLOG_TOOLS_BENCH_CONFIG_H_

#include <string>
#include <vector>

namespace metlog {

struct BenchSink {
  std::string name;
  std::string match = "TRUE";
  // QueueConfig fields in text format; empty keeps the defaults.
  std::string queue;
  // The sink's options (the Any) in text format, from the functions below.
  std::string options;
};

// A router with one ZeroMQ PULL input on a free loopback port, admin on a
// free loopback port (the bench reads Stats from it), no self-stats and a
// 1 s shutdown deadline, and `sinks`.
std::string BenchRouterConfig(const std::vector<BenchSink>& sinks);

// Options of a null sink (discards, counts).
std::string NullSinkOptions();
// Options of a file sink writing length-delimited protobuf records to `path`.
std::string ProtobufFileSinkOptions(const std::string& path);

}  // namespace metlog

#endif  // METLOG_TOOLS_BENCH_CONFIG_H_
