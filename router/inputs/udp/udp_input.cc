#include "router/inputs/udp/udp_input.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/net/socket_address.h"
#include "glog/logging.h"

namespace metlog {
namespace {

// Datagrams one recvmmsg call takes at most: one syscall per datagram
// showed in profiles of a statsd input at one line per datagram.
constexpr int kBatch = 32;

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

// Room for a batch of datagrams, and where each came from.
class DatagramBatch {
 public:
  // Each datagram gets `datagram_bytes`; a longer one is truncated by the
  // kernel, and truncated(i) says so.
  explicit DatagramBatch(size_t datagram_bytes)
      : datagram_bytes_(datagram_bytes),
        // Left uninitialised: pages that small datagrams never reach are
        // never touched, so they take no memory.
        buffers_(new char[kBatch * datagram_bytes]) {
    for (int i = 0; i < kBatch; ++i) {
      iovecs_[i] = {buffers_.get() + i * datagram_bytes_, datagram_bytes_};
      headers_[i].msg_hdr.msg_iov = &iovecs_[i];
      headers_[i].msg_hdr.msg_iovlen = 1;
      headers_[i].msg_hdr.msg_name = &peers_[i];
    }
  }

  // Takes what the socket holds, up to a batch, without waiting; returns
  // how many datagrams, 0 when there were none.
  int Receive(int fd) {
    for (mmsghdr& header : headers_) {
      header.msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    }
    // MSG_TRUNC: a truncated datagram's msg_len is its real length.
    const int n = recvmmsg(fd, headers_.data(), kBatch,
                           MSG_DONTWAIT | MSG_TRUNC, nullptr);
    return n < 0 ? 0 : n;
  }

  // The real length of datagram i, even when truncated.
  size_t length(int i) const { return headers_[i].msg_len; }
  bool truncated(int i) const { return length(i) > datagram_bytes_; }
  absl::string_view datagram(int i) const {
    return absl::string_view(buffers_.get() + i * datagram_bytes_,
                             std::min(length(i), datagram_bytes_));
  }
  const sockaddr_storage& peer(int i) const { return peers_[i]; }

 private:
  const size_t datagram_bytes_;
  const std::unique_ptr<char[]> buffers_;
  std::array<iovec, kBatch> iovecs_{};
  std::array<sockaddr_storage, kBatch> peers_{};
  std::array<mmsghdr, kBatch> headers_{};
};

}  // namespace

UdpInput::UdpInput(std::string name, int fd,
                   std::vector<std::unique_ptr<DatagramDecoder>> decoders,
                   Dispatcher* dispatcher, size_t max_datagram_bytes)
    : Input(std::move(name)),
      fd_(fd),
      decoders_(std::move(decoders)),
      dispatcher_(dispatcher),
      max_datagram_bytes_(max_datagram_bytes) {}

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
  std::vector<std::unique_ptr<DatagramDecoder>> decoders;
  decoders.push_back(std::move(decoder));
  return Create(std::move(name), address, receive_buffer_bytes,
                std::move(decoders), dispatcher);
}

absl::StatusOr<std::unique_ptr<UdpInput>> UdpInput::Create(
    std::string name, const std::string& address, uint32_t receive_buffer_bytes,
    std::vector<std::unique_ptr<DatagramDecoder>> decoders,
    Dispatcher* dispatcher, size_t max_datagram_bytes) {
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
  std::unique_ptr<UdpInput> input(new UdpInput(std::move(name), fd,
                                               std::move(decoders), dispatcher,
                                               max_datagram_bytes));
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
  for (const std::unique_ptr<DatagramDecoder>& decoder : decoders_) {
    threads_.emplace_back([this, decoder = decoder.get()] { Run(decoder); });
  }
}

void UdpInput::Stop(absl::Time /*deadline*/) {
  stop_.store(true);
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

void UdpInput::Run(DatagramDecoder* decoder) {
  DatagramBatch batch(max_datagram_bytes_);
  pollfd readable{fd_, POLLIN, 0};
  PacketGroup group;
  while (!stop_.load(std::memory_order_relaxed)) {
    // Wake regularly to notice Stop().
    if (poll(&readable, 1, 100) <= 0) continue;
    while (!stop_.load(std::memory_order_relaxed)) {
      const int received = batch.Receive(fd_);
      if (received == 0) break;
      for (int i = 0; i < received; ++i) {
        const auto peer = [&batch, i] { return PeerName(batch.peer(i)); };
        if (batch.truncated(i)) {
          Refuse(RejectReason::kOversizedPacket,
                 absl::StrCat("datagram of ", batch.length(i),
                              " bytes exceeds ", max_datagram_bytes_),
                 peer);
          continue;
        }
        Accept(decoder->Decode(batch.datagram(i)), peer, &group, dispatcher_);
        if (group.size() == kMaxGroup) DispatchGroup(&group, dispatcher_);
      }
    }
    DispatchGroup(&group, dispatcher_);
  }
}

}  // namespace metlog
