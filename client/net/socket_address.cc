#include "client/net/socket_address.h"

#include <netdb.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/net/host_port.h"

namespace metlog {

absl::StatusOr<SocketAddress> ResolveHostPort(absl::string_view host_port,
                                              int socket_type, bool passive) {
  const size_t colon = host_port.rfind(':');
  if (colon == absl::string_view::npos || colon + 1 == host_port.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("address \"", host_port, "\" is not host:port"));
  }
  const std::string host(host_port.substr(0, colon));
  const std::string port(host_port.substr(colon + 1));
  // getaddrinfo takes 99999 and wraps it; only a number in range (0 only
  // to bind, meaning "any free port") is a port.
  int port_number = -1;
  if (port.size() > 5 ||
      !std::all_of(port.begin(), port.end(),
                   [](char c) { return c >= '0' && c <= '9'; }) ||
      !absl::SimpleAtoi(port, &port_number)) {
    port_number = -1;
  }
  if (port_number < (passive ? 0 : 1) || port_number > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "address \"", host_port, "\": the port must be a number from ",
        passive ? 0 : 1, " to 65535"));
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = socket_type;
  hints.ai_flags = passive ? AI_PASSIVE : 0;
  addrinfo* resolved = nullptr;
  if (const int error =
          getaddrinfo(host.c_str(), port.c_str(), &hints, &resolved);
      error != 0) {
    return absl::UnavailableError(
        absl::StrCat("address \"", host_port, "\": ", gai_strerror(error)));
  }
  SocketAddress address;
  std::memcpy(&address.storage, resolved->ai_addr, resolved->ai_addrlen);
  address.length = resolved->ai_addrlen;
  address.family = resolved->ai_family;
  freeaddrinfo(resolved);
  return address;
}

absl::Status CheckListenAddress(absl::string_view option,
                                absl::string_view host_port, int socket_type) {
  if (absl::Status status =
          CheckHostPort(option, host_port, PortZero::kAllowed);
      !status.ok()) {
    return status;
  }
  // The status names the address, e.g. address "nohost.invalid:8125": Name
  // or service not known.
  return ResolveHostPort(host_port, socket_type, /*passive=*/true).status();
}

absl::StatusOr<int> ConnectedUdpSocket(absl::string_view host_port) {
  absl::StatusOr<SocketAddress> address =
      ResolveHostPort(host_port, SOCK_DGRAM);
  if (!address.ok()) return address.status();
  const int fd = socket(address->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, address->get(), address->length) != 0) {
    const std::string reason = std::strerror(errno);
    if (fd >= 0) close(fd);
    return absl::UnavailableError(
        absl::StrCat("address \"", host_port, "\": ", reason));
  }
  return fd;
}

}  // namespace metlog
