// One Packet per UDP datagram. Sending never blocks; a full socket buffer
// loses the datagram, which is counted as unsent. A closed port is learnt
// from the ICMP error the kernel reports on the next send: that send is
// retried once and the earlier packet reported refused.
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
  bool TakeEarlierRefusal() override;

 private:
  explicit UdpTransport(int fd) : fd_(fd) {}
  const int fd_;
  bool earlier_refusal_ = false;
};

}  // namespace metlog

#endif  // METLOG_CLIENT_UDP_TRANSPORT_H_
