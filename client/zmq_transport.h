// PUSH over ZeroMQ to one or more routers, never blocking: with no router
// connected, or its buffers full, a packet is refused at once.
#ifndef METLOG_CLIENT_ZMQ_TRANSPORT_H_
#define METLOG_CLIENT_ZMQ_TRANSPORT_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/transport.h"
#include "zmq.hpp"

namespace metlog {

class ZmqTransport : public Transport {
 public:
  struct Options {
    // Routers to connect to; ZeroMQ spreads packets over the live ones and
    // reconnects by itself when one comes back.
    std::vector<std::string> endpoints;
    // Packets ZeroMQ buffers per connected router before refusing more.
    int send_hwm = 1000;
    // How long closing the socket may wait for buffered packets to leave.
    int linger_ms = 500;
    // CURVE, all Z85-encoded: the router's public key and this client's pair.
    // Empty server_public_key means plain TCP.
    std::string curve_server_public_key;
    std::string curve_public_key;
    std::string curve_secret_key;
  };

  // Fails on a malformed endpoint or key; connecting itself is asynchronous
  // and never fails here.
  static absl::StatusOr<std::unique_ptr<ZmqTransport>> Create(
      const Options& options);

  absl::Status Send(absl::string_view packet) override;

 private:
  ZmqTransport() = default;

  zmq::context_t context_{1};
  zmq::socket_t socket_{context_, zmq::socket_type::push};
};

}  // namespace metlog

#endif  // METLOG_CLIENT_ZMQ_TRANSPORT_H_
