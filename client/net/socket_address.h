// "host:port" strings turned into socket addresses, shared by the UDP
// sender, the router's UDP input and the statsd and carbon sinks.
#ifndef METLOG_CLIENT_NET_SOCKET_ADDRESS_H_
#define METLOG_CLIENT_NET_SOCKET_ADDRESS_H_

#include <sys/socket.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace metlog {

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = AF_UNSPEC;

  const sockaddr* get() const {
    return reinterpret_cast<const sockaddr*>(&storage);
  }
};

// Resolves `host_port` (e.g. "127.0.0.1:8125", "localhost:2003") for
// `socket_type` (SOCK_DGRAM, SOCK_STREAM); `passive` for addresses to bind.
// InvalidArgument for text that is not host:port, Unavailable when the name
// does not resolve (DNS may recover).
absl::StatusOr<SocketAddress> ResolveHostPort(absl::string_view host_port,
                                              int socket_type,
                                              bool passive = false);

// What an input checks when its config is loaded: `host_port` passes
// CheckHostPort (port 0 allowed, to listen on a free port) and resolves to an
// address to bind for `socket_type`, as the input's start-up will resolve
// it. Unavailable (e.g. "nohost.invalid", "256.1.1.1") when it does not.
absl::Status CheckListenAddress(absl::string_view option,
                                absl::string_view host_port, int socket_type);

// A UDP socket connected to `host_port`, so send() needs no address.
// The caller owns the descriptor.
absl::StatusOr<int> ConnectedUdpSocket(absl::string_view host_port);

}  // namespace metlog

#endif  // METLOG_CLIENT_NET_SOCKET_ADDRESS_H_
