// Builds a Client from a text-proto ClientConfig (proto/client_config.proto)
// and the environment:
//   METLOG_CONFIG              a ClientConfig file read first
//                              (MakeClientFromEnvironment, DefaultClient)
//   METLOG_ENDPOINT            replaces the ZeroMQ endpoints with this one
//   METLOG_LOGGER              replaces the logger
//   METLOG_SEVERITY            replaces the default severity (0..7)
//   METLOG_SIGNER              signs packets as this signer, with the key in
//   METLOG_SIGNER_KEY          and the version in
//   METLOG_SIGNER_KEY_VERSION  (default 1)
//   METLOG_FLUSH_AT_EXIT_MS    sets flush_at_exit_ms
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

// Reads and parses a ClientConfig file.
absl::StatusOr<v1::ClientConfig> LoadClientConfig(const std::string& path);

// `config` with the METLOG_* variables above (but METLOG_CONFIG) applied;
// an error names a variable whose value is not valid.
absl::StatusOr<v1::ClientConfig> WithEnvironment(v1::ClientConfig config);

// The configured sender. Fails for addresses that cannot work, malformed
// keys or paths, and exhausted resources; a missing router is not an error.
// With no endpoints, tcp://127.0.0.1:5565.
absl::StatusOr<std::unique_ptr<Sender>> MakeConfiguredSender(
    const v1::ClientConfig& config);

// Creates the configured sender and a Client on it.
absl::StatusOr<std::unique_ptr<Client>> MakeClient(
    const v1::ClientConfig& config);

// The configuration from METLOG_CONFIG (when set) and the environment, with
// `logger` unless either names one.
absl::StatusOr<v1::ClientConfig> ConfigFromEnvironment(std::string logger);

// MakeClient(ConfigFromEnvironment(logger)).
absl::StatusOr<std::unique_ptr<Client>> MakeClientFromEnvironment(
    std::string logger);

}  // namespace metlog

#endif  // METLOG_CLIENT_CLIENT_CONFIG_H_
