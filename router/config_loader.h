// Reads the router's text-proto config, and the embedded default used when
// no file is given. Errors name the file, line and column.
#ifndef METLOG_ROUTER_CONFIG_LOADER_H_
#define METLOG_ROUTER_CONFIG_LOADER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/config.pb.h"

namespace metlog {

// Parses `text`; `source` names it in errors ("router.textproto:3:14: ...").
// Also checks what the schema cannot: at least one input and one sink,
// unique sink names, every sink with options, every input's options type
// registered and its options valid (through its InputFactory), and the
// router's own ranges (config_validation.h). Sink options are checked by
// Router::Check, through each sink's factory. Option types linked into
// the program but of the wrong kind (a sink's in an input) are refused
// here; types not linked at all, and unknown fields, fail the parse with
// line and column.
absl::StatusOr<v1::RouterConfig> ParseRouterConfig(absl::string_view text,
                                                   absl::string_view source);

// Reads and parses a file.
absl::StatusOr<v1::RouterConfig> LoadRouterConfig(const std::string& path);

// ZeroMQ PULL on tcp://127.0.0.1:5565, admin on 127.0.0.1:5566 with
// Admin.Publish served there (the grpc/publish input), and two sinks
// taking everything: the console, and metlog.jsonl in the working
// directory. Needs the zmq and grpc/publish inputs and the console and
// file sinks linked in (//router does); empty otherwise.
v1::RouterConfig DefaultRouterConfig();

}  // namespace metlog

#endif  // METLOG_ROUTER_CONFIG_LOADER_H_
