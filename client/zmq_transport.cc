#include "client/zmq_transport.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client/endpoint.h"

namespace metlog {
namespace {

// Descriptors a context and one PUSH socket take: the context's mailbox,
// the reaper's and the I/O thread's epoll and mailbox, the socket's mailbox,
// plus one connection per endpoint and some slack.
constexpr int kDescriptorsPerContext = 8;

// libzmq aborts (epoll.cpp) when epoll_create fails while it starts its
// threads, so check first that the descriptors are there. Another thread may
// still take them in between; this turns the common case into an error.
absl::Status CheckDescriptorsLeft(int needed) {
  std::vector<int> taken;
  taken.reserve(needed);
  for (int i = 0; i < needed; ++i) {
    const int fd = eventfd(0, EFD_CLOEXEC);
    if (fd < 0) break;
    taken.push_back(fd);
  }
  const bool enough = static_cast<int>(taken.size()) == needed;
  for (int fd : taken) close(fd);
  if (!enough) {
    return absl::ResourceExhaustedError(
        "zmq transport: too few file descriptors left");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<ZmqTransport>> ZmqTransport::Create(
    const Options& options) {
  if (options.endpoints.empty()) {
    return absl::InvalidArgumentError("zmq transport: no endpoint given");
  }
  bool ipv6 = false;
  for (const std::string& endpoint : options.endpoints) {
    if (absl::Status status = CheckConnectEndpoint(endpoint); !status.ok()) {
      return status;
    }
    ipv6 = ipv6 || IsIpv6Endpoint(endpoint);
  }
  if (options.send_hwm < 1) {
    return absl::InvalidArgumentError("zmq transport: send_hwm must be >= 1");
  }
  if (absl::Status status = CheckDescriptorsLeft(
          kDescriptorsPerContext + static_cast<int>(options.endpoints.size()));
      !status.ok()) {
    return status;
  }
  std::unique_ptr<ZmqTransport> transport(new ZmqTransport());
  transport->linger_ms_ = options.linger_ms;
  try {
    transport->context_.emplace(1);
    transport->socket_.emplace(*transport->context_, zmq::socket_type::push);
    zmq::socket_t& socket = *transport->socket_;
    // Queue only for routers actually connected, so that with none a send
    // fails at once and is counted, instead of filling a buffer forever.
    socket.set(zmq::sockopt::immediate, 1);
    socket.set(zmq::sockopt::sndhwm, options.send_hwm);
    socket.set(zmq::sockopt::linger, options.linger_ms);
    if (ipv6) socket.set(zmq::sockopt::ipv6, 1);
    if (!options.curve_server_public_key.empty()) {
      socket.set(zmq::sockopt::curve_serverkey,
                 options.curve_server_public_key);
      socket.set(zmq::sockopt::curve_publickey, options.curve_public_key);
      socket.set(zmq::sockopt::curve_secretkey, options.curve_secret_key);
    }
    for (const std::string& endpoint : options.endpoints) {
      socket.connect(endpoint);
    }
  } catch (const zmq::error_t& error) {
    return absl::InvalidArgumentError(
        absl::StrCat("zmq transport: ", error.what()));
  }
  return transport;
}

ZmqTransport::~ZmqTransport() = default;

absl::Status ZmqTransport::Send(absl::string_view packet) {
  if (!socket_.has_value()) return absl::FailedPreconditionError("closed");
  try {
    if (socket_->send(zmq::const_buffer(packet.data(), packet.size()),
                      zmq::send_flags::dontwait)) {
      return absl::OkStatus();
    }
    return absl::UnavailableError("no router connected, or its queue is full");
  } catch (const zmq::error_t& error) {
    return absl::UnavailableError(absl::StrCat("zmq send: ", error.what()));
  }
}

void ZmqTransport::Close(absl::Duration linger) {
  if (!socket_.has_value()) return;
  try {
    const int64_t ms = absl::ToInt64Milliseconds(linger);
    socket_->set(zmq::sockopt::linger,
                 static_cast<int>(std::min<int64_t>(ms, linger_ms_)));
  } catch (const zmq::error_t&) {
    // The socket is closed below with the linger it had.
  }
  socket_.reset();
  // Terminating the context waits for the socket's linger, no longer.
  context_.reset();
}

}  // namespace metlog
