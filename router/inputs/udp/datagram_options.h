// Checks on the options every UDP input kind shares (udp, statsd,
// metlog_json): the address to listen on and the receive buffer.
#ifndef METLOG_ROUTER_INPUTS_UDP_DATAGRAM_OPTIONS_H_
#define METLOG_ROUTER_INPUTS_UDP_DATAGRAM_OPTIONS_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace metlog {

// Beyond this a receive buffer is a typo.
inline constexpr uint32_t kMaxReceiveBufferBytes = 1u << 30;

// InvalidArgument naming the option: `address` is not host:port (port 0
// allowed), or `receive_buffer_bytes` is not in 1..kMaxReceiveBufferBytes;
// Unavailable when the host does not resolve, as start-up would fail.
// Unavailable when the host does not resolve, as start-up would fail.
absl::Status CheckDatagramOptions(absl::string_view address,
                                  uint32_t receive_buffer_bytes);

}  // namespace metlog

#endif  // METLOG_ROUTER_INPUTS_UDP_DATAGRAM_OPTIONS_H_
