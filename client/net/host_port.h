// Checks "host:port" option text before anything resolves or binds it, so a
// config naming an impossible address is refused when it is loaded, not
// when a sink or input starts.
#ifndef METLOG_CLIENT_NET_HOST_PORT_H_
#define METLOG_CLIENT_NET_HOST_PORT_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace metlog {

enum class PortZero { kRefused, kAllowed };

// OK when `value` is a non-empty host, ':' and a decimal port in 1..65535
// (0..65535 with PortZero::kAllowed, for listening on a free port). The
// host itself is left to the resolver (a name may resolve later).
// Otherwise InvalidArgument naming `option`, e.g.
//   address "127.0.0.1" is not host:port
//   listen_address "127.0.0.1:99999": port 99999 is not in 0..65535
absl::Status CheckHostPort(absl::string_view option, absl::string_view value,
                           PortZero port_zero);

}  // namespace metlog

#endif  // METLOG_CLIENT_NET_HOST_PORT_H_
