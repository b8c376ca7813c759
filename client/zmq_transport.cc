#include "client/zmq_transport.h"

#include "absl/strings/str_cat.h"

namespace metlog {

absl::StatusOr<std::unique_ptr<ZmqTransport>> ZmqTransport::Create(
    const Options& options) {
  if (options.endpoints.empty()) {
    return absl::InvalidArgumentError("zmq transport: no endpoint given");
  }
  std::unique_ptr<ZmqTransport> transport(new ZmqTransport());
  zmq::socket_t& socket = transport->socket_;
  try {
    // Queue only for routers actually connected, so that with none a send
    // fails at once and is counted, instead of filling a buffer forever.
    socket.set(zmq::sockopt::immediate, 1);
    socket.set(zmq::sockopt::sndhwm, options.send_hwm);
    socket.set(zmq::sockopt::linger, options.linger_ms);
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

absl::Status ZmqTransport::Send(absl::string_view packet) {
  try {
    if (socket_.send(zmq::const_buffer(packet.data(), packet.size()),
                     zmq::send_flags::dontwait)) {
      return absl::OkStatus();
    }
    return absl::UnavailableError("no router connected, or its queue is full");
  } catch (const zmq::error_t& error) {
    return absl::UnavailableError(absl::StrCat("zmq send: ", error.what()));
  }
}

}  // namespace metlog
