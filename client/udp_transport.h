// One Packet per UDP datagram. Sending never blocks; a full socket buffer or
// an unreachable port loses the datagram, which is counted as unsent.
#ifndef METLOG_CLIENT_UDP_TRANSPORT_H_
#define METLOG_CLIENT_UDP_TRANSPORT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "client/transport.h"

namespace metlog {

// The largest UDP payload over IPv4; packets are kept below it.
constexpr size_t kMaxUdpPayload = 65507;

class UdpTransport : public Transport {
 public:
  // `address` is "host:port"; resolved once, here.
  static absl::StatusOr<std::unique_ptr<UdpTransport>> Create(
      const std::string& address);
  ~UdpTransport() override;

  absl::Status Send(absl::string_view packet) override;

 private:
  explicit UdpTransport(int fd) : fd_(fd) {}
  const int fd_;
};

}  // namespace metlog

#endif  // METLOG_CLIENT_UDP_TRANSPORT_H_
