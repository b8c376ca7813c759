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
// unique sink names, every sink's options type registered, and the inputs'
// and limits' ranges (config_validation.h). Sink options are checked by
// Router::Check, through each sink's factory.
absl::StatusOr<v1::RouterConfig> ParseRouterConfig(absl::string_view text,
                                                   absl::string_view source);

// Reads and parses a file.
absl::StatusOr<v1::RouterConfig> LoadRouterConfig(const std::string& path);

// ZeroMQ PULL on tcp://127.0.0.1:5565, admin on 127.0.0.1:5566, and two
// sinks taking everything: the console, and metlog.jsonl in the working
// directory.
v1::RouterConfig DefaultRouterConfig();

}  // namespace metlog

#endif  // METLOG_ROUTER_CONFIG_LOADER_H_
