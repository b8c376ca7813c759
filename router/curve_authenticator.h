// Decides which CURVE clients a ZeroMQ input accepts: a ZAP handler (ZeroMQ
// RFC 27) on inproc://zeromq.zap.01 of the input's own context, answering
// each CURVE handshake by looking the client's public key up in the
// allow-list. A refused handshake ends the connection before any message of
// it is delivered, so nothing from that client reaches the input's socket.
//
// libzmq lets a CURVE server accept every client when no ZAP handler is
// bound in its context, so the handler is bound before the input's socket
// and outlives it (see ZmqInput's member order).
#ifndef METLOG_ROUTER_CURVE_AUTHENTICATOR_H_
#define METLOG_ROUTER_CURVE_AUTHENTICATOR_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "proto/security.pb.h"
#include "router/curve_keys.h"
#include "zmq.hpp"

namespace metlog {

class CurveAuthenticator {
 public:
  // Reads the keys `config` names, binds the ZAP handler in `context` and
  // starts its thread, then makes `socket` (not yet bound or connected) a
  // CURVE server with the router's key pair. One per context. `input_name`
  // names refusals in log lines. InvalidArgument when a key or key file is
  // wrong.
  static absl::StatusOr<std::unique_ptr<CurveAuthenticator>> Secure(
      const v1::CurveServerConfig& config, std::string input_name,
      zmq::context_t& context, zmq::socket_t& socket);

  // Stops answering within kPollInterval and closes the handler's socket;
  // handshakes still in progress then fail. The context must outlive it.
  ~CurveAuthenticator();

  // CURVE handshakes refused so far because the client's key is not
  // allowed. A client without CURVE, or with the wrong server key, fails
  // ZeroMQ's own handshake before a ZAP request is made: the input's
  // HandshakeMonitor counts those.
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

 private:
  CurveAuthenticator(std::string input_name,
                     absl::flat_hash_set<std::string> allowed_clients);

  // Answers ZAP requests on `handler` until the destructor.
  void Serve(zmq::socket_t handler);
  // Reads one request from `handler` and replies to it.
  void Answer(zmq::socket_t& handler);

  const std::string input_name_;
  const absl::flat_hash_set<std::string> allowed_clients_;
  std::atomic<uint64_t> refused_{0};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace metlog

#endif  // METLOG_ROUTER_CURVE_AUTHENTICATOR_H_
