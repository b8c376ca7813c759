#include "router/zmq_input.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace metlog {
namespace {

// A received packet, kept as ZeroMQ delivered it: the messages view it.
class ZmqPacketBytes : public PacketBytes {
 public:
  explicit ZmqPacketBytes(zmq::message_t message)
      : message_(std::move(message)) {}
  absl::string_view bytes() const override {
    return absl::string_view(static_cast<const char*>(message_.data()),
                             message_.size());
  }
  std::string peer() const {
    try {
      return message_.gets("Peer-Address");
    } catch (const zmq::error_t&) {
      return "unknown peer";  // inproc and ipc have no address
    }
  }

 private:
  // Mutable for gets(), which cppzmq does not mark const.
  mutable zmq::message_t message_;
};

}  // namespace

ZmqInput::ZmqInput(std::string name, const v1::LimitsConfig& limits,
                   uint32_t decode_threads, Dispatcher* dispatcher)
    : Input(std::move(name)),
      limits_(limits),
      decode_threads_(std::max<uint32_t>(1, decode_threads)),
      dispatcher_(dispatcher) {}

std::string ZmqInput::InprocEndpoint(absl::string_view role) const {
  return absl::StrCat("inproc://metlog-input-", role, "-",
                      reinterpret_cast<uintptr_t>(this));
}

absl::StatusOr<std::unique_ptr<ZmqInput>> ZmqInput::Create(
    std::string name, const v1::ZmqInputConfig& config,
    const v1::LimitsConfig& limits, Dispatcher* dispatcher) {
  std::unique_ptr<ZmqInput> input(new ZmqInput(
      std::move(name), limits, config.decode_threads(), dispatcher));
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
    if (input->decode_threads_ > 1) {
      input->backend_ = zmq::socket_t(input->context_, zmq::socket_type::push);
      input->backend_.bind(input->InprocEndpoint("packets"));
      input->control_ = zmq::socket_t(input->context_, zmq::socket_type::pair);
      input->control_.bind(input->InprocEndpoint("control"));
      input->control_peer_ =
          zmq::socket_t(input->context_, zmq::socket_type::pair);
      input->control_peer_.connect(input->InprocEndpoint("control"));
    }
  } catch (const zmq::error_t& error) {
    return absl::InvalidArgumentError(
        absl::StrCat("input ", input->name(), ": cannot ",
                     config.bind() ? "bind " : "connect ", config.endpoint(),
                     ": ", error.what()));
  }
  return input;
}

ZmqInput::~ZmqInput() { Stop(); }

void ZmqInput::Start() {
  if (decode_threads_ == 1) {
    threads_.emplace_back([this] {
      PacketDecoder decoder(limits_);
      Receive(socket_, decoder);
    });
    return;
  }
  threads_.emplace_back([this] {
    try {
      zmq::proxy_steerable(socket_, backend_, zmq::socket_ref(), control_);
    } catch (const zmq::error_t& error) {
      LOG(ERROR) << "input " << name() << ": proxy: " << error.what();
    }
  });
  for (uint32_t i = 0; i < decode_threads_; ++i) {
    threads_.emplace_back([this] {
      zmq::socket_t packets(context_, zmq::socket_type::pull);
      packets.connect(InprocEndpoint("packets"));
      PacketDecoder decoder(limits_);
      Receive(packets, decoder);
    });
  }
}

void ZmqInput::Stop() {
  if (stop_.exchange(true)) return;
  if (decode_threads_ > 1) control_peer_.send(zmq::str_buffer("TERMINATE"));
  for (std::thread& thread : threads_) thread.join();
}

void ZmqInput::Receive(zmq::socket_t& socket, PacketDecoder& decoder) {
  zmq::pollitem_t items[] = {{socket.handle(), 0, ZMQ_POLLIN, 0}};
  zmq::message_t packet;
  std::vector<PacketRef> group;
  while (!stop_.load(std::memory_order_relaxed)) {
    try {
      // Wake regularly to notice Stop().
      if (zmq::poll(items, 1, std::chrono::milliseconds(100)) == 0) continue;
      while (socket.recv(packet, zmq::recv_flags::dontwait)) {
        auto received = std::make_unique<ZmqPacketBytes>(std::move(packet));
        // The decode result keeps `received` alive until Accept returns.
        const ZmqPacketBytes* bytes = received.get();
        Accept(
            decoder.Decode(std::move(received)),
            [bytes] { return bytes->peer(); }, &group);
        if (group.size() == kMaxGroup) DispatchGroup(&group, dispatcher_);
      }
    } catch (const zmq::error_t& error) {
      LOG_EVERY_T(ERROR, 1) << "input " << name() << ": " << error.what();
    }
    DispatchGroup(&group, dispatcher_);
  }
}

}  // namespace metlog
