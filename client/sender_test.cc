// The queued senders against real sockets: a ZeroMQ PULL socket (plain and
// CURVE) and a UDP socket, both on 127.0.0.1 with ports picked by the kernel.
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "client/client_config.h"
#include "client/immediate_senders.h"
#include "client/metlog.h"
#include "client/senders.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "zmq.hpp"

namespace metlog {
namespace {

// A PULL socket standing in for the router's input.
class PullSocket {
 public:
  explicit PullSocket(const std::string& curve_secret_key = "") {
    if (!curve_secret_key.empty()) {
      socket_.set(zmq::sockopt::curve_server, 1);
      socket_.set(zmq::sockopt::curve_secretkey, curve_secret_key);
    }
    socket_.bind("tcp://127.0.0.1:*");
    endpoint_ = socket_.get(zmq::sockopt::last_endpoint);
  }

  const std::string& endpoint() const { return endpoint_; }

  // Receives packets until `messages` messages arrived or `timeout` passed.
  std::vector<v1::Packet> Receive(size_t messages, absl::Duration timeout) {
    std::vector<v1::Packet> packets;
    size_t count = 0;
    const absl::Time deadline = absl::Now() + timeout;
    while (count < messages && absl::Now() < deadline) {
      zmq::message_t frame;
      socket_.set(zmq::sockopt::rcvtimeo, 50);
      if (!socket_.recv(frame)) continue;
      v1::Packet packet;
      EXPECT_TRUE(packet.ParseFromArray(frame.data(), frame.size()));
      v1::Batch batch;
      EXPECT_TRUE(batch.ParseFromString(packet.batch()));
      count += batch.messages_size();
      packets.push_back(std::move(packet));
    }
    return packets;
  }

  void Close() { socket_.close(); }

 private:
  zmq::context_t context_{1};
  zmq::socket_t socket_{context_, zmq::socket_type::pull};
  std::string endpoint_;
};

std::vector<v1::Message> MessagesOf(const std::vector<v1::Packet>& packets) {
  std::vector<v1::Message> messages;
  for (const v1::Packet& packet : packets) {
    v1::Batch batch;
    batch.ParseFromString(packet.batch());
    for (const v1::Message& m : batch.messages()) messages.push_back(m);
  }
  return messages;
}

// An endpoint on which nothing listens: bind a port, then release it.
std::string DeadEndpoint() {
  zmq::context_t context;
  zmq::socket_t socket(context, zmq::socket_type::pull);
  socket.bind("tcp://127.0.0.1:*");
  std::string endpoint = socket.get(zmq::sockopt::last_endpoint);
  socket.close();
  return endpoint;
}

std::unique_ptr<Client> ZmqClient(const std::string& endpoint,
                                  QueuedSender::Options options = {}) {
  auto sender = MakeZmqSender({endpoint}, std::move(options));
  EXPECT_TRUE(sender.ok()) << sender.status();
  return std::make_unique<Client>(*std::move(sender), "test");
}

TEST(ZmqSenderTest, DeliversInOrderBatchedIntoFewPackets) {
  PullSocket pull;
  auto client = ZmqClient(pull.endpoint());
  for (int i = 0; i < 2000; ++i) client->Incr(absl::StrCat("n", i));
  ASSERT_TRUE(client->Flush(absl::Seconds(5)));
  const auto packets = pull.Receive(2000, absl::Seconds(5));
  const auto messages = MessagesOf(packets);
  ASSERT_EQ(messages.size(), 2000u);
  for (int i = 0; i < 2000; ++i) {
    ASSERT_EQ(messages[i].fields(0).value_string(0), absl::StrCat("n", i));
  }
  EXPECT_LT(packets.size(), 200u) << "messages should share packets";
  const ClientStats stats = client->Stats();
  EXPECT_EQ(stats.sent, 2000u);
  EXPECT_EQ(stats.dropped(), 0u);
  EXPECT_EQ(stats.queued, 0u);
}

TEST(ZmqSenderTest, PacketsStayUnderTheSizeBoundAndHugeMessagesAreCounted) {
  PullSocket pull;
  QueuedSender::Options options;
  options.max_packet_bytes = 2000;
  auto client = ZmqClient(pull.endpoint(), options);
  for (int i = 0; i < 100; ++i) client->Metlog("log", std::string(100, 'x'));
  client->Metlog("log", std::string(5000, 'y'));
  ASSERT_TRUE(client->Flush(absl::Seconds(5)));
  const auto packets = pull.Receive(100, absl::Seconds(5));
  EXPECT_EQ(MessagesOf(packets).size(), 100u);
  EXPECT_GT(packets.size(), 5u);
  for (const auto& packet : packets) EXPECT_LE(packet.ByteSizeLong(), 2000u);
  EXPECT_EQ(client->Stats().dropped_oversized, 1u);
}

TEST(ZmqSenderTest, WithNoRouterEveryMessageIsDroppedAndCounted) {
  QueuedSender::Options options;
  options.unsent_grace = absl::Milliseconds(20);
  options.queue_capacity = 1000;
  auto client = ZmqClient(DeadEndpoint(), options);
  constexpr int kCalls = 200000;
  const absl::Time start = absl::Now();
  for (int i = 0; i < kCalls; ++i) client->Incr("lost");
  EXPECT_LT(absl::Now() - start, absl::Seconds(5)) << "calls must not block";
  ASSERT_TRUE(client->Flush(absl::Seconds(5)));
  const ClientStats stats = client->Stats();
  EXPECT_EQ(stats.sent, 0u);
  EXPECT_EQ(stats.dropped(), static_cast<uint64_t>(kCalls));
  EXPECT_GT(stats.dropped_queue_full, 0u);
  EXPECT_GT(stats.dropped_unsent, 0u);
}

TEST(ZmqSenderTest, ReconnectsWhenTheRouterComesBack) {
  const std::string endpoint = DeadEndpoint();
  QueuedSender::Options options;
  options.unsent_grace = absl::Milliseconds(20);
  auto client = ZmqClient(endpoint, options);
  client->Incr("before");
  ASSERT_TRUE(client->Flush(absl::Seconds(5)));
  EXPECT_EQ(client->Stats().dropped_unsent, 1u);

  zmq::context_t context;
  zmq::socket_t pull(context, zmq::socket_type::pull);
  pull.bind(endpoint);
  pull.set(zmq::sockopt::rcvtimeo, 100);
  // ZeroMQ retries the connection every 100 ms; keep sending until through.
  size_t received = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (received == 0 && absl::Now() < deadline) {
    client->Incr("after");
    client->Flush(absl::Seconds(1));
    zmq::message_t frame;
    if (pull.recv(frame)) ++received;
  }
  EXPECT_EQ(received, 1u);
  EXPECT_GT(client->Stats().sent, 0u);
}

TEST(ZmqSenderTest, ManyThreadsLoseNothingWhenTheQueueHasRoom) {
  PullSocket pull;
  QueuedSender::Options options;
  options.queue_capacity = 1 << 20;
  options.max_queued_bytes = 256 << 20;
  auto client = ZmqClient(pull.endpoint(), options);
  constexpr int kThreads = 8, kPerThread = 10000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&client] {
      for (int i = 0; i < kPerThread; ++i) client->Incr("shared");
    });
  }
  for (auto& thread : threads) thread.join();
  ASSERT_TRUE(client->Flush(absl::Seconds(10)));
  const auto messages =
      MessagesOf(pull.Receive(kThreads * kPerThread, absl::Seconds(10)));
  EXPECT_EQ(messages.size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(client->Stats().dropped(), 0u);
}

std::string IndependentHmac(const std::string& key, const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), key.size(),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest,
       &length);
  return std::string(reinterpret_cast<char*>(digest), length);
}

TEST(ZmqSenderTest, SignedPacketsCarryAValidHmac) {
  PullSocket pull;
  QueuedSender::Options options;
  options.signer.emplace("billing", 3, "s3cret");
  auto client = ZmqClient(pull.endpoint(), options);
  client->Incr("signed");
  ASSERT_TRUE(client->Flush(absl::Seconds(5)));
  const auto packets = pull.Receive(1, absl::Seconds(5));
  ASSERT_EQ(packets.size(), 1u);
  const v1::Signature& signature = packets[0].signature();
  EXPECT_EQ(signature.signer(), "billing");
  EXPECT_EQ(signature.key_version(), 3u);
  EXPECT_EQ(signature.hmac_sha256().size(), 32u);
  EXPECT_EQ(signature.hmac_sha256(),
            IndependentHmac("s3cret", packets[0].batch()));
  EXPECT_NE(signature.hmac_sha256(),
            IndependentHmac("wrong", packets[0].batch()));
}

struct KeyPair {
  std::string public_key, secret_key;
};

KeyPair CurveKeyPair() {
  char public_key[41], secret_key[41];
  EXPECT_EQ(zmq_curve_keypair(public_key, secret_key), 0);
  return {public_key, secret_key};
}

TEST(ZmqSenderTest, CurveConnectsToACurveServer) {
  const KeyPair server = CurveKeyPair(), client_keys = CurveKeyPair();
  PullSocket pull(server.secret_key);
  v1::ClientConfig config;
  config.add_endpoints(pull.endpoint());
  config.set_logger("curvy");
  config.mutable_curve()->set_server_public_key(server.public_key);
  config.mutable_curve()->set_public_key(client_keys.public_key);
  config.mutable_curve()->set_secret_key(client_keys.secret_key);
  auto client = MakeClient(config);
  ASSERT_TRUE(client.ok()) << client.status();
  (*client)->Incr("encrypted");
  ASSERT_TRUE((*client)->Flush(absl::Seconds(5)));
  const auto messages = MessagesOf(pull.Receive(1, absl::Seconds(5)));
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].logger(), "curvy");
}

TEST(ZmqSenderTest, CurveWithTheWrongServerKeyDeliversNothing) {
  const KeyPair server = CurveKeyPair(), impostor = CurveKeyPair(),
                client_keys = CurveKeyPair();
  PullSocket pull(server.secret_key);
  ZmqTransport::Options transport;
  transport.endpoints = {pull.endpoint()};
  transport.curve_server_public_key = impostor.public_key;
  transport.curve_public_key = client_keys.public_key;
  transport.curve_secret_key = client_keys.secret_key;
  QueuedSender::Options options;
  options.unsent_grace = absl::Milliseconds(100);
  auto sender = MakeZmqSender(transport, options);
  ASSERT_TRUE(sender.ok());
  Client client(*std::move(sender), "x");
  client.Incr("never");
  ASSERT_TRUE(client.Flush(absl::Seconds(5)));
  EXPECT_TRUE(pull.Receive(1, absl::Milliseconds(300)).empty());
  EXPECT_EQ(client.Stats().dropped_unsent, 1u);
}

TEST(ZmqSenderTest, MalformedEndpointOrKeyIsAnError) {
  EXPECT_FALSE(MakeZmqSender({"nonsense://x"}).ok());
  ZmqTransport::Options transport;
  transport.endpoints = {"tcp://127.0.0.1:1"};
  transport.curve_server_public_key = "short";
  EXPECT_FALSE(MakeZmqSender(transport, {}).ok());
}

TEST(UdpSenderTest, OnePacketPerDatagramUnderTheBound) {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)),
            0);
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  timeval timeout{0, 200000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));

  QueuedSender::Options options;
  options.max_packet_bytes = 1400;
  auto sender = MakeUdpSender(
      absl::StrCat("127.0.0.1:", ntohs(address.sin_port)), options);
  ASSERT_TRUE(sender.ok()) << sender.status();
  Client client(*std::move(sender), "udp");
  for (int i = 0; i < 300; ++i) client.Incr(absl::StrCat("udp", i));
  ASSERT_TRUE(client.Flush(absl::Seconds(5)));

  std::vector<v1::Message> messages;
  int datagrams = 0;
  char buffer[65536];
  ssize_t n;
  while ((n = recv(fd, buffer, sizeof(buffer), 0)) > 0) {
    ++datagrams;
    EXPECT_LE(n, 1400);
    v1::Packet packet;
    ASSERT_TRUE(packet.ParseFromArray(buffer, n));
    for (const auto& m : MessagesOf({packet})) messages.push_back(m);
  }
  close(fd);
  ASSERT_EQ(messages.size(), 300u);
  EXPECT_GT(datagrams, 1);
  EXPECT_EQ(messages[299].fields(0).value_string(0), "udp299");
}

TEST(StreamSenderTest, WritesOneJsonObjectPerLine) {
  const std::string path =
      absl::StrCat(std::getenv("TEST_TMPDIR"), "/stream.jsonl");
  v1::ClientConfig config;
  config.set_sender(v1::ClientConfig::STREAM);
  config.set_stream_path(path);
  config.set_logger("streamer");
  {
    auto client = MakeClient(config);
    ASSERT_TRUE(client.ok()) << client.status();
    (*client)->Incr("a");
    (*client)->Warn("b %d", 2);
  }
  std::ifstream file(path);
  std::string line;
  std::vector<v1::Message> messages;
  while (std::getline(file, line)) {
    v1::Message m;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &m).ok());
    messages.push_back(m);
  }
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].type(), "counter");
  EXPECT_EQ(messages[1].payload(), "b 2");
  EXPECT_EQ(messages[1].logger(), "streamer");
}

TEST(StreamSenderTest, InvalidUtf8IsWrittenVisiblyNotDropped) {
  const std::string path =
      absl::StrCat(std::getenv("TEST_TMPDIR"), "/utf8.jsonl");
  auto sender = StreamSender::Open(path);
  ASSERT_TRUE(sender.ok()) << sender.status();
  Client client(std::unique_ptr<Sender>(*std::move(sender)), "streamer");
  client.Metlog("log", "caf\xc3\xa9 \xff\xfe end",
                {MakeField("k", "bad \xff")});
  client.Flush(absl::Seconds(1));
  std::ifstream file(path);
  std::string line;
  ASSERT_TRUE(std::getline(file, line));
  v1::Message m;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &m).ok());
  EXPECT_EQ(m.payload(), "caf\xc3\xa9 ?? end");
  EXPECT_EQ(m.fields(0).value_string(0), "bad ?");
  EXPECT_EQ(client.Stats().sent, 1u);
}

TEST(ClientConfigTest, TextConfigAndEnvironment) {
  auto config = ParseClientConfig(R"pb(
    endpoints: "tcp://127.0.0.1:1"
    logger: "from-file"
    severity: 5
    filters { max_severity: 4 disabled_timers: "*" }
  )pb");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->filters().max_severity(), 4);
  setenv("METLOG_ENDPOINT", "tcp://127.0.0.1:2", 1);
  setenv("METLOG_LOGGER", "from-env", 1);
  const absl::StatusOr<v1::ClientConfig> with_environment =
      WithEnvironment(*config);
  unsetenv("METLOG_ENDPOINT");
  unsetenv("METLOG_LOGGER");
  ASSERT_TRUE(with_environment.ok()) << with_environment.status();
  const v1::ClientConfig& applied = *with_environment;
  ASSERT_EQ(applied.endpoints_size(), 1);
  EXPECT_EQ(applied.endpoints(0), "tcp://127.0.0.1:2");
  EXPECT_EQ(applied.logger(), "from-env");

  auto broken = ParseClientConfig("logger: \"x\"\nendpionts: \"y\"", "c.txt");
  ASSERT_FALSE(broken.ok());
  EXPECT_THAT(std::string(broken.status().message()),
              ::testing::HasSubstr("c.txt:2:"));
}

TEST(ClientConfigTest, CaptureSenderFromConfig) {
  v1::ClientConfig config;
  config.set_sender(v1::ClientConfig::CAPTURE);
  config.set_capture_limit(2);
  config.set_logger("cap");
  auto client = MakeClient(config);
  ASSERT_TRUE(client.ok());
  for (int i = 0; i < 5; ++i) (*client)->Incr(absl::StrCat(i));
  auto* capture = dynamic_cast<CaptureSender*>(&(*client)->sender());
  ASSERT_NE(capture, nullptr);
  const auto messages = capture->Messages();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[1].fields(0).value_string(0), "4");
}

}  // namespace
}  // namespace metlog
