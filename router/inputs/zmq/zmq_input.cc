#include "router/inputs/zmq/zmq_input.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/endpoint.h"
#include "glog/logging.h"

namespace metlog {
namespace {

// How often a waiting reader looks at the stop flag.
constexpr auto kPollInterval = std::chrono::milliseconds(100);
// How long a socket closed to its peers must stay empty before its drain
// ends: ZeroMQ's I/O thread may still be handing on what it had read.
constexpr auto kQuiet = std::chrono::milliseconds(20);
// How long counting what is left after the deadline may take, at most.
constexpr absl::Duration kCountGrace = absl::Seconds(1);

// cppzmq does not mark gets() const.
std::string PeerOf(zmq::message_t& frame) {
  try {
    return frame.gets("Peer-Address");
  } catch (const zmq::error_t&) {
    return "unknown peer";  // inproc and ipc have no address
  }
}

// A received packet, kept as ZeroMQ delivered it: the messages view it.
class ZmqPacketBytes : public PacketBytes {
 public:
  explicit ZmqPacketBytes(zmq::message_t message)
      : message_(std::move(message)) {}
  absl::string_view bytes() const override {
    return absl::string_view(static_cast<const char*>(message_.data()),
                             message_.size());
  }
  std::string peer() const { return PeerOf(message_); }

 private:
  // Mutable for PeerOf.
  mutable zmq::message_t message_;
};

// Reads one whole ZeroMQ message, if one is ready, into `*first`. The other
// frames of a message of several are read and freed at once (ZeroMQ
// delivers all of a message's frames together); `*frames` says how many
// there were and `*bytes` their total size.
bool ReadMessage(zmq::socket_t& socket, zmq::message_t* first, size_t* frames,
                 size_t* bytes) {
  if (!socket.recv(*first, zmq::recv_flags::dontwait)) return false;
  *frames = 1;
  *bytes = first->size();
  bool more = first->more();
  zmq::message_t next;
  while (more && socket.recv(next, zmq::recv_flags::dontwait)) {
    ++*frames;
    *bytes += next.size();
    more = next.more();
  }
  return true;
}

}  // namespace

int EffectiveReceiveHwm(const v1::ZmqInputConfig& config,
                        const v1::LimitsConfig& limits) {
  const uint64_t packets = config.receive_budget_bytes() /
                           std::max<uint64_t>(1, limits.max_packet_bytes());
  const int most = std::max(1, config.receive_hwm());
  return static_cast<int>(
      std::clamp<uint64_t>(packets, 1, static_cast<uint64_t>(most)));
}

ZmqInput::ZmqInput(std::string name, const v1::LimitsConfig& limits,
                   std::shared_ptr<const PacketVerifier> verifier,
                   uint32_t decode_threads, int handoff_hwm,
                   Dispatcher* dispatcher)
    : Input(std::move(name)),
      limits_(limits),
      verifier_(std::move(verifier)),
      decode_threads_(std::max<uint32_t>(1, decode_threads)),
      handoff_hwm_(handoff_hwm),
      dispatcher_(dispatcher) {}

std::string ZmqInput::InprocEndpoint() const {
  return absl::StrCat("inproc://metlog-input-packets-",
                      reinterpret_cast<uintptr_t>(this));
}

std::string ZmqInput::HandshakeMonitorEndpoint() const {
  return absl::StrCat("inproc://metlog-input-handshakes-",
                      reinterpret_cast<uintptr_t>(this));
}

int ZmqInput::receive_hwm() const { return socket_.get(zmq::sockopt::rcvhwm); }

uint64_t ZmqInput::clients_refused() const {
  return (curve_ == nullptr ? 0 : curve_->refused()) +
         (handshakes_ == nullptr ? 0 : handshakes_->failed());
}

absl::StatusOr<std::unique_ptr<ZmqInput>> ZmqInput::Create(
    std::string name, const v1::ZmqInputConfig& config,
    const v1::LimitsConfig& limits,
    std::shared_ptr<const PacketVerifier> verifier, Dispatcher* dispatcher) {
  const int receive_hwm = EffectiveReceiveHwm(config, limits);
  const uint32_t decode_threads =
      std::max<uint32_t>(1, config.decode_threads());
  // A hand-off pipe to a decoding thread holds its two ends' marks: all of
  // them together hold no more than the network socket may, yet at least a
  // packet at each end.
  const int handoff_hwm =
      std::max<int>(1, receive_hwm / static_cast<int>(2 * decode_threads));
  std::unique_ptr<ZmqInput> input(
      new ZmqInput(std::move(name), limits, std::move(verifier), decode_threads,
                   handoff_hwm, dispatcher));
  if (receive_hwm < config.receive_hwm()) {
    LOG(INFO) << "input " << input->name() << ": holds at most " << receive_hwm
              << " packets per peer (receive_budget_bytes "
              << config.receive_budget_bytes() << " / max_packet_bytes "
              << limits.max_packet_bytes() << ")";
  }
  const bool sub = config.socket_type() == v1::ZmqInputConfig::SUB;
  try {
    input->socket_ = zmq::socket_t(
        input->context_, sub ? zmq::socket_type::sub : zmq::socket_type::pull);
    // ZeroMQ reads packets off each peer's connection until this many wait
    // (each up to max_packet_bytes), whether or not the decoder keeps up.
    input->socket_.set(zmq::sockopt::rcvhwm, receive_hwm);
    // ZeroMQ refuses (and disconnects) a peer whose frame exceeds the limit
    // before buffering it; a message of several frames is refused once
    // delivered (see the header).
    input->socket_.set(zmq::sockopt::maxmsgsize,
                       static_cast<int64_t>(limits.max_packet_bytes()));
    input->socket_.set(zmq::sockopt::linger, 0);
    // Without it ZeroMQ refuses tcp://[::1]:PORT, which --check accepts.
    if (IsIpv6Endpoint(config.endpoint())) {
      input->socket_.set(zmq::sockopt::ipv6, 1);
    }
    if (sub) input->socket_.set(zmq::sockopt::subscribe, "");
    if (config.has_curve()) {
      auto curve = CurveAuthenticator::Secure(config.curve(), input->name(),
                                              input->context_, input->socket_);
      if (!curve.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "input ", input->name(), ": ", curve.status().message()));
      }
      input->curve_ = *std::move(curve);
    }
    auto handshakes = HandshakeMonitor::Watch(
        input->socket_, input->HandshakeMonitorEndpoint(), input->name());
    if (!handshakes.ok()) {
      return absl::InternalError(absl::StrCat("input ", input->name(), ": ",
                                              handshakes.status().message()));
    }
    input->handshakes_ = *std::move(handshakes);
    if (config.bind()) {
      input->socket_.bind(config.endpoint());
      input->endpoint_ = input->socket_.get(zmq::sockopt::last_endpoint);
    } else {
      input->socket_.connect(config.endpoint());
      input->endpoint_ = config.endpoint();
      input->bound_ = false;
    }
    if (input->decode_threads_ > 1) {
      input->backend_ = zmq::socket_t(input->context_, zmq::socket_type::push);
      input->backend_.set(zmq::sockopt::linger, 0);
      input->backend_.set(zmq::sockopt::sndhwm, handoff_hwm);
      input->backend_.bind(input->InprocEndpoint());
    }
  } catch (const zmq::error_t& error) {
    return absl::InvalidArgumentError(
        absl::StrCat("input ", input->name(), ": cannot ",
                     config.bind() ? "bind " : "connect ", config.endpoint(),
                     ": ", error.what()));
  }
  return input;
}

ZmqInput::~ZmqInput() { Stop(absl::Now()); }

void ZmqInput::Start() {
  if (decode_threads_ == 1) {
    threads_.emplace_back(
        [this] { Decode(socket_, /*network=*/true, stopping_); });
    return;
  }
  threads_.emplace_back([this] { Forward(); });
  for (uint32_t i = 0; i < decode_threads_; ++i) {
    threads_.emplace_back([this] {
      zmq::socket_t packets(context_, zmq::socket_type::pull);
      packets.set(zmq::sockopt::linger, 0);
      packets.set(zmq::sockopt::rcvhwm, handoff_hwm_);
      packets.connect(InprocEndpoint());
      Decode(packets, /*network=*/false, forwarded_all_);
    });
  }
}

void ZmqInput::Stop(absl::Time deadline) {
  if (stopped_) return;
  stopped_ = true;
  deadline_ = deadline;
  stopping_.store(true, std::memory_order_release);
  for (std::thread& thread : threads_) thread.join();
  // Once no thread uses socket_, which no longer listens: the monitor read
  // every failure until then.
  if (handshakes_ != nullptr) handshakes_->Stop();
}

void ZmqInput::CloseToPeers() {
  try {
    // ZeroMQ keeps what the closed connections had delivered for as long as
    // the socket lingers, and drops it after: long enough to route it by
    // the deadline, or else to count it.
    const absl::Duration linger =
        std::max(deadline_ - absl::Now(), absl::ZeroDuration()) + kCountGrace;
    socket_.set(zmq::sockopt::linger,
                static_cast<int>(absl::ToInt64Milliseconds(linger)));
    if (bound_) {
      socket_.unbind(endpoint_);
    } else {
      socket_.disconnect(endpoint_);
    }
  } catch (const zmq::error_t& error) {
    LOG(WARNING) << "input " << name() << ": closing " << endpoint_ << ": "
                 << error.what();
  }
}

void ZmqInput::Pump(zmq::socket_t& socket, bool network,
                    const std::atomic<bool>& finished,
                    const std::function<void(zmq::message_t)>& take,
                    const std::function<void()>& flush) {
  zmq::pollitem_t items[] = {{socket.handle(), 0, ZMQ_POLLIN, 0}};
  zmq::message_t message;
  uint64_t left_at_deadline = 0;
  // Reads what is ready, until `finished` unless `draining`; returns how
  // many messages it read. A drain ends at the latest kCountGrace after the
  // deadline, should peers still be sending (if the socket could not be
  // closed to them).
  auto read_ready = [&](bool draining) {
    size_t read = 0, frames = 0, bytes = 0;
    while ((draining ? absl::Now() < deadline_ + kCountGrace
                     : !finished.load(std::memory_order_relaxed)) &&
           ReadMessage(socket, &message, &frames, &bytes)) {
      ++read;
      const auto peer = [&message] { return PeerOf(message); };
      if (frames > 1) {
        Refuse(RejectReason::kMultipartPacket,
               absl::StrCat("a message of ", frames, " frames (", bytes,
                            " bytes); a packet is one frame"),
               peer);
      } else if (draining && absl::Now() > deadline_) {
        ++left_at_deadline;
        Refuse(RejectReason::kShutdown,
               "packet left undecoded at the shutdown deadline", peer);
      } else {
        take(std::move(message));
      }
    }
    flush();
    return read;
  };
  while (!finished.load(std::memory_order_acquire)) {
    try {
      if (zmq::poll(items, 1, kPollInterval) > 0) read_ready(false);
    } catch (const zmq::error_t& error) {
      LOG_EVERY_T(ERROR, 1) << "input " << name() << ": " << error.what();
    }
  }
  // Nothing more is sent to `socket` once it is closed to peers (or, for a
  // decoding thread's socket, once the forwarder has finished): what it
  // holds is finite.
  if (network) CloseToPeers();
  try {
    while ((read_ready(true) > 0 ||
            (network && zmq::poll(items, 1, kQuiet) > 0)) &&
           absl::Now() < deadline_ + kCountGrace) {
    }
  } catch (const zmq::error_t& error) {
    LOG(ERROR) << "input " << name() << ": draining: " << error.what();
  }
  if (left_at_deadline > 0) {
    LOG(WARNING) << "input " << name() << ": " << left_at_deadline
                 << " packets left undecoded at the shutdown deadline";
  }
}

void ZmqInput::Decode(zmq::socket_t& socket, bool network,
                      const std::atomic<bool>& finished) {
  PacketDecoder decoder(limits_, verifier_);
  PacketGroup group;
  Pump(
      socket, network, finished,
      [&](zmq::message_t packet) {
        auto received = std::make_unique<ZmqPacketBytes>(std::move(packet));
        // The decode result keeps `received` alive until Accept returns.
        const ZmqPacketBytes* bytes = received.get();
        Accept(
            decoder.Decode(std::move(received)),
            [bytes] { return bytes->peer(); }, &group, dispatcher_);
        if (group.size() == kMaxGroup) DispatchGroup(&group, dispatcher_);
      },
      [&] { DispatchGroup(&group, dispatcher_); });
}

void ZmqInput::Forward() {
  Pump(
      socket_, /*network=*/true, stopping_,
      [this](zmq::message_t packet) {
        // Waits while every decoding thread's queue is full.
        backend_.send(packet, zmq::send_flags::none);
      },
      [] {});
  forwarded_all_.store(true, std::memory_order_release);
}

}  // namespace metlog
