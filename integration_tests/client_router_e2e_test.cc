// The C++ client against the real router binary: fields on metrics arrive
// typed, a forked child sends with its own pid, the client's size limit
// matches the router's, and what the client counts as sent is what the
// router took in, even when shut down under load.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <map>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/metlog.h"
#include "client/senders.h"
#include "google/protobuf/io/zero_copy_stream_impl.h"
#include "google/protobuf/util/delimited_message_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/admin.grpc.pb.h"
#include "tools/testing/router_process.h"

namespace metlog {
namespace {

using testing::RouterProcess;
using testing::TempPath;

// A router with a ZeroMQ input, its admin service and a file sink writing
// length-delimited Message records to $TEST_TMPDIR/<name>.jsonl.
std::string RouterConfig(const std::string& name) {
  return absl::StrCat(R"(
    inputs { options { [type.googleapis.com/metlog.v1.ZmqInputConfig] { endpoint: "tcp://127.0.0.1:*" } } }
    admin { listen_address: "127.0.0.1:0" }
    stats_interval_ms: 0
    sinks { name: "file" match: "TRUE" queue { flush_interval_ms: 10 }
      options { [type.googleapis.com/metlog.sinks.FileOptions] { path: ")",
                      TempPath(name + ".jsonl"),
                      R"(" encoding { codec: PROTOBUF } } } })");
}

std::vector<v1::Message> WaitForMessages(const std::string& name,
                                         size_t count) {
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  std::vector<v1::Message> messages;
  do {
    messages.clear();
    std::ifstream file(TempPath(name + ".jsonl"), std::ios::binary);
    google::protobuf::io::IstreamInputStream in(&file);
    bool clean_eof = false;
    // Stops at the end, or at a record the router is still writing. Parsing
    // merges, so each record gets a fresh message.
    for (v1::Message m;
         google::protobuf::util::ParseDelimitedFromZeroCopyStream(&m, &in,
                                                                  &clean_eof);
         m.Clear()) {
      messages.push_back(m);
    }
    if (messages.size() >= count) break;
    absl::SleepFor(absl::Milliseconds(20));
  } while (absl::Now() < deadline);
  return messages;
}

const v1::Field* FindField(const v1::Message& m, absl::string_view name) {
  for (const v1::Field& f : m.fields()) {
    if (f.name() == name) return &f;
  }
  return nullptr;
}

v1::InputStats InputStats(const RouterProcess& router) {
  auto stub = v1::Admin::NewStub(grpc::CreateChannel(
      router.admin_address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  v1::StatsResponse stats;
  EXPECT_TRUE(stub->Stats(&context, {}, &stats).ok());
  return stats.inputs_size() > 0 ? stats.inputs(0) : v1::InputStats();
}

TEST(ClientRouterTest, FieldsOnMetricsArriveTyped) {
  auto router = RouterProcess::Start("fields", RouterConfig("fields"));
  ASSERT_TRUE(router.ok()) << router.status();
  Client client(MakeZmqSender({router->endpoint()}), "shop");
  ASSERT_TRUE(client.status().ok()) << client.status();
  client.Incr("requests", 1, {{"method", "GET"}, {"status", 200}},
              {1.0, kNotice, "edge"});
  ASSERT_TRUE(client.Flush(absl::Seconds(5)));
  const auto messages = WaitForMessages("fields", 1);
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].type(), "counter");
  EXPECT_EQ(messages[0].logger(), "edge");
  EXPECT_EQ(messages[0].severity(), kNotice);
  ASSERT_NE(FindField(messages[0], "status"), nullptr);
  EXPECT_EQ(FindField(messages[0], "status")->value_integer(0), 200);
  EXPECT_EQ(FindField(messages[0], "method")->value_string(0), "GET");
  ASSERT_TRUE(router->Stop().ok());
}

TEST(ClientRouterTest, AForkedChildSendsWithItsOwnPid) {
  alarm(60);
  auto router = RouterProcess::Start("fork", RouterConfig("fork"));
  ASSERT_TRUE(router.ok()) << router.status();
  auto client =
      std::make_unique<Client>(MakeZmqSender({router->endpoint()}), "forker");
  client->Incr("parent.before");
  ASSERT_TRUE(client->Flush(absl::Seconds(5)));
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    alarm(10);
    client->Incr("child");
    const bool flushed = client->Flush(absl::Seconds(5));
    client.reset();
    _exit(flushed ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  client->Incr("parent.after");
  ASSERT_TRUE(client->Flush(absl::Seconds(5)));
  const auto messages = WaitForMessages("fork", 3);
  ASSERT_EQ(messages.size(), 3u);
  std::map<std::string, int32_t> pid_of;
  for (const auto& m : messages) {
    pid_of[FindField(m, "name")->value_string(0)] = m.pid();
  }
  EXPECT_EQ(pid_of["parent.before"], getpid());
  EXPECT_EQ(pid_of["parent.after"], getpid());
  EXPECT_EQ(pid_of["child"], child);
  ASSERT_TRUE(router->Stop().ok());
  alarm(0);
}

TEST(ClientRouterTest, TheClientDropsWhatTheRouterWouldRefuse) {
  auto router = RouterProcess::Start("sizes", RouterConfig("sizes"));
  ASSERT_TRUE(router.ok()) << router.status();
  Client client(MakeZmqSender({router->endpoint()}), "sizes");
  client.Metlog("log", std::string(60 << 10, 'a'));
  client.Metlog("log", std::string(70 << 10, 'b'));
  ASSERT_TRUE(client.Flush(absl::Seconds(5)));
  EXPECT_EQ(client.Stats().sent, 1u);
  EXPECT_EQ(client.Stats().dropped_oversized, 1u);
  EXPECT_EQ(WaitForMessages("sizes", 1).size(), 1u);
  const v1::InputStats input = InputStats(*router);
  EXPECT_EQ(input.messages_accepted(), 1u);
  EXPECT_TRUE(input.rejected().empty());
  ASSERT_TRUE(router->Stop().ok());
}

TEST(ClientRouterTest, WhatIsCountedSentUnderLoadReachesTheRouter) {
  alarm(60);
  auto router = RouterProcess::Start("load", RouterConfig("load"));
  ASSERT_TRUE(router.ok()) << router.status();
  auto client =
      std::make_unique<Client>(MakeZmqSender({router->endpoint()}), "load");
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      while (!stop.load()) {
        client->Incr("load");
        absl::SleepFor(absl::Microseconds(50));
      }
    });
  }
  absl::SleepFor(absl::Milliseconds(300));
  const absl::Time start = absl::Now();
  client->Shutdown(absl::Seconds(2));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  // A quick shutdown may end before any thread calls again: let them call
  // until one is refused.
  const absl::Time refused_by = absl::Now() + absl::Seconds(10);
  while (client->Stats().dropped_shutdown == 0 && absl::Now() < refused_by) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  stop.store(true);
  for (auto& thread : threads) thread.join();
  const ClientStats stats = client->Stats();
  EXPECT_GT(stats.sent, 0u);
  EXPECT_GT(stats.dropped_shutdown, 0u);
  // Everything counted as sent arrives: wait for the router to take it in.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  uint64_t accepted = 0;
  while ((accepted = InputStats(*router).messages_accepted()) < stats.sent &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(accepted, stats.sent);
  ASSERT_TRUE(router->Stop().ok());
  alarm(0);
}

}  // namespace
}  // namespace metlog
