// The router binary against hostile or unlucky input (issue 9): packets
// protobuf refuses, gRPC requests that are no Batch, and a shutdown while
// several decode threads hold a backlog.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "integration_tests/protobuf_records.h"
#include "proto/admin.grpc.pb.h"
#include "tools/testing/router_process.h"
#include "zmq.hpp"

namespace metlog {
namespace {

using ::testing::HasSubstr;
using testing::RouterProcess;
using testing::TempPath;

// The packets of issue 9 item 1: a tag padded to 6 bytes, which protobuf
// 3.21 refuses; they aborted the router (LOG(DFATAL) under fastbuild).
const char kPaddedTagZmqFrame[] = "0a0a0a089a80808080000178";
const char kPaddedTagUdpDatagram[] =
    "0a180a169a8080808000036c6f67320a7061646465642d746167";

std::string FileSink(const std::string& name,
                     const std::string& queue = "flush_interval_ms: 10") {
  return absl::StrCat(
      R"( sinks { name: ")", name, R"(" match: 'TRUE' queue { )", queue,
      R"( } options { [type.googleapis.com/metlog.sinks.FileOptions] {
            path: ")",
      TempPath(name + ".jsonl"), R"(" encoding { codec: PROTOBUF } } } })");
}

std::vector<v1::Message> ReadMessages(const std::string& name) {
  return testing::ReadProtobufRecords(TempPath(name + ".jsonl"));
}

std::vector<v1::Message> WaitForMessages(const std::string& name,
                                         size_t count) {
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  std::vector<v1::Message> messages;
  do {
    messages = ReadMessages(name);
    if (messages.size() >= count) break;
    absl::SleepFor(absl::Milliseconds(20));
  } while (absl::Now() < deadline);
  return messages;
}

std::string PacketOf(const std::string& payload) {
  v1::Batch batch;
  batch.add_messages()->set_payload(payload);
  v1::Packet packet;
  batch.SerializeToString(packet.mutable_batch());
  return packet.SerializeAsString();
}

v1::StatsResponse Stats(const RouterProcess& router) {
  auto stub = v1::Admin::NewStub(grpc::CreateChannel(
      router.admin_address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  v1::StatsResponse stats;
  EXPECT_TRUE(stub->Stats(&context, {}, &stats).ok());
  return stats;
}

const v1::InputStats& InputNamed(const v1::StatsResponse& stats,
                                 const std::string& name) {
  for (const v1::InputStats& input : stats.inputs()) {
    if (input.name() == name) return input;
  }
  static const v1::InputStats none;
  ADD_FAILURE() << "no input " << name;
  return none;
}

uint64_t RejectedFor(const v1::InputStats& input, const std::string& reason) {
  const auto found = input.rejected().find(reason);
  return found == input.rejected().end() ? 0 : found->second;
}

TEST(HostileInputTest, APaddedTagOverZeroMqIsRejectedNotFatal) {
  auto router = RouterProcess::Start(
      "padded_zmq",
      absl::StrCat(
          R"(inputs { options { [type.googleapis.com/metlog.v1.ZmqInputConfig] { endpoint: "tcp://127.0.0.1:*" } } }
                      admin { listen_address: "127.0.0.1:0" }
                      stats_interval_ms: 0)",
          FileSink("padded_zmq")));
  ASSERT_TRUE(router.ok()) << router.status();
  {
    zmq::context_t context;
    zmq::socket_t push(context, zmq::socket_type::push);
    push.connect(router->endpoint());
    push.send(zmq::buffer(absl::HexStringToBytes(kPaddedTagZmqFrame)));
    push.send(zmq::buffer(PacketOf("after")));
    push.set(zmq::sockopt::linger, 2000);
  }
  const auto messages = WaitForMessages("padded_zmq", 1);
  ASSERT_EQ(messages.size(), 1u) << router->Stderr();
  EXPECT_EQ(messages[0].payload(), "after");
  EXPECT_EQ(RejectedFor(InputNamed(Stats(*router), "zmq"), "malformed_message"),
            1u);
  absl::StatusOr<int> exit_code = router->Stop();
  ASSERT_TRUE(exit_code.ok());
  EXPECT_EQ(*exit_code, 0) << router->Stderr();
}

TEST(HostileInputTest, APaddedTagOverUdpIsRejectedNotFatal) {
  auto router = RouterProcess::Start(
      "padded_udp",
      absl::StrCat(
          R"(inputs { options { [type.googleapis.com/metlog.v1.UdpInputConfig] { address: "127.0.0.1:0" } } }
                      admin { listen_address: "127.0.0.1:0" }
                      stats_interval_ms: 0)",
          FileSink("padded_udp")));
  ASSERT_TRUE(router.ok()) << router.status();
  int port = 0;
  ASSERT_TRUE(absl::SimpleAtoi(
      router->endpoint().substr(router->endpoint().rfind(':') + 1), &port));
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (const std::string& datagram :
       {absl::HexStringToBytes(kPaddedTagUdpDatagram), PacketOf("after")}) {
    ASSERT_EQ(sendto(fd, datagram.data(), datagram.size(), 0,
                     reinterpret_cast<const sockaddr*>(&to), sizeof(to)),
              static_cast<ssize_t>(datagram.size()));
  }
  close(fd);
  const auto messages = WaitForMessages("padded_udp", 1);
  ASSERT_EQ(messages.size(), 1u) << router->Stderr();
  EXPECT_EQ(messages[0].payload(), "after");
  EXPECT_EQ(RejectedFor(InputNamed(Stats(*router), "udp"), "malformed_message"),
            1u);
  absl::StatusOr<int> exit_code = router->Stop();
  ASSERT_TRUE(exit_code.ok());
  EXPECT_EQ(*exit_code, 0) << router->Stderr();
}

// Calls Admin.Publish with `request` as the raw request bytes.
grpc::Status PublishBytes(const RouterProcess& router,
                          const std::string& request, v1::Ack* ack) {
  grpc::GenericStub stub(grpc::CreateChannel(
      router.admin_address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  grpc::Slice slice(request);
  grpc::ByteBuffer sent(&slice, 1);
  grpc::ByteBuffer received;
  grpc::Status status;
  absl::Notification done;
  stub.UnaryCall(&context, "/metlog.v1.Admin/Publish", grpc::StubOptions(),
                 &sent, &received, [&](grpc::Status s) {
                   status = std::move(s);
                   done.Notify();
                 });
  done.WaitForNotification();
  if (status.ok()) {
    std::vector<grpc::Slice> slices;
    EXPECT_TRUE(received.Dump(&slices).ok());
    std::string bytes;
    for (const grpc::Slice& s : slices) {
      bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
    EXPECT_TRUE(ack->ParseFromString(bytes));
  }
  return status;
}

TEST(HostileInputTest, PublishOfBytesThatAreNoBatchIsInvalidAndCounted) {
  auto router = RouterProcess::Start(
      "publish_garbage",
      absl::StrCat(
          R"(inputs { options { [type.googleapis.com/metlog.v1.ZmqInputConfig] { endpoint: "tcp://127.0.0.1:*" } } }
                      inputs { options { [type.googleapis.com/metlog.v1.GrpcPublishInputConfig] {} } }
                      admin { listen_address: "127.0.0.1:0" }
                      stats_interval_ms: 0)",
          FileSink("publish_garbage")));
  ASSERT_TRUE(router.ok()) << router.status();
  v1::Ack ack;
  // A message claiming more bytes than follow.
  const grpc::Status status =
      PublishBytes(*router, std::string("\x0a\x05\x0a", 3), &ack);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << status.error_message();
  EXPECT_EQ(RejectedFor(InputNamed(Stats(*router), "grpc"), "malformed_packet"),
            1u);

  // A valid batch still goes through, read from its bytes.
  v1::Batch batch;
  batch.add_messages()->set_payload("via grpc");
  ASSERT_TRUE(PublishBytes(*router, batch.SerializeAsString(), &ack).ok());
  EXPECT_EQ(ack.accepted(), 1u);
  EXPECT_EQ(WaitForMessages("publish_garbage", 1).size(), 1u);
}

TEST(HostileInputTest, PublishOfManyEmptyMessagesIsBoundedByItsBytes) {
  auto router = RouterProcess::Start(
      "publish_dense",
      absl::StrCat(
          R"(inputs { options { [type.googleapis.com/metlog.v1.ZmqInputConfig] { endpoint: "tcp://127.0.0.1:*" } } }
                      inputs { options { [type.googleapis.com/metlog.v1.GrpcPublishInputConfig] {} } }
                      admin { listen_address: "127.0.0.1:0" }
                      stats_interval_ms: 0)",
          FileSink("publish_dense")));
  ASSERT_TRUE(router.ok()) << router.status();
  std::string batch;
  constexpr uint64_t kMessages = 500000;
  for (uint64_t i = 0; i < kMessages; ++i) batch.append("\x0a\x00", 2);
  v1::Ack ack;
  ASSERT_TRUE(PublishBytes(*router, batch, &ack).ok());
  EXPECT_GT(ack.accepted(), 0u);
  EXPECT_GT(ack.rejected(), 0u);
  EXPECT_EQ(ack.accepted() + ack.rejected(), kMessages);
  EXPECT_EQ(RejectedFor(InputNamed(Stats(*router), "grpc"), "dense_packet"),
            ack.rejected());
}

// Whether no TCP connection to `port` on this host holds unsent or unread
// bytes in the kernel: all that was sent has reached ZeroMQ's buffers.
bool LoopbackQueuesEmpty(int port) {
  std::ifstream table("/proc/net/tcp");
  std::string line;
  std::getline(table, line);  // the header
  while (std::getline(table, line)) {
    std::vector<std::string> columns =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (columns.size() < 5) continue;
    auto port_of = [](const std::string& address) {
      int value = 0;
      absl::SimpleHexAtoi(address.substr(address.find(':') + 1), &value);
      return value;
    };
    if (port_of(columns[1]) != port && port_of(columns[2]) != port) continue;
    if (columns[4] != "00000000:00000000") return false;  // tx:rx queues
  }
  return true;
}

TEST(HostileInputTest, SigtermWithSeveralDecodeThreadsLosesNothing) {
  // Issue 9 item 15: packets inside the router (in its socket and between
  // its decode threads) at SIGTERM were lost and not counted.
  auto router = RouterProcess::Start(
      "threads_term",
      absl::StrCat(
          R"(inputs { options { [type.googleapis.com/metlog.v1.ZmqInputConfig] { endpoint: "tcp://127.0.0.1:*" decode_threads: 2 } } }
             admin { listen_address: "127.0.0.1:0" }
             stats_interval_ms: 0
             shutdown_deadline_ms: 60000)",
          FileSink("threads_term", "overflow: BLOCK")));
  ASSERT_TRUE(router.ok()) << router.status();
  constexpr int kPackets = 200000;
  const std::string packet = PacketOf("m");
  {
    zmq::context_t context;
    zmq::socket_t push(context, zmq::socket_type::push);
    push.set(zmq::sockopt::sndhwm, 0);
    push.connect(router->endpoint());
    for (int i = 0; i < kPackets; ++i) push.send(zmq::buffer(packet));
    push.set(zmq::sockopt::linger, -1);
  }  // returns once every byte is in the kernel
  int port = 0;
  ASSERT_TRUE(absl::SimpleAtoi(
      router->endpoint().substr(router->endpoint().rfind(':') + 1), &port));
  const absl::Time give_up = absl::Now() + absl::Minutes(2);
  while (!LoopbackQueuesEmpty(port) && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  const size_t written_before = ReadMessages("threads_term").size();
  absl::StatusOr<int> exit_code = router->Stop(absl::Minutes(2));
  ASSERT_TRUE(exit_code.ok());
  EXPECT_EQ(*exit_code, 0) << router->Stderr();
  EXPECT_EQ(ReadMessages("threads_term").size(), static_cast<size_t>(kPackets))
      << "written when SIGTERM came: " << written_before << "\n"
      << router->Stderr();
}

}  // namespace
}  // namespace metlog
