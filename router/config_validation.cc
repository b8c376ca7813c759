#include "router/config_validation.h"

#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "client/net/host_port.h"
#include "router/grpc_tls.h"
#include "router/input_registry.h"

namespace metlog {

absl::Status CheckInputsAndLimits(const v1::RouterConfig& config) {
  // Stats, logs and self-stats fields are keyed by input name.
  absl::flat_hash_set<std::string> names;
  for (const v1::InputConfig& input : config.inputs()) {
    if (absl::Status status = InputRegistry::Global().Check(input, config);
        !status.ok()) {
      return status;
    }
    if (const std::string name = InputRegistry::Global().NameOf(input);
        !names.insert(name).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "input name \"", name,
          "\" is used twice (an unnamed input is named after its kind): "
          "give each input a name of its own"));
    }
  }
  // Empty turns the admin service off.
  if (!config.admin().listen_address().empty()) {
    if (absl::Status status =
            CheckHostPort("admin: listen_address",
                          config.admin().listen_address(), PortZero::kAllowed);
        !status.ok()) {
      return status;
    }
    if (absl::Status status = CheckServerTls(
            config.admin().has_tls() ? &config.admin().tls() : nullptr,
            "admin tls");
        !status.ok()) {
      return status;
    }
  }
  const v1::LimitsConfig& limits = config.limits();
  if (limits.max_packet_bytes() < 1 ||
      limits.max_packet_bytes() > kMaxPacketBytes) {
    return OptionOutOfRange("limits: max_packet_bytes",
                            limits.max_packet_bytes(), 1, kMaxPacketBytes);
  }
  if (limits.max_message_bytes() < 1 ||
      limits.max_message_bytes() > kMaxPacketBytes) {
    return OptionOutOfRange("limits: max_message_bytes",
                            limits.max_message_bytes(), 1, kMaxPacketBytes);
  }
  if (config.shutdown_deadline_ms() > kMaxShutdownDeadlineMs) {
    return OptionOutOfRange("shutdown_deadline_ms",
                            config.shutdown_deadline_ms(), 0,
                            kMaxShutdownDeadlineMs);
  }
  return absl::OkStatus();
}

}  // namespace metlog
