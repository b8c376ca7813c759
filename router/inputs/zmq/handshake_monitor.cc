#include "router/inputs/zmq/handshake_monitor.h"

#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace metlog {
namespace {

// How often the reading thread looks at the stop flag.
constexpr int kPollIntervalMs = 100;
// Once stopping, how long the reader waits for the next event before it
// takes the queue for empty. Stop() asks ZeroMQ for MONITOR_STOPPED right
// after raising the flag, so the reader normally leaves on that event; it
// must not leave earlier, while ZeroMQ may still be writing events to it
// (a full monitor queue would block ZeroMQ's I/O thread).
constexpr int kDrainWaitMs = 50;

// What a ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL event's value means, in the
// words an operator needs.
std::string ProtocolFailure(int error) {
  switch (error) {
    case ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH:
      return "the peer uses another security mechanism (no CURVE on a CURVE "
             "input, or CURVE on an input without it)";
    case ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC:
      return "CURVE decryption failed (a client with the wrong server public "
             "key?)";
    default:
      return absl::StrCat("ZMTP protocol error 0x", absl::Hex(error));
  }
}

}  // namespace

// cppzmq's reader of monitor events, counting the failures it is sent.
class HandshakeMonitor::Events : public zmq::monitor_t {
 public:
  explicit Events(std::string input_name)
      : input_name_(std::move(input_name)) {}

  uint64_t failed() const { return failed_.load(std::memory_order_relaxed); }

  void on_event_handshake_failed_no_detail(const zmq_event_t& event,
                                           const char* address) override {
    Count(address, absl::StrCat("the connection failed mid-handshake: ",
                                std::generic_category().message(event.value)));
  }

  void on_event_handshake_failed_protocol(const zmq_event_t& event,
                                          const char* address) override {
    Count(address, ProtocolFailure(event.value));
  }

 private:
  // ZeroMQ names the socket's own endpoint here, not the peer's.
  void Count(const char* address, const std::string& reason) {
    failed_.fetch_add(1, std::memory_order_relaxed);
    LOG_EVERY_T(WARNING, 1)
        << "input " << input_name_ << ": refused a connection on " << address
        << ": " << reason;
  }

  const std::string input_name_;
  std::atomic<uint64_t> failed_{0};
};

HandshakeMonitor::HandshakeMonitor(std::unique_ptr<Events> events)
    : events_(std::move(events)) {}

absl::StatusOr<std::unique_ptr<HandshakeMonitor>> HandshakeMonitor::Watch(
    zmq::socket_t& socket, const std::string& inproc_endpoint,
    std::string input_name) {
  auto events = std::make_unique<Events>(std::move(input_name));
  try {
    // ZAP refusals (ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) are left to the ZAP
    // handler, which counts them. ZeroMQ sends MONITOR_STOPPED only when
    // asked to.
    events->init(socket, inproc_endpoint,
                 ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                     ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                     ZMQ_EVENT_MONITOR_STOPPED);
  } catch (const zmq::error_t& error) {
    return absl::InternalError(
        absl::StrCat("cannot monitor handshakes: ", error.what()));
  }
  std::unique_ptr<HandshakeMonitor> monitor(
      new HandshakeMonitor(std::move(events)));
  monitor->thread_ = std::thread([raw = monitor.get()] { raw->Read(); });
  return monitor;
}

HandshakeMonitor::~HandshakeMonitor() { Stop(); }

void HandshakeMonitor::Stop() {
  if (!thread_.joinable()) return;
  // The flag first: the reader, woken by MONITOR_STOPPED, then sees it.
  stopping_.store(true, std::memory_order_release);
  // ZeroMQ queues MONITOR_STOPPED behind every event it reported, and
  // reports nothing more.
  events_->abort();
  thread_.join();
}

uint64_t HandshakeMonitor::failed() const { return events_->failed(); }

void HandshakeMonitor::Read() {
  // Reads one event, if one comes within `timeout_ms`.
  auto check = [this](int timeout_ms) {
    try {
      return events_->check_event(timeout_ms);
    } catch (const zmq::error_t& error) {  // EINTR, or ETERM at exit
      LOG_EVERY_T(ERROR, 1) << "handshake monitor: " << error.what();
      return false;
    }
  };
  while (!stopping_.load(std::memory_order_acquire)) check(kPollIntervalMs);
  // Counts what was reported before Stop, up to MONITOR_STOPPED (on which
  // check_event returns false, as it does after kDrainWaitMs without one).
  while (check(kDrainWaitMs)) {
  }
}

}  // namespace metlog
