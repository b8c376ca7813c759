// Receives Packets on a ZeroMQ PULL (or SUB) socket, decodes them and hands
// the messages to the router. One thread by default; with decode_threads > 1
// a forwarding thread spreads packets over that many decoding threads.
//
// A packet is one single-frame ZeroMQ message. ZeroMQ bounds each frame
// (maxmsgsize = limits.max_packet_bytes) but not how many frames a message
// has, and it holds a message's frames until the last arrives; a message of
// several frames is refused and freed as soon as it is delivered.
//
// Connections ZeroMQ or the ZAP handler refuse during the handshake are
// counted in clients_refused (see HandshakeMonitor).
//
// At Stop the input unbinds (or disconnects), which closes its peers'
// connections, so nothing more arrives; what ZeroMQ already holds is
// decoded and routed until the deadline and counted after it.
#ifndef METLOG_ROUTER_INPUTS_ZMQ_ZMQ_INPUT_H_
#define METLOG_ROUTER_INPUTS_ZMQ_ZMQ_INPUT_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/config.pb.h"
#include "router/curve_authenticator.h"
#include "router/input.h"
#include "router/inputs/zmq/handshake_monitor.h"
#include "router/inputs/zmq/zmq_input.pb.h"
#include "router/packet_decoder.h"
#include "zmq.hpp"

namespace metlog {

// The receive high-water mark, in packets, that keeps what one peer's
// packets hold within config.receive_budget_bytes even at
// limits.max_packet_bytes each: at least 1, at most config.receive_hwm.
int EffectiveReceiveHwm(const v1::ZmqInputConfig& config,
                        const v1::LimitsConfig& limits);

class ZmqInput : public Input {
 public:
  // Binds (or connects) now, so a bad endpoint fails the router's start.
  // `verifier` (may be null) checks packets' signatures.
  static absl::StatusOr<std::unique_ptr<ZmqInput>> Create(
      std::string name, const v1::ZmqInputConfig& config,
      const v1::LimitsConfig& limits,
      std::shared_ptr<const PacketVerifier> verifier, Dispatcher* dispatcher);
  // Stops with no time to drain, if Stop was not called.
  ~ZmqInput() override;

  void Start() override;
  void Stop(absl::Time deadline) override;
  // The endpoint actually bound, with a "*" port resolved.
  std::string address() const override { return endpoint_; }
  // The receive high-water mark the network socket uses, per peer, in
  // packets (see EffectiveReceiveHwm).
  int receive_hwm() const;
  // Handshakes the ZAP handler refused (CURVE keys not allowed) plus those
  // ZeroMQ failed before asking it; each counted once.
  uint64_t clients_refused() const override;

 private:
  ZmqInput(std::string name, const v1::LimitsConfig& limits,
           std::shared_ptr<const PacketVerifier> verifier,
           uint32_t decode_threads, int handoff_hwm, Dispatcher* dispatcher);

  // Reads `socket` until `finished`, giving each single-frame packet to
  // `take` (its peer known from the frame) and calling `flush` after each
  // burst; then drains what the socket still holds: to `take` until the
  // deadline, counted as lost after it. `network` says `socket` is the one
  // peers send to: it is then closed to them first, and drained until
  // quiet.
  void Pump(zmq::socket_t& socket, bool network,
            const std::atomic<bool>& finished,
            const std::function<void(zmq::message_t)>& take,
            const std::function<void()>& flush);
  // Decodes and routes packets from `socket` (see Pump).
  void Decode(zmq::socket_t& socket, bool network,
              const std::atomic<bool>& finished);
  // Moves packets from the network socket to the decoding threads.
  void Forward();
  // Stops peers from sending more: unbinds, or disconnects.
  void CloseToPeers();
  std::string InprocEndpoint() const;
  std::string HandshakeMonitorEndpoint() const;

  zmq::context_t context_{1};
  // With CURVE, the context's ZAP handler: declared before the sockets so
  // that it outlives them (a CURVE socket without it would accept anyone).
  std::unique_ptr<CurveAuthenticator> curve_;
  zmq::socket_t socket_;
  // Declared after socket_: it stops monitoring before the socket closes.
  // Stopped after the reading threads (see HandshakeMonitor::Stop).
  std::unique_ptr<HandshakeMonitor> handshakes_;
  std::string endpoint_;
  bool bound_ = true;
  const v1::LimitsConfig limits_;
  const std::shared_ptr<const PacketVerifier> verifier_;
  const uint32_t decode_threads_;
  // The high-water mark of each end of each hand-off to a decoding thread.
  const int handoff_hwm_;
  Dispatcher* const dispatcher_;
  std::vector<std::thread> threads_;
  // With several decode threads, the forwarder's side towards them.
  zmq::socket_t backend_;

  // Set once by Stop, deadline first: readers see it through the flags.
  absl::Time deadline_ = absl::InfiniteFuture();
  std::atomic<bool> stopping_{false};
  // Set by the forwarder once it has handed on everything it will.
  std::atomic<bool> forwarded_all_{false};
  bool stopped_ = false;
};

}  // namespace metlog

#endif  // METLOG_ROUTER_INPUTS_ZMQ_ZMQ_INPUT_H_
