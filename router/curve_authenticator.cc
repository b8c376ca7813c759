#include "router/curve_authenticator.h"

#include <chrono>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "zmq_addon.hpp"

namespace metlog {
namespace {

// Where libzmq sends ZAP requests, in each context.
constexpr char kZapEndpoint[] = "inproc://zeromq.zap.01";
// How often the handler looks at the stop flag.
constexpr auto kPollInterval = std::chrono::milliseconds(100);
// A request has 6 frames and CURVE's one credential; more is not ZAP 1.0.
constexpr size_t kMaxRequestFrames = 8;

// RFC 27's request frames.
enum RequestFrame : size_t {
  kVersion = 0,
  kRequestId = 1,
  kDomain = 2,
  kAddress = 3,
  kIdentity = 4,
  kMechanism = 5,
  kClientKey = 6,
};

std::string Z85(const std::string& key) {
  char text[kZ85KeyLength + 1] = {};
  if (key.size() != kCurveKeyBytes ||
      zmq_z85_encode(text, reinterpret_cast<const uint8_t*>(key.data()),
                     key.size()) == nullptr) {
    return "(no key)";
  }
  return text;
}

}  // namespace

CurveAuthenticator::CurveAuthenticator(
    std::string input_name, absl::flat_hash_set<std::string> allowed_clients)
    : input_name_(std::move(input_name)),
      allowed_clients_(std::move(allowed_clients)) {}

absl::StatusOr<std::unique_ptr<CurveAuthenticator>> CurveAuthenticator::Secure(
    const v1::CurveServerConfig& config, std::string input_name,
    zmq::context_t& context, zmq::socket_t& socket) {
  absl::StatusOr<CurveServerKeys> keys = LoadCurveServerKeys(config);
  if (!keys.ok()) return keys.status();
  std::unique_ptr<CurveAuthenticator> authenticator(new CurveAuthenticator(
      std::move(input_name), std::move(keys->allowed_clients)));
  try {
    zmq::socket_t handler(context, zmq::socket_type::rep);
    handler.set(zmq::sockopt::linger, 0);
    handler.bind(kZapEndpoint);
    socket.set(zmq::sockopt::curve_server, true);
    socket.set(zmq::sockopt::curve_secretkey, keys->secret_key);
    // RFC 27's domain, named in the requests; libzmq asks the bound handler
    // about every CURVE handshake whatever the domain.
    socket.set(zmq::sockopt::zap_domain, "metlog");
    authenticator->thread_ = std::thread(
        [raw = authenticator.get(), h = std::move(handler)]() mutable {
          raw->Serve(std::move(h));
        });
  } catch (const zmq::error_t& error) {
    return absl::InvalidArgumentError(
        absl::StrCat("curve: cannot start the ZAP handler: ", error.what()));
  }
  LOG(INFO) << "input " << authenticator->input_name_
            << ": CURVE server, public key " << keys->public_key << ", "
            << authenticator->allowed_clients_.size() << " clients allowed";
  return authenticator;
}

CurveAuthenticator::~CurveAuthenticator() {
  stopping_.store(true, std::memory_order_release);
  if (thread_.joinable()) thread_.join();
}

void CurveAuthenticator::Serve(zmq::socket_t handler) {
  zmq::pollitem_t items[] = {{handler.handle(), 0, ZMQ_POLLIN, 0}};
  while (!stopping_.load(std::memory_order_acquire)) {
    try {
      if (zmq::poll(items, 1, kPollInterval) > 0) Answer(handler);
    } catch (const zmq::error_t& error) {
      LOG_EVERY_T(ERROR, 1)
          << "input " << input_name_ << ": ZAP handler: " << error.what();
    }
  }
}

void CurveAuthenticator::Answer(zmq::socket_t& handler) {
  // Only libzmq sends here (the endpoint is inproc), but frames past the
  // bound are still read and freed, so the next request starts clean.
  std::vector<zmq::message_t> request;
  zmq::message_t frame;
  if (!handler.recv(frame, zmq::recv_flags::dontwait)) return;
  bool more = frame.more();
  request.push_back(std::move(frame));
  while (more && handler.recv(frame)) {
    more = frame.more();
    if (request.size() < kMaxRequestFrames) request.push_back(std::move(frame));
  }
  const bool curve = request.size() == kClientKey + 1 &&
                     request[kVersion].to_string_view() == "1.0" &&
                     request[kMechanism].to_string_view() == "CURVE";
  const std::string client_key =
      curve ? request[kClientKey].to_string() : std::string();
  const bool allowed = curve && allowed_clients_.contains(client_key);
  if (!allowed) {
    refused_.fetch_add(1, std::memory_order_relaxed);
    LOG_EVERY_T(WARNING, 1)
        << "input " << input_name_ << ": refused CURVE client "
        << Z85(client_key) << " from "
        << (request.size() > kAddress ? request[kAddress].to_string()
                                      : std::string("unknown peer"))
        << (curve ? ": key not allowed" : ": not a CURVE handshake");
  }
  // A REP socket answers every request, malformed or not.
  std::vector<zmq::message_t> reply;
  reply.emplace_back(std::string("1.0"));
  reply.emplace_back(request.size() > kRequestId
                         ? request[kRequestId].to_string()
                         : std::string());
  reply.emplace_back(std::string(allowed ? "200" : "400"));
  reply.emplace_back(std::string(allowed ? "OK" : "client key not allowed"));
  reply.emplace_back(allowed ? Z85(client_key) : std::string());
  reply.emplace_back();  // no metadata
  zmq::send_multipart(handler, reply);
}

}  // namespace metlog
