#include "client/udp_transport.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "client/socket_address.h"

namespace metlog {

absl::StatusOr<std::unique_ptr<UdpTransport>> UdpTransport::Create(
    const std::string& address) {
  absl::StatusOr<int> fd = ConnectedUdpSocket(address);
  if (!fd.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("udp sender: ", fd.status().message()));
  }
  return std::unique_ptr<UdpTransport>(new UdpTransport(*fd));
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
