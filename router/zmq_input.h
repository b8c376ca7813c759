// Receives Packets on a ZeroMQ PULL (or SUB) socket, decodes them and hands
// the messages to the router. One thread per input.
#ifndef METLOG_ROUTER_ZMQ_INPUT_H_
#define METLOG_ROUTER_ZMQ_INPUT_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>

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
           Dispatcher* dispatcher);
  void Run();

  zmq::context_t context_{1};
  zmq::socket_t socket_;
  std::string endpoint_;
  PacketDecoder decoder_;
  Dispatcher* const dispatcher_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace metlog

#endif  // METLOG_ROUTER_ZMQ_INPUT_H_
