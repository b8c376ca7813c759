#include "client/udp_transport.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/net/socket_address.h"

namespace metlog {

absl::StatusOr<std::unique_ptr<UdpTransport>> UdpTransport::Create(
    const std::string& address) {
  absl::StatusOr<int> fd = ConnectedUdpSocket(address);
  if (!fd.ok()) {
    // Same codes as the ZeroMQ sender: InvalidArgument for a malformed
    // address, Unavailable for a name that does not resolve.
    return absl::Status(fd.status().code(),
                        absl::StrCat("udp sender: ", fd.status().message()));
  }
  return std::unique_ptr<UdpTransport>(new UdpTransport(*fd));
}

UdpTransport::~UdpTransport() { close(fd_); }

bool UdpTransport::TakeEarlierRefusal() {
  return std::exchange(earlier_refusal_, false);
}

absl::Status UdpTransport::Send(absl::string_view packet) {
  ssize_t sent = send(fd_, packet.data(), packet.size(), MSG_DONTWAIT);
  if (sent < 0 && errno == ECONNREFUSED) {
    // The error belongs to an earlier datagram; this one was not sent.
    earlier_refusal_ = true;
    sent = send(fd_, packet.data(), packet.size(), MSG_DONTWAIT);
  }
  if (sent < 0) {
    return absl::UnavailableError(
        absl::StrCat("udp send: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace metlog
