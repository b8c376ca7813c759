// Checks on the router's own options (admin, limits) and every input's
// (through its kind's InputFactory) that the schema cannot express:
// everything start-up would refuse, or would accept and then misbehave on,
// is refused when the config is loaded, so that `router --check` says so.
// Sinks check their own options in their factories (sinks/<name>/).
#ifndef METLOG_ROUTER_CONFIG_VALIDATION_H_
#define METLOG_ROUTER_CONFIG_VALIDATION_H_

#include <cstdint>

#include "absl/status/status.h"
#include "proto/config.pb.h"

namespace metlog {

// Bounds a config must keep; beyond them a value is a typo or unbounded.
inline constexpr uint32_t kMaxPacketBytes = 256u << 20;
inline constexpr uint32_t kMaxShutdownDeadlineMs = 3600 * 1000;

// InvalidArgument naming the input or option and its allowed range, e.g.
//   input "zmq": decode_threads is 100000; it must be in 1..64
absl::Status CheckInputsAndLimits(const v1::RouterConfig& config);

}  // namespace metlog

#endif  // METLOG_ROUTER_CONFIG_VALIDATION_H_
