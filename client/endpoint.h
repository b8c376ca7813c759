// Checks a ZeroMQ endpoint before a socket connects to it or binds it, so
// that one that cannot work fails at construction (a client) or at
// `router --check` (an input) with a clear error, instead of dropping every
// message as unsent or failing, or listening on the wrong port, at start-up.
#ifndef METLOG_CLIENT_ENDPOINT_H_
#define METLOG_CLIENT_ENDPOINT_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace metlog {

// tcp://HOST:PORT with PORT in 1..65535 and HOST an IPv4 address, a
// bracketed IPv6 address or a name that resolves now (Unavailable when it
// does not, as for the UDP sender); ipc://PATH whose directory exists (or
// ipc://@abstract); inproc://NAME. Anything else is InvalidArgument.
absl::Status CheckConnectEndpoint(absl::string_view endpoint);

// What ZeroMQ 4.3 can bind: tcp://HOST:PORT with PORT in 0..65535 or `*`
// (both mean a free port ZeroMQ picks) and HOST `*`, an IPv4 address of this
// host, a bracketed IPv6 address of this host or a network interface name
// (ZeroMQ resolves no host names to bind); ipc:// and inproc:// as for
// CheckConnectEndpoint. Anything else is InvalidArgument.
absl::Status CheckBindEndpoint(absl::string_view endpoint);

// True for tcp://[IPv6]:PORT, which needs ZeroMQ's IPv6 option.
bool IsIpv6Endpoint(absl::string_view endpoint);

}  // namespace metlog

#endif  // METLOG_CLIENT_ENDPOINT_H_
