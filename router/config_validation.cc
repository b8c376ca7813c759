#include "router/config_validation.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "sinks/host_port.h"

namespace metlog {
namespace {

absl::Status OutOfRange(absl::string_view what, int64_t value, int64_t lowest,
                        int64_t highest) {
  return absl::InvalidArgumentError(absl::StrCat(
      what, " is ", value, "; it must be in ", lowest, "..", highest));
}

absl::Status CheckZmq(const v1::ZmqInputConfig& zmq, const std::string& name) {
  const std::string& endpoint = zmq.endpoint();
  const size_t scheme = endpoint.find("://");
  if (scheme == std::string::npos || scheme == 0 ||
      scheme + 3 == endpoint.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": endpoint \"", endpoint,
                     "\" is not transport://address (e.g. "
                     "tcp://127.0.0.1:5565)"));
  }
  // 0 would be ZeroMQ's "no limit": unbounded memory for one slow router.
  if (zmq.receive_hwm() < 1 || zmq.receive_hwm() > kMaxReceiveHwm) {
    return OutOfRange(absl::StrCat(name, ": receive_hwm"), zmq.receive_hwm(), 1,
                      kMaxReceiveHwm);
  }
  if (zmq.decode_threads() < 1 || zmq.decode_threads() > kMaxDecodeThreads) {
    return OutOfRange(absl::StrCat(name, ": decode_threads"),
                      zmq.decode_threads(), 1, kMaxDecodeThreads);
  }
  return absl::OkStatus();
}

absl::Status CheckUdp(const v1::UdpInputConfig& udp, const std::string& name) {
  if (absl::Status status = CheckHostPort(absl::StrCat(name, ": address"),
                                          udp.address(), PortZero::kAllowed);
      !status.ok()) {
    return status;
  }
  if (udp.receive_buffer_bytes() < 1 ||
      udp.receive_buffer_bytes() > kMaxReceiveBufferBytes) {
    return OutOfRange(absl::StrCat(name, ": receive_buffer_bytes"),
                      udp.receive_buffer_bytes(), 1, kMaxReceiveBufferBytes);
  }
  return absl::OkStatus();
}

absl::Status CheckStatsd(const v1::StatsdInputConfig& statsd,
                         const std::string& name) {
  if (statsd.reader_threads() < 1 ||
      statsd.reader_threads() > kMaxDecodeThreads) {
    return OutOfRange(absl::StrCat(name, ": reader_threads"),
                      statsd.reader_threads(), 1, kMaxDecodeThreads);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckInputsAndLimits(const v1::RouterConfig& config) {
  for (const v1::InputConfig& input : config.inputs()) {
    const std::string name = absl::StrCat("input \"",
                                          !input.name().empty() ? input.name()
                                          : input.has_zmq()     ? "zmq"
                                                                : "udp",
                                          "\"");
    absl::Status status;
    if (input.has_zmq()) status = CheckZmq(input.zmq(), name);
    if (input.has_udp()) status = CheckUdp(input.udp(), name);
    if (input.has_statsd()) status = CheckStatsd(input.statsd(), name);
    if (!status.ok()) return status;
  }
  // Empty turns the admin service off.
  if (!config.admin().listen_address().empty()) {
    if (absl::Status status =
            CheckHostPort("admin: listen_address",
                          config.admin().listen_address(), PortZero::kAllowed);
        !status.ok()) {
      return status;
    }
  }
  const v1::LimitsConfig& limits = config.limits();
  if (limits.max_packet_bytes() < 1 ||
      limits.max_packet_bytes() > kMaxPacketBytes) {
    return OutOfRange("limits: max_packet_bytes", limits.max_packet_bytes(), 1,
                      kMaxPacketBytes);
  }
  if (limits.max_message_bytes() < 1 ||
      limits.max_message_bytes() > kMaxPacketBytes) {
    return OutOfRange("limits: max_message_bytes", limits.max_message_bytes(),
                      1, kMaxPacketBytes);
  }
  if (config.shutdown_deadline_ms() > kMaxShutdownDeadlineMs) {
    return OutOfRange("shutdown_deadline_ms", config.shutdown_deadline_ms(), 0,
                      kMaxShutdownDeadlineMs);
  }
  return absl::OkStatus();
}

}  // namespace metlog
