// Compatibility inputs of the router binary (issue 13), each into a file
// sink asserted field by field: real statsd lines, as Etsy statsd clients
// send them (a bad line is counted and the rest of its datagram kept), and
// metlog-py's JSON envelope.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "integration_tests/protobuf_records.h"
#include "proto/admin.grpc.pb.h"
#include "tools/testing/router_process.h"

namespace metlog {
namespace {

using testing::RouterProcess;
using testing::TempPath;

std::vector<v1::Message> WaitForMessages(const std::string& name,
                                         size_t count) {
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  std::vector<v1::Message> messages;
  do {
    messages = testing::ReadProtobufRecords(TempPath(name + ".jsonl"));
    if (messages.size() >= count) break;
    absl::SleepFor(absl::Milliseconds(20));
  } while (absl::Now() < deadline);
  return messages;
}

const v1::Field* FieldNamed(const v1::Message& m, const std::string& name) {
  for (const v1::Field& field : m.fields()) {
    if (field.name() == name) return &field;
  }
  return nullptr;
}

TEST(StatsdInputTest, StatsdLinesArriveAsMetricMessages) {
  auto router = RouterProcess::Start(
      "statsd_lines", absl::StrCat(R"(
    inputs { options { [type.googleapis.com/metlog.v1.StatsdInputConfig] { address: "127.0.0.1:0" } } }
    admin { listen_address: "127.0.0.1:0" }
    stats_interval_ms: 0
    sinks { name: "file" queue { flush_interval_ms: 10 }
      options { [type.googleapis.com/metlog.sinks.FileOptions] { path: ")",
                                   TempPath("statsd_lines.jsonl"),
                                   R"(" encoding { codec: PROTOBUF } } } })"));
  ASSERT_TRUE(router.ok()) << router.status();
  ASSERT_TRUE(
      testing::SendLoopbackDatagram(router->endpoint(), "gorets:1|c|@0.1")
          .ok());
  ASSERT_TRUE(testing::SendLoopbackDatagram(
                  router->endpoint(),
                  "glork:320|ms\nnot a metric|x\ngaugor:-10|g\nuniques:765|s\n"
                  "page.views:3|c|#env:prod,region:eu")
                  .ok());
  const std::vector<v1::Message> messages = WaitForMessages("statsd_lines", 5);
  ASSERT_EQ(messages.size(), 5u);

  EXPECT_EQ(messages[0].type(), "counter");
  EXPECT_EQ(messages[0].payload(), "1");
  EXPECT_EQ(messages[0].logger(), "statsd");
  EXPECT_EQ(messages[0].uuid().size(), 16u);
  EXPECT_GT(messages[0].timestamp(), 0);
  EXPECT_EQ(FieldNamed(messages[0], "name")->value_string(0), "gorets");
  EXPECT_EQ(FieldNamed(messages[0], "rate")->value_double(0), 0.1);

  EXPECT_EQ(messages[1].type(), "timer");
  EXPECT_EQ(messages[1].payload(), "320");
  EXPECT_EQ(FieldNamed(messages[1], "name")->value_string(0), "glork");
  EXPECT_EQ(FieldNamed(messages[1], "rate")->value_double(0), 1.0);

  EXPECT_EQ(messages[2].type(), "gauge");
  EXPECT_EQ(messages[2].payload(), "-10");
  EXPECT_TRUE(FieldNamed(messages[2], "delta")->value_bool(0));

  EXPECT_EQ(messages[3].type(), "set");
  EXPECT_EQ(messages[3].payload(), "765");

  EXPECT_EQ(messages[4].type(), "counter");
  EXPECT_EQ(FieldNamed(messages[4], "name")->value_string(0), "page.views");
  EXPECT_EQ(FieldNamed(messages[4], "env")->value_string(0), "prod");
  EXPECT_EQ(FieldNamed(messages[4], "region")->value_string(0), "eu");

  auto stub = v1::Admin::NewStub(grpc::CreateChannel(
      router->admin_address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  v1::StatsResponse stats;
  ASSERT_TRUE(stub->Stats(&context, {}, &stats).ok());
  const v1::InputStats* input = nullptr;
  for (const v1::InputStats& each : stats.inputs()) {
    if (each.name() == "statsd") input = &each;
  }
  ASSERT_NE(input, nullptr);
  EXPECT_EQ(input->packets_received(), 2u);
  EXPECT_EQ(input->messages_accepted(), 5u);
  EXPECT_EQ(input->rejected().at("malformed_line"), 1u);
  ASSERT_TRUE(router->Stop().ok());
}

const v1::InputStats* InputNamed(const RouterProcess& router,
                                 const std::string& name,
                                 v1::StatsResponse* stats) {
  auto stub = v1::Admin::NewStub(grpc::CreateChannel(
      router.admin_address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  EXPECT_TRUE(stub->Stats(&context, {}, stats).ok());
  for (const v1::InputStats& each : stats->inputs()) {
    if (each.name() == name) return &each;
  }
  return nullptr;
}

TEST(MetlogJsonInputTest, MetlogPyJsonArrivesWithEveryKeyMapped) {
  auto router = RouterProcess::Start(
      "metlog_json", absl::StrCat(R"(
    inputs { options { [type.googleapis.com/metlog.v1.MetlogJsonInputConfig] { address: "127.0.0.1:0" } } }
    admin { listen_address: "127.0.0.1:0" }
    stats_interval_ms: 0
    sinks { name: "file" queue { flush_interval_ms: 10 }
      options { [type.googleapis.com/metlog.sinks.FileOptions] { path: ")",
                                  TempPath("metlog_json.jsonl"),
                                  R"(" encoding { codec: PROTOBUF } } } })"));
  ASSERT_TRUE(router.ok()) << router.status();
  // What metlog-py's client.incr() hands json.dumps().
  ASSERT_TRUE(
      testing::SendLoopbackDatagram(
          router->endpoint(),
          R"({"severity": 6, "timestamp": "2012-03-14T20:20:11.123456",)"
          R"( "metlog_hostname": "web1", "fields": {"name": "hits",)"
          R"( "rate": 1, "path": ["/a", "/b"]}, "logger": "shop",)"
          R"( "type": "counter", "payload": "1", "env_version": "0.8",)"
          R"( "metlog_pid": 4242})")
          .ok());
  ASSERT_TRUE(
      testing::SendLoopbackDatagram(router->endpoint(), "{not json").ok());
  ASSERT_TRUE(testing::SendLoopbackDatagram(
                  router->endpoint(),
                  R"({"type": "oldstyle", "payload": "after the bad one"})")
                  .ok());
  const std::vector<v1::Message> messages = WaitForMessages("metlog_json", 2);
  ASSERT_EQ(messages.size(), 2u);
  const v1::Message& m = messages[0];
  EXPECT_EQ(m.type(), "counter");
  EXPECT_EQ(m.logger(), "shop");
  EXPECT_EQ(m.severity(), 6);
  EXPECT_EQ(m.payload(), "1");
  EXPECT_EQ(m.env_version(), "0.8");
  EXPECT_EQ(m.pid(), 4242);
  EXPECT_EQ(m.hostname(), "web1");
  EXPECT_EQ(m.timestamp(), 1331756411123456000);
  EXPECT_EQ(m.uuid().size(), 16u);
  EXPECT_EQ(FieldNamed(m, "name")->value_string(0), "hits");
  EXPECT_EQ(FieldNamed(m, "rate")->value_double(0), 1.0);
  EXPECT_EQ(FieldNamed(m, "path")->value_string_size(), 2);
  EXPECT_EQ(FieldNamed(m, "path")->value_string(1), "/b");
  EXPECT_EQ(messages[1].payload(), "after the bad one");

  v1::StatsResponse stats;
  const v1::InputStats* input = InputNamed(*router, "metlog_json", &stats);
  ASSERT_NE(input, nullptr);
  EXPECT_EQ(input->packets_received(), 3u);
  EXPECT_EQ(input->messages_accepted(), 2u);
  EXPECT_EQ(input->rejected().at("malformed_packet"), 1u);
  ASSERT_TRUE(router->Stop().ok());
}

// Heka's stream framing as its documentation gives it: 0x1E, the header's
// length (one byte), a protobuf Header {1: message_length, 3:
// hmac_hash_function (0 MD5, 1 SHA1), 4: hmac_signer, 5: hmac_key_version,
// 6: hmac}, 0x1F, the message. Written byte by byte here, from that text.
std::string Varint(uint64_t value) {
  std::string out;
  while (value > 0x7f) {
    out += static_cast<char>((value & 0x7f) | 0x80);
    value >>= 7;
  }
  out += static_cast<char>(value);
  return out;
}

std::string HekaFrame(const std::string& message, const std::string& signer,
                      const std::string& key) {
  std::string header = "\x08" + Varint(message.size());
  if (!signer.empty()) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(message.data()), message.size(),
         digest, &length);
    header += "\x18\x01";  // SHA1
    header += "\x22" + Varint(signer.size()) + signer;
    header += "\x28\x01";  // key version 1
    header += "\x32" + Varint(length) +
              std::string(reinterpret_cast<const char*>(digest), length);
  }
  return "\x1e" + std::string(1, static_cast<char>(header.size())) + header +
         "\x1f" + message;
}

void SendTcp(const std::string& endpoint, const std::string& bytes) {
  std::vector<std::string> parts = absl::StrSplit(endpoint, ':');
  ASSERT_EQ(parts.size(), 3u) << endpoint;
  int port = 0;
  ASSERT_TRUE(absl::SimpleAtoi(parts[2], &port));
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof(to)), 0);
  // In small pieces, as a TCP stream may arrive.
  for (size_t at = 0; at < bytes.size(); at += 7) {
    const std::string piece = bytes.substr(at, 7);
    ASSERT_EQ(write(fd, piece.data(), piece.size()),
              static_cast<ssize_t>(piece.size()));
  }
  close(fd);
}

TEST(HekaInputTest, HekaFramesArriveAndWrongHmacsAreRefused) {
  auto router = RouterProcess::Start(
      "heka", absl::StrCat(R"(
    inputs { options { [type.googleapis.com/metlog.v1.HekaInputConfig] { address: "127.0.0.1:0" } } require_signature: true }
    signers { name: "hindsight" keys { version: 1 key: "heka key" } }
    admin { listen_address: "127.0.0.1:0" }
    stats_interval_ms: 0
    sinks { name: "file" queue { flush_interval_ms: 10 }
      options { [type.googleapis.com/metlog.sinks.FileOptions] { path: ")",
                           TempPath("heka.jsonl"),
                           R"(" encoding { codec: PROTOBUF } } } })"));
  ASSERT_TRUE(router.ok()) << router.status();
  v1::Message message;
  message.set_uuid(std::string(16, '\x07'));
  message.set_timestamp(1331756411000000000);
  message.set_type("heka.stat");
  message.set_logger("hindsight");
  message.set_severity(5);
  message.set_payload("42");
  message.set_hostname("edge1");
  message.set_pid(99);
  message.set_env_version("0.10");
  v1::Field* field = message.add_fields();
  field->set_name("bytes");
  field->set_value_type(v1::Field::INTEGER);
  field->add_value_integer(1024);
  const std::string bytes = message.SerializeAsString();
  v1::Message second = message;
  second.set_payload("43");
  SendTcp(router->endpoint(),
          HekaFrame(bytes, "hindsight", "heka key") +
              HekaFrame(bytes, "hindsight", "wrong key") +
              HekaFrame(bytes, "", "") +
              HekaFrame(second.SerializeAsString(), "hindsight", "heka key"));
  const std::vector<v1::Message> messages = WaitForMessages("heka", 2);
  ASSERT_EQ(messages.size(), 2u);
  const v1::Message& m = messages[0];
  EXPECT_EQ(m.uuid(), std::string(16, '\x07'));
  EXPECT_EQ(m.timestamp(), 1331756411000000000);
  EXPECT_EQ(m.type(), "heka.stat");
  EXPECT_EQ(m.logger(), "hindsight");
  EXPECT_EQ(m.severity(), 5);
  EXPECT_EQ(m.payload(), "42");
  EXPECT_EQ(m.hostname(), "edge1");
  EXPECT_EQ(m.pid(), 99);
  EXPECT_EQ(m.env_version(), "0.10");
  EXPECT_EQ(FieldNamed(m, "bytes")->value_integer(0), 1024);
  EXPECT_EQ(messages[1].payload(), "43");

  v1::StatsResponse stats;
  const v1::InputStats* input = InputNamed(*router, "heka", &stats);
  ASSERT_NE(input, nullptr);
  EXPECT_EQ(input->messages_accepted(), 2u);
  EXPECT_EQ(input->rejected().at("bad_signature"), 1u);
  EXPECT_EQ(input->rejected().at("unsigned_packet"), 1u);
  ASSERT_TRUE(router->Stop().ok());
}

}  // namespace
}  // namespace metlog
