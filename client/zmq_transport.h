// PUSH over ZeroMQ to one or more routers, never blocking: with no router
// connected, or its buffers full, a packet is refused at once.
#ifndef METLOG_CLIENT_ZMQ_TRANSPORT_H_
#define METLOG_CLIENT_ZMQ_TRANSPORT_H_

#include <memory>
#include <optional>
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
    // Packets ZeroMQ buffers per connected router before refusing more; with
    // max_packet_bytes this bounds ZeroMQ's memory per router.
    int send_hwm = 32;
    // How long closing the socket may wait for buffered packets to leave
    // (Close() passes a shorter time when a shutdown deadline is nearer).
    int linger_ms = 500;
    // CURVE, all Z85-encoded: the router's public key and this client's pair.
    // Empty server_public_key means plain TCP.
    std::string curve_server_public_key;
    std::string curve_public_key;
    std::string curve_secret_key;
  };

  // Fails on an endpoint that cannot work (see endpoint.h), a malformed key,
  // or too few file descriptors left for ZeroMQ (which would abort the
  // process if it ran out while starting its threads). Connecting itself is
  // asynchronous and never fails here.
  static absl::StatusOr<std::unique_ptr<ZmqTransport>> Create(
      const Options& options);
  ~ZmqTransport() override;

  absl::Status Send(absl::string_view packet) override;
  void Close(absl::Duration linger) override;
  bool SafeToDestroyAfterFork() const override { return false; }

 private:
  ZmqTransport() = default;

  // Made inside Create's error handling: both can fail (and cppzmq throws).
  std::optional<zmq::context_t> context_;
  std::optional<zmq::socket_t> socket_;
  int linger_ms_ = 0;
};

}  // namespace metlog

#endif  // METLOG_CLIENT_ZMQ_TRANSPORT_H_
