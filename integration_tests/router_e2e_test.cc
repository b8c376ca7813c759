// The router binary end to end: inputs (ZeroMQ PULL and SUB, UDP, gRPC),
// fan-out by matcher, malformed input, tail, reload under traffic, shutdown
// drain, self-stats, --check and metlogctl.
#include <signal.h>
#include <sys/wait.h>

#include <fstream>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "client/metlog.h"
#include "client/senders.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "integration_tests/protobuf_records.h"
#include "proto/admin.grpc.pb.h"
#include "tools/testing/router_process.h"
#include "zmq.hpp"

namespace metlog {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::ReadFile;
using testing::RouterProcess;
using testing::Runfile;
using testing::TempPath;

// A file sink block writing length-delimited Message records (read back
// exactly with protobuf) to $TEST_TMPDIR/<name>.jsonl.
std::string FileSink(const std::string& name, const std::string& match,
                     const std::string& queue = "flush_interval_ms: 10") {
  return absl::StrCat(R"(
  sinks { name: ")",
                      name, R"(" match: ')", match, R"(' queue { )", queue,
                      R"( } options {
      [type.googleapis.com/metlog.sinks.FileOptions] { path: ")",
                      TempPath(name + ".jsonl"),
                      R"(" encoding { codec: PROTOBUF } } } })");
}

constexpr char kZmqInput[] = R"(
  inputs { options { [type.googleapis.com/metlog.v1.ZmqInputConfig] { endpoint: "tcp://127.0.0.1:*" } } }
  admin { listen_address: "127.0.0.1:0" }
  stats_interval_ms: 0
)";

// Admin.Publish, served on the admin port.
constexpr char kPublishInput[] = R"(
  inputs { options { [type.googleapis.com/metlog.v1.GrpcPublishInputConfig] {} } }
)";

std::vector<v1::Message> ReadMessages(const std::string& name) {
  return testing::ReadProtobufRecords(TempPath(name + ".jsonl"));
}

// Waits until the file sink `name` holds at least `count` messages.
std::vector<v1::Message> WaitForMessages(
    const std::string& name, size_t count,
    absl::Duration timeout = absl::Seconds(10)) {
  const absl::Time deadline = absl::Now() + timeout;
  std::vector<v1::Message> messages;
  do {
    messages = ReadMessages(name);
    if (messages.size() >= count) break;
    absl::SleepFor(absl::Milliseconds(20));
  } while (absl::Now() < deadline);
  return messages;
}

std::unique_ptr<Client> ClientFor(const std::string& endpoint) {
  auto sender = MakeZmqSender({endpoint});
  EXPECT_TRUE(sender.ok()) << sender.status();
  return std::make_unique<Client>(*std::move(sender), "e2e");
}

std::unique_ptr<v1::Admin::Stub> AdminStub(const RouterProcess& router) {
  return v1::Admin::NewStub(grpc::CreateChannel(
      router.admin_address(), grpc::InsecureChannelCredentials()));
}

v1::StatsResponse Stats(const RouterProcess& router) {
  grpc::ClientContext context;
  v1::StatsResponse stats;
  EXPECT_TRUE(AdminStub(router)->Stats(&context, {}, &stats).ok());
  return stats;
}

const v1::SinkStats* SinkNamed(const v1::StatsResponse& stats,
                               const std::string& name) {
  for (const auto& sink : stats.sinks()) {
    if (sink.name() == name) return &sink;
  }
  return nullptr;
}

TEST(RouterEndToEndTest, FansOutByMatcherToSeveralSinks) {
  const std::string config =
      absl::StrCat(kZmqInput, FileSink("fan_all", "TRUE"),
                   FileSink("fan_timers", R"(Type == "timer")"),
                   FileSink("fan_errors", "Severity <= 3"));
  auto router = RouterProcess::Start("fanout", config);
  ASSERT_TRUE(router.ok()) << router.status();
  auto client = ClientFor(router->endpoint());
  client->TimerSend("db", 5);
  client->Incr("orders");
  client->Error("disk %s", "full");
  client->TimerSend("api", 7);
  ASSERT_TRUE(client->Flush(absl::Seconds(5)));

  EXPECT_EQ(WaitForMessages("fan_all", 4).size(), 4u);
  const auto timers = WaitForMessages("fan_timers", 2);
  ASSERT_EQ(timers.size(), 2u);
  EXPECT_EQ(timers[0].payload(), "5");
  EXPECT_EQ(timers[1].payload(), "7");
  const auto errors = WaitForMessages("fan_errors", 1);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].payload(), "disk full");
  // The same message reached two sinks unchanged.
  EXPECT_EQ(errors[0].uuid(), ReadMessages("fan_all")[2].uuid());

  const v1::StatsResponse stats = Stats(*router);
  ASSERT_NE(SinkNamed(stats, "fan_timers"), nullptr);
  EXPECT_EQ(SinkNamed(stats, "fan_timers")->received(), 2u);
  EXPECT_EQ(SinkNamed(stats, "fan_all")->delivered(), 4u);
  EXPECT_EQ(stats.inputs(0).messages_accepted(), 4u);
  ASSERT_TRUE(router->Stop().ok());
}

TEST(RouterEndToEndTest, UdpInputTakesTheClientsUdpPackets) {
  const std::string config = absl::StrCat(
      R"(inputs { options { [type.googleapis.com/metlog.v1.UdpInputConfig] { address: "127.0.0.1:0" } } }
                      admin { listen_address: "127.0.0.1:0" })",
      FileSink("udp_all", "TRUE"));
  auto router = RouterProcess::Start("udp", config);
  ASSERT_TRUE(router.ok()) << router.status();
  ASSERT_THAT(router->endpoint(), HasSubstr("udp://127.0.0.1:"));
  auto sender = MakeUdpSender(router->endpoint().substr(strlen("udp://")));
  ASSERT_TRUE(sender.ok()) << sender.status();
  Client client(*std::move(sender), "udp-client");
  for (int i = 0; i < 50; ++i) client.Incr(absl::StrCat("u", i));
  ASSERT_TRUE(client.Flush(absl::Seconds(5)));
  const auto messages = WaitForMessages("udp_all", 50);
  ASSERT_EQ(messages.size(), 50u);
  EXPECT_EQ(messages[49].logger(), "udp-client");
}

TEST(RouterEndToEndTest, SeveralDecodeThreadsDeliverEverything) {
  const std::string config = absl::StrCat(
      R"(inputs { options { [type.googleapis.com/metlog.v1.ZmqInputConfig] { endpoint: "tcp://127.0.0.1:*" decode_threads: 3 } } }
         admin { listen_address: "127.0.0.1:0" })",
      FileSink("threads_all", "TRUE"));
  auto router = RouterProcess::Start("threads", config);
  ASSERT_TRUE(router.ok()) << router.status();
  auto client = ClientFor(router->endpoint());
  for (int i = 0; i < 3000; ++i) {
    client->Metlog("seq", absl::StrCat(i));
    if (i % 100 == 0) client->Flush(absl::Seconds(1));  // many packets
  }
  ASSERT_TRUE(client->Flush(absl::Seconds(5)));
  const auto messages = WaitForMessages("threads_all", 3000);
  std::set<std::string> payloads;
  for (const auto& m : messages) payloads.insert(m.payload());
  EXPECT_EQ(payloads.size(), 3000u);
  EXPECT_EQ(messages.size(), 3000u);
  absl::StatusOr<int> exit_code = router->Stop();
  ASSERT_TRUE(exit_code.ok());
  EXPECT_EQ(*exit_code, 0) << router->Stderr();
}

TEST(RouterEndToEndTest, SubInputReadsFromAPublisher) {
  zmq::context_t context;
  zmq::socket_t publisher(context, zmq::socket_type::pub);
  publisher.bind("tcp://127.0.0.1:*");
  const std::string endpoint = publisher.get(zmq::sockopt::last_endpoint);
  const std::string config = absl::StrCat(
      R"(inputs { options { [type.googleapis.com/metlog.v1.ZmqInputConfig] {
                     endpoint: ")",
      endpoint,
      R"(" socket_type: SUB bind: false } } }
         admin { listen_address: "127.0.0.1:0" })",
      FileSink("sub_all", "TRUE"));
  auto router = RouterProcess::Start("sub", config);
  ASSERT_TRUE(router.ok()) << router.status();
  v1::Batch batch;
  batch.add_messages()->set_payload("published");
  v1::Packet packet;
  batch.SerializeToString(packet.mutable_batch());
  const std::string wire = packet.SerializeAsString();
  // A subscription takes a moment to reach the publisher; publish until seen.
  std::vector<v1::Message> messages;
  for (int i = 0; i < 100 && messages.empty(); ++i) {
    publisher.send(zmq::buffer(wire));
    messages = WaitForMessages("sub_all", 1, absl::Milliseconds(100));
  }
  ASSERT_FALSE(messages.empty());
  EXPECT_EQ(messages[0].payload(), "published");
}

TEST(RouterEndToEndTest, MalformedPacketsAreCountedAndTheRouterKeepsServing) {
  const std::string config =
      absl::StrCat(kZmqInput, "limits { max_packet_bytes: 4096 }",
                   FileSink("bad_all", "TRUE"));
  auto router = RouterProcess::Start("malformed", config);
  ASSERT_TRUE(router.ok()) << router.status();
  {
    zmq::context_t context;
    zmq::socket_t push(context, zmq::socket_type::push);
    push.connect(router->endpoint());
    push.send(zmq::str_buffer("garbage that is no protobuf"));
    push.send(zmq::buffer(std::string("\x0a\x7f\x01", 3)));  // truncated
    push.send(zmq::buffer(std::string("\x08\x05", 2)));      // wrong type
    v1::Batch batch;
    v1::Message* bad = batch.add_messages();
    bad->set_severity(42);
    v1::Packet packet;
    batch.SerializeToString(packet.mutable_batch());
    push.send(zmq::buffer(packet.SerializeAsString()));
    push.set(zmq::sockopt::linger, 2000);
  }
  auto client = ClientFor(router->endpoint());
  client->Info("still serving");
  ASSERT_TRUE(client->Flush(absl::Seconds(5)));
  const auto messages = WaitForMessages("bad_all", 1);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].payload(), "still serving");

  const v1::StatsResponse stats = Stats(*router);
  const auto& rejected = stats.inputs(0).rejected();
  EXPECT_EQ(rejected.at("malformed_packet"), 3u);
  EXPECT_EQ(rejected.at("invalid_message"), 1u);
  EXPECT_THAT(router->Stderr(), HasSubstr("rejected"));
  EXPECT_THAT(router->Stderr(), HasSubstr("127.0.0.1"));  // the peer
  ASSERT_TRUE(router->Stop().ok());
}

TEST(RouterEndToEndTest, NonUtf8StringsAreDeliveredWithoutFloodingTheLog) {
  // proto2 strings need not be UTF-8 and such messages are accepted; the
  // JSON codec replaces the bad bytes and says so, but a sender must not
  // flood stderr.
  const std::string json_path = TempPath("utf8_json.jsonl");
  auto router = RouterProcess::Start(
      "utf8", absl::StrCat(kZmqInput, FileSink("utf8_all", "TRUE"),
                           R"(sinks { name: "json" match: "TRUE"
                                queue { flush_interval_ms: 10 } options {
                                [type.googleapis.com/metlog.sinks.FileOptions]
                                { path: ")",
                           json_path, R"(" } } })"));
  ASSERT_TRUE(router.ok()) << router.status();
  auto client = ClientFor(router->endpoint());
  constexpr int kMessages = 500;
  for (int i = 0; i < kMessages; ++i) {
    client->Metlog("bad\xff", absl::StrCat(i));
    if (i % 50 == 0) client->Flush(absl::Seconds(1));  // many packets
  }
  ASSERT_TRUE(client->Flush(absl::Seconds(5)));
  const auto messages = WaitForMessages("utf8_all", kMessages);
  EXPECT_EQ(messages.size(), kMessages);
  const std::string log = router->Stderr();
  EXPECT_LE(std::count(log.begin(), log.end(), '\n'), 20) << log;
  EXPECT_THAT(log, HasSubstr("not valid UTF-8"));  // limited, not silenced
  const std::string json = ReadFile(json_path);
  EXPECT_EQ(std::count(json.begin(), json.end(), '\n'), kMessages);
  EXPECT_THAT(json, HasSubstr("\"type\":\"bad\xEF\xBF\xBD\""));
  ASSERT_TRUE(router->Stop().ok());
}

TEST(RouterEndToEndTest, TailStreamsMatchingTrafficOverGrpc) {
  auto router = RouterProcess::Start(
      "tail", absl::StrCat(kZmqInput, FileSink("tail_all", "TRUE")));
  ASSERT_TRUE(router.ok()) << router.status();
  auto stub = AdminStub(*router);
  grpc::ClientContext context;
  v1::TailRequest request;
  request.set_match(R"(Type == "timer")");
  request.set_limit(2);
  auto reader = stub->Tail(&context, request);
  absl::SleepFor(absl::Milliseconds(300));  // the tail is registered
  auto client = ClientFor(router->endpoint());
  client->Incr("not shown");
  client->TimerSend("first", 1);
  client->Info("not shown either");
  client->TimerSend("second", 2);
  ASSERT_TRUE(client->Flush(absl::Seconds(5)));
  std::vector<v1::Message> tailed;
  v1::Message message;
  while (reader->Read(&message)) tailed.push_back(message);
  EXPECT_TRUE(reader->Finish().ok());
  ASSERT_EQ(tailed.size(), 2u);
  EXPECT_EQ(tailed[0].payload(), "1");
  EXPECT_EQ(tailed[1].payload(), "2");
}

TEST(RouterEndToEndTest, PublishOverGrpcIsAcknowledgedOnceQueued) {
  auto router = RouterProcess::Start(
      "publish",
      absl::StrCat(kZmqInput, kPublishInput, FileSink("pub_all", "TRUE")));
  ASSERT_TRUE(router.ok()) << router.status();
  v1::Batch batch;
  batch.add_messages()->set_payload("via grpc");
  batch.add_messages()->set_severity(99);
  grpc::ClientContext context;
  v1::Ack ack;
  ASSERT_TRUE(AdminStub(*router)->Publish(&context, batch, &ack).ok());
  EXPECT_EQ(ack.accepted(), 1u);
  EXPECT_EQ(ack.rejected(), 1u);
  EXPECT_EQ(ack.dropped(), 0u);
  EXPECT_THAT(ack.first_error(), HasSubstr("severity 99"));
  const auto messages = WaitForMessages("pub_all", 1);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].payload(), "via grpc");
  EXPECT_EQ(messages[0].uuid().size(), 16u);  // filled by the router
  // Counted like any input.
  const v1::StatsResponse stats = Stats(*router);
  const v1::InputStats* grpc_input = nullptr;
  for (const auto& input : stats.inputs()) {
    if (input.name() == "grpc") grpc_input = &input;
  }
  ASSERT_NE(grpc_input, nullptr);
  EXPECT_EQ(grpc_input->messages_accepted(), 1u);
  EXPECT_EQ(grpc_input->rejected().at("invalid_message"), 1u);
}

TEST(RouterEndToEndTest, ReloadUnderTrafficLosesNothing) {
  const std::string config_a =
      absl::StrCat(kZmqInput, FileSink("reload_kept", "TRUE"),
                   FileSink("reload_changed", "TRUE"));
  auto router = RouterProcess::Start("reload", config_a);
  ASSERT_TRUE(router.ok()) << router.status();
  const std::string config_path = TempPath("reload.textproto");

  constexpr int kMessages = 20000;
  std::thread traffic([&router] {
    QueuedSender::Options options;
    options.queue_capacity = 1 << 20;
    auto sender = MakeZmqSender({router->endpoint()}, options);
    Client client(*std::move(sender), "reloader");
    for (int i = 0; i < kMessages; ++i) {
      client.Metlog("seq", absl::StrCat(i));
      if (i % 1000 == 0) absl::SleepFor(absl::Milliseconds(10));
    }
    EXPECT_TRUE(client.Flush(absl::Seconds(10)));
    EXPECT_EQ(client.Stats().dropped(), 0u);
  });
  // Change one sink (its batch size) and add another while traffic flows.
  absl::SleepFor(absl::Milliseconds(50));
  std::ofstream(config_path) << absl::StrCat(
      kZmqInput, FileSink("reload_kept", "TRUE"),
      FileSink("reload_changed", "TRUE", "flush_interval_ms: 5"),
      FileSink("reload_added", R"(Type == "seq")"));
  kill(router->pid(), SIGHUP);
  // A broken config is refused and the running one stays.
  absl::SleepFor(absl::Milliseconds(100));
  std::ofstream(config_path) << "sinks { this is not a config";
  grpc::ClientContext context;
  v1::ReloadResponse response;
  ASSERT_TRUE(AdminStub(*router)->Reload(&context, {}, &response).ok());
  EXPECT_THAT(response.error(), HasSubstr("reload.textproto:1:"));
  // So is one that moves an input: that needs a restart.
  std::ofstream(config_path) << absl::StrCat(
      absl::StrReplaceAll(kZmqInput, {{"127.0.0.1:*", "127.0.0.1:1"}}),
      FileSink("reload_kept", "TRUE"));
  grpc::ClientContext moved_context;
  v1::ReloadResponse moved;
  ASSERT_TRUE(AdminStub(*router)->Reload(&moved_context, {}, &moved).ok());
  EXPECT_THAT(moved.error(), HasSubstr("need a restart"));
  traffic.join();

  WaitForMessages("reload_kept", kMessages);
  ASSERT_TRUE(router->Stop().ok());
  for (const char* sink : {"reload_kept", "reload_changed"}) {
    const auto messages = ReadMessages(sink);
    std::vector<bool> seen(kMessages, false);
    for (const auto& m : messages) seen[std::stoi(m.payload())] = true;
    EXPECT_EQ(std::count(seen.begin(), seen.end(), true), kMessages) << sink;
  }
  EXPECT_GT(ReadMessages("reload_added").size(), 0u);
  EXPECT_THAT(router->Stderr(),
              HasSubstr("1 kept with their queues, 1 retired"));
  EXPECT_THAT(router->Stderr(), HasSubstr("stopped; 0 messages undelivered"));
}

TEST(RouterEndToEndTest, SighupReopensFilesAfterLogrotate) {
  auto router = RouterProcess::Start(
      "logrotate", absl::StrCat(kZmqInput, FileSink("rotated", "TRUE")));
  ASSERT_TRUE(router.ok()) << router.status();
  auto client = ClientFor(router->endpoint());
  client->Info("before rotation");
  ASSERT_TRUE(client->Flush(absl::Seconds(5)));
  ASSERT_EQ(WaitForMessages("rotated", 1).size(), 1u);
  // What logrotate does: move the file away, then signal the writer.
  const std::string path = TempPath("rotated.jsonl");
  ASSERT_EQ(std::rename(path.c_str(), (path + ".1").c_str()), 0);
  kill(router->pid(), SIGHUP);
  absl::SleepFor(absl::Milliseconds(200));
  client->Info("after rotation");
  ASSERT_TRUE(client->Flush(absl::Seconds(5)));
  const auto fresh = WaitForMessages("rotated", 1);
  ASSERT_EQ(fresh.size(), 1u);
  EXPECT_EQ(fresh[0].payload(), "after rotation");
  EXPECT_THAT(ReadFile(path + ".1"), HasSubstr("before rotation"));
  EXPECT_THAT(ReadFile(path + ".1"), Not(HasSubstr("after rotation")));
}

TEST(RouterEndToEndTest, ShutdownDrainsQueuedMessages) {
  // Batches wait up to 2 s to fill, so at SIGTERM nearly all are queued.
  auto router = RouterProcess::Start(
      "drain",
      absl::StrCat(
          kZmqInput,
          FileSink("drain_all", "TRUE",
                   "flush_interval_ms: 2000 max_batch_messages: 100000")));
  ASSERT_TRUE(router.ok()) << router.status();
  auto client = ClientFor(router->endpoint());
  for (int i = 0; i < 5000; ++i) client->Incr("drained");
  ASSERT_TRUE(client->Flush(absl::Seconds(5)));
  // The router has taken them in once its input counter says so.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (Stats(*router).inputs(0).messages_accepted() < 5000 &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_LT(ReadMessages("drain_all").size(), 5000u);
  absl::StatusOr<int> exit_code = router->Stop();
  ASSERT_TRUE(exit_code.ok());
  EXPECT_EQ(*exit_code, 0) << router->Stderr();
  EXPECT_EQ(ReadMessages("drain_all").size(), 5000u);
  EXPECT_THAT(router->Stderr(), HasSubstr("stopped; 0 messages undelivered"));
}

TEST(RouterEndToEndTest, RoutesItsOwnStatsAsMessages) {
  auto router = RouterProcess::Start(
      "selfstats",
      absl::StrCat(
          R"(inputs { options { [type.googleapis.com/metlog.v1.ZmqInputConfig] { endpoint: "tcp://127.0.0.1:*" } } }
                      admin { listen_address: "127.0.0.1:0" }
                      stats_interval_ms: 100)",
          FileSink("self_stats", R"(Type == "metlog.router.stats")")));
  ASSERT_TRUE(router.ok()) << router.status();
  const auto messages = WaitForMessages("self_stats", 2);
  ASSERT_GE(messages.size(), 2u);
  EXPECT_EQ(messages[0].logger(), "metlog.router");
  bool has_sink_counter = false;
  for (const auto& field : messages[1].fields()) {
    has_sink_counter |= field.name() == "sink.self_stats.delivered";
  }
  EXPECT_TRUE(has_sink_counter);
}

TEST(RouterEndToEndTest, MetlogctlShowsHealthAndStats) {
  auto router = RouterProcess::Start(
      "ctl", absl::StrCat(kZmqInput, FileSink("ctl_all", "TRUE")));
  ASSERT_TRUE(router.ok()) << router.status();
  auto client = ClientFor(router->endpoint());
  client->Incr("x");
  ASSERT_TRUE(client->Flush(absl::Seconds(5)));
  WaitForMessages("ctl_all", 1);
  const std::string out = TempPath("ctl.out");
  const std::string ctl = absl::StrCat(Runfile("tools/metlogctl"),
                                       " --admin=", router->admin_address());
  ASSERT_EQ(std::system(absl::StrCat(ctl, " health > ", out).c_str()), 0);
  EXPECT_THAT(ReadFile(out), HasSubstr("SERVING"));
  ASSERT_EQ(std::system(absl::StrCat(ctl, " stats > ", out).c_str()), 0);
  EXPECT_THAT(ReadFile(out),
              HasSubstr("sink ctl_all: received 1, delivered 1"));
  EXPECT_NE(std::system(absl::StrCat(ctl, " nonsense 2> ", out).c_str()), 0);
  EXPECT_THAT(ReadFile(out), HasSubstr("unknown command"));
}

TEST(RouterCheckTest, CheckExplainsABadConfigByLineAndColumn) {
  const std::string path = TempPath("bad.textproto");
  std::ofstream(path)
      << "inputs { options { [type.googleapis.com/metlog.v1.ZmqInputConfig] {} "
         "} }\nsinks {\n  name: \"x\"\n  match: 'Type ==' "
         "options { [type.googleapis.com/metlog.sinks.NullOptions] {} }\n}\n";
  const std::string out = TempPath("check.out");
  const int status =
      std::system(absl::StrCat(Runfile("router/router"),
                               " --check --config=", path, " 2> ", out)
                      .c_str());
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_THAT(ReadFile(out),
              HasSubstr("sink \"x\": match \"Type ==\": 1:8: expected"));

  std::ofstream(path)
      << "inputs { options { [type.googleapis.com/metlog.v1.ZmqInputConfig] {} "
         "} }\nsinks { nmae: \"x\" }\n";
  std::system(absl::StrCat(Runfile("router/router"), " --check --config=", path,
                           " 2> ", out)
                  .c_str());
  EXPECT_THAT(ReadFile(out), HasSubstr("bad.textproto:2:13:"));
}

}  // namespace
}  // namespace metlog
