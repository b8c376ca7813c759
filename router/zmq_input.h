// Receives Packets on a ZeroMQ PULL (or SUB) socket, decodes them and hands
// the messages to the router. One thread by default; with decode_threads > 1
// a ZeroMQ proxy spreads packets over that many decoding threads.
#ifndef METLOG_ROUTER_ZMQ_INPUT_H_
#define METLOG_ROUTER_ZMQ_INPUT_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/config.pb.h"
#include "router/input.h"
#include "router/packet_decoder.h"
#include "zmq.hpp"

namespace metlog {

class ZmqInput : public Input {
 public:
  // Binds (or connects) now, so a bad endpoint fails the router's start.
  static absl::StatusOr<std::unique_ptr<ZmqInput>> Create(
      std::string name, const v1::ZmqInputConfig& config,
      const v1::LimitsConfig& limits, Dispatcher* dispatcher);
  ~ZmqInput() override;

  void Start() override;
  void Stop() override;
  // The endpoint actually bound, with a "*" port resolved.
  std::string address() const override { return endpoint_; }

 private:
  ZmqInput(std::string name, const v1::LimitsConfig& limits,
           uint32_t decode_threads, Dispatcher* dispatcher);
  // Receives, decodes and dispatches from `socket` until Stop().
  void Receive(zmq::socket_t& socket, PacketDecoder& decoder);
  std::string InprocEndpoint(absl::string_view role) const;

  zmq::context_t context_{1};
  zmq::socket_t socket_;
  std::string endpoint_;
  const v1::LimitsConfig limits_;
  const uint32_t decode_threads_;
  Dispatcher* const dispatcher_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
  // With several decode threads: the proxy's side towards them, and the
  // pair of sockets that tells it to stop.
  zmq::socket_t backend_;
  zmq::socket_t control_;
  zmq::socket_t control_peer_;
};

}  // namespace metlog

#endif  // METLOG_ROUTER_ZMQ_INPUT_H_
