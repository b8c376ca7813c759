#include "router/curve_authenticator.h"

#include <cstdlib>
#include <fstream>
#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

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

std::string WriteSecretKey(const std::string& name, const KeyPair& keys) {
  const std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
  std::ofstream(path) << keys.secret_key << "\n";
  return path;
}

// A PUSH client of `endpoint`: CURVE with `keys` unless they are empty.
zmq::socket_t Client(zmq::context_t& context, const std::string& endpoint,
                     const std::string& server_public_key,
                     const KeyPair& keys) {
  zmq::socket_t socket(context, zmq::socket_type::push);
  socket.set(zmq::sockopt::linger, 0);
  if (!keys.public_key.empty()) {
    socket.set(zmq::sockopt::curve_serverkey, server_public_key);
    socket.set(zmq::sockopt::curve_publickey, keys.public_key);
    socket.set(zmq::sockopt::curve_secretkey, keys.secret_key);
  }
  socket.connect(endpoint);
  return socket;
}

// Receives one message within a generous deadline; "" when none came.
std::string Receive(zmq::socket_t& socket) {
  socket.set(zmq::sockopt::rcvtimeo, 20000);
  zmq::message_t message;
  if (!socket.recv(message)) return "";
  return message.to_string();
}

TEST(CurveAuthenticatorTest, OnlyAllowedClientsGetMessagesThrough) {
  const KeyPair server = NewKeyPair(), allowed = NewKeyPair(),
                unlisted = NewKeyPair();
  v1::CurveServerConfig config;
  config.set_secret_key_file(WriteSecretKey("server.key", server));
  config.add_allowed_client_keys(allowed.public_key);

  zmq::context_t server_context;
  zmq::socket_t pull(server_context, zmq::socket_type::pull);
  pull.set(zmq::sockopt::linger, 0);
  auto authenticator =
      CurveAuthenticator::Secure(config, "test", server_context, pull);
  ASSERT_TRUE(authenticator.ok()) << authenticator.status();
  pull.bind("tcp://127.0.0.1:*");
  const std::string endpoint = pull.get(zmq::sockopt::last_endpoint);

  zmq::context_t client_context;
  zmq::socket_t stranger =
      Client(client_context, endpoint, server.public_key, unlisted);
  zmq::socket_t plaintext = Client(client_context, endpoint, "", KeyPair());
  // Both queue their message until a handshake succeeds, which never comes.
  ASSERT_TRUE(stranger.send(zmq::str_buffer("from the stranger"),
                            zmq::send_flags::dontwait));
  ASSERT_TRUE(plaintext.send(zmq::str_buffer("in plaintext"),
                             zmq::send_flags::dontwait));
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while ((*authenticator)->refused() == 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_GT((*authenticator)->refused(), 0u);

  zmq::socket_t friendly =
      Client(client_context, endpoint, server.public_key, allowed);
  ASSERT_TRUE(friendly.send(zmq::str_buffer("first"), zmq::send_flags::none));
  ASSERT_TRUE(friendly.send(zmq::str_buffer("second"), zmq::send_flags::none));
  EXPECT_EQ(Receive(pull), "first");
  EXPECT_EQ(Receive(pull), "second");
  // Nothing else is waiting: neither refused client got a message in.
  zmq::message_t extra;
  EXPECT_FALSE(pull.recv(extra, zmq::recv_flags::dontwait));
}

TEST(CurveAuthenticatorTest, BadKeyFileFailsBeforeAnythingBinds) {
  v1::CurveServerConfig config;
  config.set_secret_key_file("/nonexistent/server.key");
  config.add_allowed_client_keys(NewKeyPair().public_key);
  zmq::context_t context;
  zmq::socket_t pull(context, zmq::socket_type::pull);
  pull.set(zmq::sockopt::linger, 0);
  auto authenticator =
      CurveAuthenticator::Secure(config, "test", context, pull);
  EXPECT_FALSE(authenticator.ok());
}

}  // namespace
}  // namespace metlog
