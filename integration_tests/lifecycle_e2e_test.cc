// The router binary's promises about time and memory, end to end: SIGTERM
// ends within shutdown_deadline_ms whatever a back end does, a reload never
// wedges on a stuck sink, and a tail viewer that stops reading holds a
// bounded backlog and costs the sinks nothing.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/metlog.h"
#include "client/senders.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/admin.grpc.pb.h"
#include "tools/testing/router_process.h"

namespace metlog {
namespace {

using ::testing::HasSubstr;
using testing::RouterProcess;
using testing::Runfile;
using testing::TempPath;

// A router with a ZeroMQ input and admin on free ports.
std::string RouterWithInput(int shutdown_deadline_ms = 1000) {
  return absl::StrCat(R"(
    inputs { options { [type.googleapis.com/metlog.v1.ZmqInputConfig] { endpoint: "tcp://127.0.0.1:*" } } }
    admin { listen_address: "127.0.0.1:0" }
    stats_interval_ms: 0
    shutdown_deadline_ms: )",
                      shutdown_deadline_ms, "\n");
}

// A carbon sink sending to 127.0.0.1:`port`, with `queue` settings.
std::string CarbonSink(int port, const std::string& queue,
                       const std::string& prefix = "") {
  return absl::StrCat(
      R"(sinks { name: "carbon" match: 'Type == "counter"' queue { )", queue,
      R"( } options { [type.googleapis.com/metlog.sinks.CarbonOptions] {
          address: "127.0.0.1:)",
      port, R"(" prefix: ")", prefix, R"(" } } })");
}

// A loopback TCP listener that never reads: the kernel completes
// connections in its backlog and buffers a little, then senders block. With
// `listening` false it is closed again, a port where connecting is refused
// (a carbon that is down).
class TcpPeer {
 public:
  explicit TcpPeer(bool listening) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    const int small = 4096;
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    socklen_t length = sizeof(address);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    if (listening) {
      listen(fd_, 16);
    } else {
      close(fd_);
      fd_ = -1;
    }
  }
  ~TcpPeer() {
    if (fd_ >= 0) close(fd_);
  }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

std::unique_ptr<v1::Admin::Stub> AdminStub(const RouterProcess& router) {
  return v1::Admin::NewStub(grpc::CreateChannel(
      router.admin_address(), grpc::InsecureChannelCredentials()));
}

void SetDeadline(grpc::ClientContext* context, absl::Duration timeout) {
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
}

v1::StatsResponse Stats(const RouterProcess& router) {
  grpc::ClientContext context;
  SetDeadline(&context, absl::Seconds(5));
  v1::StatsResponse stats;
  EXPECT_TRUE(AdminStub(router)->Stats(&context, {}, &stats).ok());
  return stats;
}

// Polls the router's stats (up to a minute) until `done` holds.
template <typename Predicate>
v1::StatsResponse AwaitStats(const RouterProcess& router, Predicate done) {
  const absl::Time give_up = absl::Now() + absl::Minutes(1);
  v1::StatsResponse stats = Stats(router);
  while (!done(stats) && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(20));
    stats = Stats(router);
  }
  return stats;
}

std::unique_ptr<Client> ClientFor(const std::string& endpoint) {
  QueuedSender::Options options;
  options.queue_capacity = 1 << 20;
  auto sender = MakeZmqSender({endpoint}, options);
  EXPECT_TRUE(sender.ok()) << sender.status();
  return std::make_unique<Client>(*std::move(sender), "lifecycle");
}

TEST(LifecycleTest, SigtermEndsInTimeWhileCarbonAcceptsButNeverReads) {
  TcpPeer silent(/*listening=*/true);
  // Long paths, so a few batches fill the kernel's buffers; the write
  // timeout is far beyond the shutdown deadline.
  auto router = RouterProcess::Start(
      "silent_carbon",
      absl::StrCat(RouterWithInput(),
                   CarbonSink(silent.port(), "write_timeout_ms: 600000",
                              std::string(1000, 'p') + ".")));
  ASSERT_TRUE(router.ok()) << router.status();
  auto client = ClientFor(router->endpoint());
  for (int i = 0; i < 30000; ++i) client->Incr(absl::StrCat("m", i));
  ASSERT_TRUE(client->Flush(absl::Seconds(10)));
  // The sink is stuck in a write carbon does not read.
  AwaitStats(*router, [](const v1::StatsResponse& s) {
    return s.inputs(0).messages_accepted() == 30000 &&
           s.sinks(0).in_flight() > 0 && s.sinks(0).queued() > 0;
  });
  absl::StatusOr<int> exit_code = router->Stop(absl::Seconds(20));
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0) << router->Stderr();
  EXPECT_THAT(router->Stderr(), HasSubstr("messages undelivered at shutdown"));
}

TEST(LifecycleTest, SigtermEndsInTimeWithInputsBlockedOnADownBlockSink) {
  TcpPeer down(/*listening=*/false);
  auto router = RouterProcess::Start(
      "down_block",
      absl::StrCat(RouterWithInput(/*shutdown_deadline_ms=*/3000),
                   CarbonSink(down.port(),
                              "capacity_messages: 10 overflow: BLOCK "
                              "max_retry_duration_ms: 3600000")));
  ASSERT_TRUE(router.ok()) << router.status();
  auto client = ClientFor(router->endpoint());
  for (int i = 0; i < 100; ++i) client->Incr("blocked");
  ASSERT_TRUE(client->Flush(absl::Seconds(10)));
  // The queue is full and the input waits for room.
  AwaitStats(*router, [](const v1::StatsResponse& s) {
    return s.sinks(0).queued() == 10;
  });
  kill(router->pid(), SIGTERM);
  // While it drains, a reload is refused, clearly and at once.
  auto stub = AdminStub(*router);
  for (int i = 0; i < 100; ++i) {
    grpc::ClientContext context;
    SetDeadline(&context, absl::Seconds(1));
    v1::HealthResponse health;
    if (stub->Health(&context, {}, &health).ok() &&
        health.status() == "DRAINING") {
      break;
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  grpc::ClientContext context;
  SetDeadline(&context, absl::Seconds(5));
  v1::ReloadResponse response;
  const grpc::Status reload = stub->Reload(&context, {}, &response);
  EXPECT_EQ(reload.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(reload.error_message(), HasSubstr("stopping"));
  absl::StatusOr<int> exit_code = router->Stop(absl::Seconds(20));
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0) << router->Stderr();
}

TEST(LifecycleTest, AReloadDoesNotWedgeOnAStuckBlockSink) {
  TcpPeer down(/*listening=*/false);
  const std::string stuck = absl::StrCat(
      RouterWithInput(), CarbonSink(down.port(),
                                    "capacity_messages: 10 overflow: BLOCK "
                                    "max_retry_duration_ms: 3600000"));
  auto router = RouterProcess::Start("reload_stuck", stuck);
  ASSERT_TRUE(router.ok()) << router.status();
  auto client = ClientFor(router->endpoint());
  for (int i = 0; i < 100; ++i) client->Incr("held");
  ASSERT_TRUE(client->Flush(absl::Seconds(10)));
  AwaitStats(*router, [](const v1::StatsResponse& s) {
    return s.sinks(0).queued() == 10;
  });
  // The corrected config: carbon now where one listens.
  TcpPeer carbon(/*listening=*/true);
  std::ofstream(TempPath("reload_stuck.textproto")) << absl::StrCat(
      RouterWithInput(), CarbonSink(carbon.port(), "overflow: BLOCK"));
  const std::string out = TempPath("reload_stuck.out");
  ASSERT_EQ(std::system(absl::StrCat(Runfile("tools/metlogctl"),
                                     " --admin=", router->admin_address(),
                                     " reload > ", out, " 2>&1")
                            .c_str()),
            0)
      << testing::ReadFile(out);
  // The old instance drains within the deadline, shown meanwhile, then its
  // counts join the new instance's.
  const v1::StatsResponse stats =
      AwaitStats(*router, [](const v1::StatsResponse& s) {
        return s.sinks_size() == 1 && s.inputs(0).messages_accepted() == 100;
      });
  ASSERT_EQ(stats.sinks_size(), 1);
  EXPECT_EQ(stats.sinks(0).state(), v1::SinkStats::ACTIVE);
  EXPECT_GT(stats.sinks(0).dropped().at("shutdown"), 0u);
  absl::StatusOr<int> exit_code = router->Stop(absl::Seconds(20));
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0) << router->Stderr();
}

TEST(LifecycleTest, AStalledTailHoldsABoundedBacklogAndCostsSinksNothing) {
  auto router =
      RouterProcess::Start("stalled_tail", absl::StrCat(RouterWithInput(), R"(
        sinks { name: "null" queue { overflow: BLOCK } options {
          [type.googleapis.com/metlog.sinks.NullOptions] {} } })"));
  ASSERT_TRUE(router.ok()) << router.status();
  auto stub = AdminStub(*router);
  grpc::ClientContext tail_context;
  v1::TailRequest request;
  request.set_match("TRUE");
  auto reader = stub->Tail(&tail_context, request);
  AwaitStats(*router,
             [](const v1::StatsResponse& s) { return s.tails_size() == 1; });
  // 60 KB messages, far more than the tail may hold, never read.
  constexpr int kMessages = 2000;
  auto client = ClientFor(router->endpoint());
  const std::string payload(60000, 'x');
  for (int i = 0; i < kMessages; ++i) {
    client->Metlog("big", payload);
    if (i % 100 == 0) client->Flush(absl::Seconds(10));
  }
  ASSERT_TRUE(client->Flush(absl::Seconds(10)));
  const v1::StatsResponse stats =
      AwaitStats(*router, [](const v1::StatsResponse& s) {
        return s.sinks(0).delivered() == kMessages;
      });
  // The sink got everything; the tail dropped, for itself only.
  EXPECT_EQ(stats.sinks(0).delivered(), kMessages);
  EXPECT_TRUE(stats.sinks(0).dropped().empty());
  ASSERT_EQ(stats.tails_size(), 1);
  EXPECT_GT(stats.tails(0).dropped(), 0u);
  EXPECT_LE(stats.tails(0).queued_bytes(), 16u << 20);
  // The viewer, reading again, is told what it missed.
  bool told = false;
  v1::Message message;
  for (int i = 0; i < kMessages && !told && reader->Read(&message); ++i) {
    told = message.type() == "metlog.tail.dropped";
  }
  EXPECT_TRUE(told);
  // Gone, it holds nothing.
  tail_context.TryCancel();
  reader->Finish();
  EXPECT_EQ(
      AwaitStats(*router,
                 [](const v1::StatsResponse& s) { return s.tails_size() == 0; })
          .tails_size(),
      0);
  ASSERT_TRUE(router->Stop().ok());
}

TEST(LifecycleTest, SigtermEndsInTimeWithATailViewerThatStoppedReading) {
  auto router = RouterProcess::Start("stalled_tail_term",
                                     absl::StrCat(RouterWithInput(), R"(
        sinks { name: "null" options {
          [type.googleapis.com/metlog.sinks.NullOptions] {} } })"));
  ASSERT_TRUE(router.ok()) << router.status();
  grpc::ClientContext tail_context;
  v1::TailRequest request;
  auto reader = AdminStub(*router)->Tail(&tail_context, request);
  AwaitStats(*router,
             [](const v1::StatsResponse& s) { return s.tails_size() == 1; });
  auto client = ClientFor(router->endpoint());
  const std::string payload(60000, 'x');
  for (int i = 0; i < 500; ++i) client->Metlog("big", payload);
  ASSERT_TRUE(client->Flush(absl::Seconds(10)));
  AwaitStats(*router, [](const v1::StatsResponse& s) {
    return s.sinks(0).delivered() == 500;
  });
  absl::StatusOr<int> exit_code = router->Stop(absl::Seconds(20));
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0) << router->Stderr();
  tail_context.TryCancel();
}

}  // namespace
}  // namespace metlog
