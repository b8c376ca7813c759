#include "router/inputs/udp/udp_input.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/net/socket_address.h"
#include "glog/logging.h"

namespace metlog {
namespace {

// Larger than any UDP payload (65507 bytes over IPv4), so no datagram is
// truncated; the decoder applies the configured packet limit.
constexpr size_t kDatagramBuffer = 65536;

std::string PeerName(const sockaddr_storage& peer) {
  char host[INET6_ADDRSTRLEN] = {};
  char port[8] = {};
  getnameinfo(reinterpret_cast<const sockaddr*>(&peer), sizeof(peer), host,
              sizeof(host), port, sizeof(port),
              NI_NUMERICHOST | NI_NUMERICSERV);
  return absl::StrCat(host, ":", port);
}

// A Packet per datagram.
class PacketDatagramDecoder : public DatagramDecoder {
 public:
  PacketDatagramDecoder(const v1::LimitsConfig& limits,
                        std::shared_ptr<const PacketVerifier> verifier)
      : decoder_(limits, std::move(verifier)) {}
  DecodeResult Decode(absl::string_view datagram) override {
    return decoder_.Decode(datagram);
  }

 private:
  PacketDecoder decoder_;
};

}  // namespace

UdpInput::UdpInput(std::string name, int fd,
                   std::unique_ptr<DatagramDecoder> decoder,
                   Dispatcher* dispatcher)
    : Input(std::move(name)),
      fd_(fd),
      decoder_(std::move(decoder)),
      dispatcher_(dispatcher) {}

absl::StatusOr<std::unique_ptr<UdpInput>> UdpInput::Create(
    std::string name, const v1::UdpInputConfig& config,
    const v1::LimitsConfig& limits,
    std::shared_ptr<const PacketVerifier> verifier, Dispatcher* dispatcher) {
  return Create(
      std::move(name), config.address(), config.receive_buffer_bytes(),
      std::make_unique<PacketDatagramDecoder>(limits, std::move(verifier)),
      dispatcher);
}

absl::StatusOr<std::unique_ptr<UdpInput>> UdpInput::Create(
    std::string name, const std::string& address, uint32_t receive_buffer_bytes,
    std::unique_ptr<DatagramDecoder> decoder, Dispatcher* dispatcher) {
  absl::StatusOr<SocketAddress> resolved =
      ResolveHostPort(address, SOCK_DGRAM, /*passive=*/true);
  if (!resolved.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("input ", name, ": udp ", resolved.status().message()));
  }
  const int fd = socket(resolved->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  const int buffer = static_cast<int>(receive_buffer_bytes);
  if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof(buffer));
  if (fd < 0 || bind(fd, resolved->get(), resolved->length) != 0) {
    const std::string reason = std::strerror(errno);
    if (fd >= 0) close(fd);
    return absl::InvalidArgumentError(absl::StrCat(
        "input ", name, ": cannot bind udp ", address, ": ", reason));
  }
  std::unique_ptr<UdpInput> input(
      new UdpInput(std::move(name), fd, std::move(decoder), dispatcher));
  sockaddr_storage bound{};
  socklen_t length = sizeof(bound);
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
  input->address_ = absl::StrCat("udp://", PeerName(bound));
  return input;
}

UdpInput::~UdpInput() {
  Stop(absl::Now());
  close(fd_);
}

void UdpInput::Start() {
  thread_ = std::thread([this] { Run(); });
}

void UdpInput::Stop(absl::Time /*deadline*/) {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void UdpInput::Run() {
  std::vector<char> buffer(kDatagramBuffer);
  pollfd readable{fd_, POLLIN, 0};
  PacketGroup group;
  while (!stop_.load(std::memory_order_relaxed)) {
    // Wake regularly to notice Stop().
    if (poll(&readable, 1, 100) <= 0) continue;
    while (!stop_.load(std::memory_order_relaxed)) {
      sockaddr_storage peer{};
      socklen_t peer_length = sizeof(peer);
      const ssize_t n =
          recvfrom(fd_, buffer.data(), buffer.size(), MSG_DONTWAIT,
                   reinterpret_cast<sockaddr*>(&peer), &peer_length);
      if (n < 0) break;
      Accept(
          decoder_->Decode(absl::string_view(buffer.data(), n)),
          [&peer] { return PeerName(peer); }, &group, dispatcher_);
      if (group.size() == kMaxGroup) DispatchGroup(&group, dispatcher_);
    }
    DispatchGroup(&group, dispatcher_);
  }
}

}  // namespace metlog
