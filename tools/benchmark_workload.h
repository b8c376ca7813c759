// The workload the router benchmarks share: realistic metric messages in
// packets, and a router with three typical matchers in front of null sinks.
#ifndef METLOG_TOOLS_BENCHMARK_WORKLOAD_H_
#define METLOG_TOOLS_BENCHMARK_WORKLOAD_H_

#include <string>

#include "proto/config.pb.h"

namespace metlog {

// A serialized Packet of `messages` counters and timers of about 117 bytes
// each (the size of a typical Heka message).
std::string BenchmarkPacket(int messages);

// ZeroMQ input on a free loopback port with `decode_threads`, no admin, no
// self-stats, and three null sinks with BLOCK overflow (so nothing is
// dropped): counters, slow-or-db timers, and "all". With
// `sinks_read_messages` the sinks parse every message they get, as sinks
// that use their messages would.
v1::RouterConfig BenchmarkRouterConfig(int decode_threads,
                                       bool sinks_read_messages = false);

}  // namespace metlog

#endif  // METLOG_TOOLS_BENCHMARK_WORKLOAD_H_
