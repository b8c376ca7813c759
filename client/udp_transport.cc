#include "client/udp_transport.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace metlog {

absl::StatusOr<std::unique_ptr<UdpTransport>> UdpTransport::Create(
    const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("udp address \"", address, "\" is not host:port"));
  }
  const std::string host = address.substr(0, colon);
  const std::string port = address.substr(colon + 1);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* resolved = nullptr;
  if (const int error =
          getaddrinfo(host.c_str(), port.c_str(), &hints, &resolved);
      error != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("udp address \"", address, "\": ", gai_strerror(error)));
  }
  const int fd = socket(resolved->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, resolved->ai_addr, resolved->ai_addrlen) != 0) {
    const std::string reason = std::strerror(errno);
    freeaddrinfo(resolved);
    if (fd >= 0) close(fd);
    return absl::InvalidArgumentError(
        absl::StrCat("udp address \"", address, "\": ", reason));
  }
  freeaddrinfo(resolved);
  return std::unique_ptr<UdpTransport>(new UdpTransport(fd));
}

UdpTransport::~UdpTransport() { close(fd_); }

absl::Status UdpTransport::Send(absl::string_view packet) {
  if (send(fd_, packet.data(), packet.size(), MSG_DONTWAIT) < 0) {
    return absl::UnavailableError(
        absl::StrCat("udp send: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace metlog
