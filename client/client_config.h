// Builds a Client from a text-proto ClientConfig (proto/client_config.proto)
// and the environment:
//   METLOG_ENDPOINT  replaces the ZeroMQ endpoints with this one
//   METLOG_LOGGER    replaces the logger
// The environment wins, so one binary can be pointed elsewhere per deployment.
#ifndef METLOG_CLIENT_CLIENT_CONFIG_H_
#define METLOG_CLIENT_CLIENT_CONFIG_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/metlog.h"
#include "proto/client_config.pb.h"

namespace metlog {

// Errors read "SOURCE:LINE:COLUMN: what".
absl::StatusOr<v1::ClientConfig> ParseClientConfig(
    absl::string_view text, absl::string_view source = "client config");

// `config` with METLOG_ENDPOINT and METLOG_LOGGER applied.
v1::ClientConfig WithEnvironment(v1::ClientConfig config);

// Creates the configured sender and a Client on it. Fails only for malformed
// addresses, keys or paths; a missing router is not an error. With no
// endpoints, tcp://127.0.0.1:5565.
absl::StatusOr<std::unique_ptr<Client>> MakeClient(
    const v1::ClientConfig& config);

// MakeClient of the defaults, `logger`, and the environment.
absl::StatusOr<std::unique_ptr<Client>> MakeClientFromEnvironment(
    std::string logger);

}  // namespace metlog

#endif  // METLOG_CLIENT_CLIENT_CONFIG_H_
