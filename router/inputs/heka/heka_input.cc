#include "router/inputs/heka/heka_input.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iterator>
#include <list>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/net/socket_address.h"
#include "glog/logging.h"
#include "router/inputs/heka/heka_stream.h"

namespace metlog {
namespace {

std::string PeerName(const sockaddr_storage& peer, socklen_t length) {
  char host[NI_MAXHOST] = {};
  char port[NI_MAXSERV] = {};
  getnameinfo(reinterpret_cast<const sockaddr*>(&peer), length, host,
              sizeof(host), port, sizeof(port),
              NI_NUMERICHOST | NI_NUMERICSERV);
  return absl::StrCat(host, ":", port);
}

struct Connection {
  Connection(int fd, std::string peer, const v1::LimitsConfig& limits,
             std::shared_ptr<const SignerKeys> keys, bool required)
      : fd(fd),
        peer(std::move(peer)),
        stream(limits, std::move(keys), required) {}
  ~Connection() { close(fd); }

  const int fd;
  const std::string peer;
  HekaStream stream;
  absl::Time last_read = absl::Now();
  // When the frame now buffered began to arrive.
  absl::Time frame_started = absl::InfiniteFuture();
};

}  // namespace

HekaInput::HekaInput(std::string name, int fd,
                     const v1::HekaInputConfig& config,
                     const v1::LimitsConfig& limits,
                     std::shared_ptr<const SignerKeys> keys,
                     bool require_signature, Dispatcher* dispatcher)
    : Input(std::move(name)),
      listener_(fd),
      config_(config),
      limits_(limits),
      keys_(std::move(keys)),
      require_signature_(require_signature),
      dispatcher_(dispatcher) {}

absl::StatusOr<std::unique_ptr<HekaInput>> HekaInput::Create(
    std::string name, const v1::HekaInputConfig& config,
    const v1::LimitsConfig& limits, std::shared_ptr<const SignerKeys> keys,
    bool require_signature, Dispatcher* dispatcher) {
  absl::StatusOr<SocketAddress> resolved =
      ResolveHostPort(config.address(), SOCK_STREAM, /*passive=*/true);
  if (!resolved.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("input ", name, ": heka ", resolved.status().message()));
  }
  const int fd =
      socket(resolved->family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  const int one = 1;
  if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (fd < 0 || bind(fd, resolved->get(), resolved->length) != 0 ||
      listen(fd, 128) != 0) {
    const std::string reason = std::strerror(errno);
    if (fd >= 0) close(fd);
    return absl::InvalidArgumentError(absl::StrCat(
        "input ", name, ": cannot listen on ", config.address(), ": ", reason));
  }
  std::unique_ptr<HekaInput> input(
      new HekaInput(std::move(name), fd, config, limits, std::move(keys),
                    require_signature, dispatcher));
  sockaddr_storage bound{};
  socklen_t length = sizeof(bound);
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &length);
  input->address_ = absl::StrCat("tcp://", PeerName(bound, length));
  return input;
}

HekaInput::~HekaInput() {
  Stop(absl::Now());
  close(listener_);
}

void HekaInput::Start() {
  thread_ = std::thread([this] { Run(); });
}

void HekaInput::Stop(absl::Time /*deadline*/) {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void HekaInput::Run() {
  const absl::Duration idle = absl::Milliseconds(config_.idle_timeout_ms());
  const absl::Duration frame_time =
      absl::Milliseconds(config_.frame_timeout_ms());
  std::list<Connection> connections;
  std::vector<pollfd> polled;
  std::vector<char> buffer(64 * 1024);
  PacketGroup group;
  while (!stop_.load(std::memory_order_relaxed)) {
    polled.assign(1, pollfd{listener_, POLLIN, 0});
    for (const Connection& c : connections) {
      polled.push_back(pollfd{c.fd, POLLIN, 0});
    }
    // Wake regularly to notice Stop() and time-outs.
    const int ready = poll(polled.data(), polled.size(), 100);
    const absl::Time now = absl::Now();
    if (ready > 0 && (polled[0].revents & POLLIN) != 0) {
      sockaddr_storage peer{};
      socklen_t length = sizeof(peer);
      const int fd = accept4(listener_, reinterpret_cast<sockaddr*>(&peer),
                             &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd >= 0 && connections.size() >= config_.max_connections()) {
        LOG_EVERY_T(WARNING, 1)
            << "input " << name() << ": refusing " << PeerName(peer, length)
            << ": " << config_.max_connections() << " connections open";
        close(fd);
      } else if (fd >= 0) {
        connections.emplace_back(fd, PeerName(peer, length), limits_, keys_,
                                 require_signature_);
      }
    }
    size_t index = 1;
    for (auto it = connections.begin(); it != connections.end(); ++index) {
      Connection& c = *it;
      bool closed = false;
      if (index < polled.size() &&
          (polled[index].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        const ssize_t n = recv(c.fd, buffer.data(), buffer.size(), 0);
        if (n > 0) {
          c.last_read = now;
          Accept(
              c.stream.Feed(absl::string_view(buffer.data(), n)),
              [&c] { return c.peer; }, &group, dispatcher_);
          if (c.stream.buffered() == 0) {
            c.frame_started = absl::InfiniteFuture();
          } else if (c.frame_started == absl::InfiniteFuture()) {
            c.frame_started = now;
          }
        } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
          closed = true;
        }
      }
      std::string why;
      if (closed) {
        if (c.stream.buffered() > 0) why = "closed in the middle of a frame";
      } else if (now - c.frame_started > frame_time) {
        why = "a frame took too long to arrive";
      } else if (now - c.last_read > idle) {
        closed = true;  // silent for too long: its slot goes to others
        if (c.stream.buffered() > 0) why = "idle in the middle of a frame";
      }
      if (!why.empty()) {
        Refuse(RejectReason::kMalformedPacket,
               absl::StrCat("connection ", why, "; dropped ",
                            c.stream.buffered(), " bytes"),
               [&c] { return c.peer; });
        closed = true;
      }
      it = closed ? connections.erase(it) : std::next(it);
    }
    DispatchGroup(&group, dispatcher_);
  }
}

}  // namespace metlog
