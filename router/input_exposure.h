// Inputs that take packets from beyond this host with nothing deciding who
// may send: the config is valid, but `--check` and start-up say so.
#ifndef METLOG_ROUTER_INPUT_EXPOSURE_H_
#define METLOG_ROUTER_INPUT_EXPOSURE_H_

#include <string>
#include <vector>

#include "proto/config.pb.h"

namespace metlog {

// One line per input that binds beyond loopback with nothing deciding who
// may send: neither require_signature nor, on ZeroMQ inputs, CURVE; and one
// for the gRPC server (Publish, and the Admin calls) beyond loopback without
// TLS that requires client certificates.
std::vector<std::string> ExposedInputWarnings(const v1::RouterConfig& config);

}  // namespace metlog

#endif  // METLOG_ROUTER_INPUT_EXPOSURE_H_
