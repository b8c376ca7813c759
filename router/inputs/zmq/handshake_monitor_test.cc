#include "router/inputs/zmq/handshake_monitor.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "router/curve_authenticator.h"

namespace metlog {
namespace {

struct KeyPair {
  std::string public_key, secret_key;
};

KeyPair NewKeyPair() {
  char public_key[41], secret_key[41];
  EXPECT_EQ(zmq_curve_keypair(public_key, secret_key), 0);
  return {public_key, secret_key};
}

// A PULL socket on a free loopback port, watched by a HandshakeMonitor;
// a CURVE server when `server_keys` are given: with `allowed_client`, the
// router's ZAP handler allows that key only; without, no ZAP handler is
// bound and only ZeroMQ's own checks apply.
class WatchedServer {
 public:
  explicit WatchedServer(const KeyPair& server_keys = KeyPair(),
                         const std::string& allowed_client = "")
      : socket_(context_, zmq::socket_type::pull) {
    socket_.set(zmq::sockopt::linger, 0);
    if (!allowed_client.empty()) {
      v1::CurveServerConfig config;
      const std::string key_file =
          std::string(std::getenv("TEST_TMPDIR")) + "/server.key";
      std::ofstream(key_file) << server_keys.secret_key << "\n";
      config.set_secret_key_file(key_file);
      config.add_allowed_client_keys(allowed_client);
      auto authenticator =
          CurveAuthenticator::Secure(config, "test", context_, socket_);
      EXPECT_TRUE(authenticator.ok()) << authenticator.status();
      authenticator_ = *std::move(authenticator);
    } else if (!server_keys.secret_key.empty()) {
      socket_.set(zmq::sockopt::curve_server, true);
      socket_.set(zmq::sockopt::curve_secretkey, server_keys.secret_key);
    }
    auto monitor =
        HandshakeMonitor::Watch(socket_, "inproc://handshakes", "test");
    EXPECT_TRUE(monitor.ok()) << monitor.status();
    monitor_ = *std::move(monitor);
    socket_.bind("tcp://127.0.0.1:*");
    endpoint_ = socket_.get(zmq::sockopt::last_endpoint);
  }

  const std::string& endpoint() const { return endpoint_; }
  zmq::socket_t& socket() { return socket_; }
  HandshakeMonitor& monitor() { return *monitor_; }
  const CurveAuthenticator& authenticator() const { return *authenticator_; }

 private:
  zmq::context_t context_;
  std::unique_ptr<CurveAuthenticator> authenticator_;
  zmq::socket_t socket_;
  std::unique_ptr<HandshakeMonitor> monitor_;
  std::string endpoint_;
};

// A PUSH client of `endpoint`, set up by `secure`, that has queued one
// message (sent once a handshake succeeds).
zmq::socket_t Client(zmq::context_t& context, const std::string& endpoint,
                     const std::function<void(zmq::socket_t&)>& secure) {
  zmq::socket_t socket(context, zmq::socket_type::push);
  socket.set(zmq::sockopt::linger, 0);
  secure(socket);
  socket.connect(endpoint);
  EXPECT_TRUE(socket.send(zmq::str_buffer("hello"), zmq::send_flags::dontwait));
  return socket;
}

std::function<void(zmq::socket_t&)> CurveClient(
    const std::string& server_public_key) {
  const KeyPair client = NewKeyPair();
  return [server_public_key, client](zmq::socket_t& socket) {
    socket.set(zmq::sockopt::curve_serverkey, server_public_key);
    socket.set(zmq::sockopt::curve_publickey, client.public_key);
    socket.set(zmq::sockopt::curve_secretkey, client.secret_key);
  };
}

void NoSecurity(zmq::socket_t&) {}

void Plain(zmq::socket_t& socket) {
  socket.set(zmq::sockopt::plain_username, "user");
  socket.set(zmq::sockopt::plain_password, "password");
}

// Waits, within a generous deadline, until `monitor` has counted a failure.
uint64_t WaitForFailure(const HandshakeMonitor& monitor) {
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (monitor.failed() == 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  return monitor.failed();
}

// Whether a ZAP handler refused `socket`'s handshake, as the client sees it
// (ZeroMQ's ERROR command); waits for it within a generous deadline.
bool WaitUntilRefusedByZap(zmq::socket_t& socket) {
  struct AuthFailures : zmq::monitor_t {
    bool refused = false;
    void on_event_handshake_failed_auth(const zmq_event_t&,
                                        const char*) override {
      refused = true;
    }
  } events;
  events.init(socket, "inproc://client-handshakes",
              ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (!events.refused && absl::Now() < deadline) events.check_event(100);
  return events.refused;
}

// Opens a TCP connection to `endpoint`, reads the start of ZeroMQ's
// greeting (so the server's handshake has begun) and closes it: exactly one
// failed handshake.
void ConnectAndLeave(const std::string& endpoint) {
  int port = 0;
  ASSERT_TRUE(
      absl::SimpleAtoi(endpoint.substr(endpoint.rfind(':') + 1), &port));
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address),
            0);
  const timeval timeout{30, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  char greeting[10];
  EXPECT_GT(read(fd, greeting, sizeof greeting), 0);
  close(fd);
}

TEST(HandshakeMonitorTest, CountsAClientWithoutCurveOnACurveSocket) {
  WatchedServer server(NewKeyPair());
  zmq::context_t context;
  zmq::socket_t client = Client(context, server.endpoint(), NoSecurity);
  // ZeroMQ's client reconnects after each failure: each attempt counts.
  EXPECT_GE(WaitForFailure(server.monitor()), 1u);
}

TEST(HandshakeMonitorTest, CountsAPlainClientOnACurveSocket) {
  WatchedServer server(NewKeyPair());
  zmq::context_t context;
  zmq::socket_t client = Client(context, server.endpoint(), Plain);
  EXPECT_GE(WaitForFailure(server.monitor()), 1u);
}

TEST(HandshakeMonitorTest, CountsACurveClientWithTheWrongServerKey) {
  WatchedServer server(NewKeyPair());
  zmq::context_t context;
  zmq::socket_t client =
      Client(context, server.endpoint(), CurveClient(NewKeyPair().public_key));
  EXPECT_GE(WaitForFailure(server.monitor()), 1u);
}

TEST(HandshakeMonitorTest, CountsACurveClientOnASocketWithoutCurve) {
  WatchedServer server;
  zmq::context_t context;
  zmq::socket_t client =
      Client(context, server.endpoint(), CurveClient(NewKeyPair().public_key));
  EXPECT_GE(WaitForFailure(server.monitor()), 1u);
}

TEST(HandshakeMonitorTest, CountsAPeerThatLeavesMidHandshake) {
  WatchedServer server;
  ConnectAndLeave(server.endpoint());
  EXPECT_EQ(WaitForFailure(server.monitor()), 1u);
}

TEST(HandshakeMonitorTest, LeavesZapRefusalsToTheZapHandler) {
  const KeyPair server_keys = NewKeyPair(), allowed = NewKeyPair();
  WatchedServer server(server_keys, allowed.public_key);
  zmq::context_t context;
  zmq::socket_t unlisted =
      Client(context, server.endpoint(), CurveClient(server_keys.public_key));
  ASSERT_TRUE(WaitUntilRefusedByZap(unlisted));
  // ZeroMQ reported the refusal to the server's monitor before sending it to
  // the client, and Stop counts what was reported.
  server.monitor().Stop();
  EXPECT_EQ(server.monitor().failed(), 0u);
  EXPECT_GE(server.authenticator().refused(), 1u);
}

TEST(HandshakeMonitorTest, CountsNothingForClientsThatGetThrough) {
  const KeyPair server_keys = NewKeyPair();
  WatchedServer curve_server(server_keys);
  WatchedServer plain_server;
  zmq::context_t context;
  zmq::socket_t curve_client = Client(context, curve_server.endpoint(),
                                      CurveClient(server_keys.public_key));
  zmq::socket_t null_client =
      Client(context, plain_server.endpoint(), NoSecurity);
  for (WatchedServer* server : {&curve_server, &plain_server}) {
    server->socket().set(zmq::sockopt::rcvtimeo, 30000);
    zmq::message_t message;
    ASSERT_TRUE(server->socket().recv(message));
    EXPECT_EQ(message.to_string(), "hello");
    // The handshake that carried the message succeeded.
    EXPECT_EQ(server->monitor().failed(), 0u);
  }
}

TEST(HandshakeMonitorTest, StopEndsCountingAndTheSocketStaysUsable) {
  WatchedServer server;
  server.monitor().Stop();
  server.monitor().Stop();  // idempotent
  zmq::context_t context;
  zmq::socket_t client = Client(context, server.endpoint(), NoSecurity);
  server.socket().set(zmq::sockopt::rcvtimeo, 30000);
  zmq::message_t message;
  ASSERT_TRUE(server.socket().recv(message));
  EXPECT_EQ(message.to_string(), "hello");
}

}  // namespace
}  // namespace metlog
