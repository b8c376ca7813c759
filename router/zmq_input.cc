#include "router/zmq_input.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace metlog {

ZmqInput::ZmqInput(std::string name, const v1::LimitsConfig& limits,
                   Dispatcher* dispatcher)
    : Input(std::move(name)), decoder_(limits), dispatcher_(dispatcher) {}

absl::StatusOr<std::unique_ptr<ZmqInput>> ZmqInput::Create(
    std::string name, const v1::ZmqInputConfig& config,
    const v1::LimitsConfig& limits, Dispatcher* dispatcher) {
  std::unique_ptr<ZmqInput> input(
      new ZmqInput(std::move(name), limits, dispatcher));
  const bool sub = config.socket_type() == v1::ZmqInputConfig::SUB;
  try {
    input->socket_ = zmq::socket_t(
        input->context_, sub ? zmq::socket_type::sub : zmq::socket_type::pull);
    input->socket_.set(zmq::sockopt::rcvhwm, config.receive_hwm());
    // ZeroMQ refuses (and disconnects) a peer whose packet exceeds the limit
    // before buffering it, which bounds memory per peer.
    input->socket_.set(zmq::sockopt::maxmsgsize,
                       static_cast<int64_t>(limits.max_packet_bytes()));
    input->socket_.set(zmq::sockopt::linger, 0);
    if (sub) input->socket_.set(zmq::sockopt::subscribe, "");
    if (config.bind()) {
      input->socket_.bind(config.endpoint());
      input->endpoint_ = input->socket_.get(zmq::sockopt::last_endpoint);
    } else {
      input->socket_.connect(config.endpoint());
      input->endpoint_ = config.endpoint();
    }
  } catch (const zmq::error_t& error) {
    return absl::InvalidArgumentError(absl::StrCat(
        "input ", input->name(), ": cannot ", config.bind() ? "bind " : "connect ",
        config.endpoint(), ": ", error.what()));
  }
  return input;
}

ZmqInput::~ZmqInput() { Stop(); }

void ZmqInput::Start() {
  thread_ = std::thread([this] { Run(); });
}

void ZmqInput::Stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void ZmqInput::Run() {
  zmq::pollitem_t items[] = {{socket_.handle(), 0, ZMQ_POLLIN, 0}};
  zmq::message_t packet;
  while (!stop_.load(std::memory_order_relaxed)) {
    try {
      // Wake regularly to notice Stop().
      if (zmq::poll(items, 1, std::chrono::milliseconds(100)) == 0) continue;
      while (socket_.recv(packet, zmq::recv_flags::dontwait)) {
        auto peer = [&packet]() -> std::string {
          try {
            return packet.gets("Peer-Address");
          } catch (const zmq::error_t&) {
            return "unknown peer";  // inproc and ipc have no address
          }
        };
        Handle(decoder_.Decode(absl::string_view(
                   static_cast<const char*>(packet.data()), packet.size())),
               peer, dispatcher_);
      }
    } catch (const zmq::error_t& error) {
      LOG_EVERY_T(ERROR, 1) << "input " << name() << ": " << error.what();
    }
  }
}

}  // namespace metlog
