// Client library → real router binary → console sink: every message's type,
// logger, severity and payload appear on the router's stdout.
#include <string>

#include "client/metlog.h"
#include "client/senders.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/testing/router_process.h"

namespace metlog {
namespace {

using ::testing::HasSubstr;

constexpr char kConfig[] = R"pb(
  inputs {
    options {
      [type.googleapis.com/metlog.v1.ZmqInputConfig] {
        endpoint: "tcp://127.0.0.1:*"
      }
    }
  }
  admin { listen_address: "127.0.0.1:0" }
  sinks {
    name: "console"
    queue { flush_interval_ms: 10 }
    options {
      [type.googleapis.com/metlog.sinks.ConsoleOptions] {}
    }
  }
)pb";

TEST(ConsoleEndToEndTest, ClientMessagesAppearOnTheRouterConsole) {
  auto router = testing::RouterProcess::Start("console_e2e", kConfig);
  ASSERT_TRUE(router.ok()) << router.status();

  auto sender = MakeZmqSender({router->endpoint()});
  ASSERT_TRUE(sender.ok()) << sender.status();
  Client client(*std::move(sender), "checkout");
  client.Metlog("log", "payment declined", {}, kError);
  client.Incr("orders", 3);
  client.TimerSend("db.query", 12.5);
  client.Metlog("audit", "user 7 signed in", {MakeField("user", 7)}, kNotice,
                "auth");
  ASSERT_TRUE(client.Flush(absl::Seconds(5)));
  EXPECT_EQ(client.Stats().sent, 4u);

  ASSERT_TRUE(router->WaitForStdoutLines(4, absl::Seconds(10)))
      << router->Stdout() << router->Stderr();
  const std::string out = router->Stdout();
  EXPECT_THAT(out, HasSubstr("ERROR(3) type=\"log\" logger=\"checkout\""));
  EXPECT_THAT(out, HasSubstr("payload=\"payment declined\""));
  EXPECT_THAT(out, HasSubstr("INFO(6) type=\"counter\" logger=\"checkout\""));
  EXPECT_THAT(out, HasSubstr("payload=\"3\" name=\"orders\" rate=1"));
  EXPECT_THAT(out, HasSubstr("INFO(6) type=\"timer\" logger=\"checkout\""));
  EXPECT_THAT(out, HasSubstr("payload=\"12.5\" name=\"db.query\""));
  EXPECT_THAT(out, HasSubstr("NOTICE(5) type=\"audit\" logger=\"auth\""));
  EXPECT_THAT(out, HasSubstr("payload=\"user 7 signed in\" user=7"));

  absl::StatusOr<int> exit_code = router->Stop();
  ASSERT_TRUE(exit_code.ok()) << exit_code.status();
  EXPECT_EQ(*exit_code, 0);
  EXPECT_THAT(router->Stderr(), HasSubstr("stopped; 0 messages undelivered"));
}

TEST(ConsoleEndToEndTest, MetlogSendToolDeliversAMessage) {
  auto router = testing::RouterProcess::Start("metlog_send_e2e", kConfig);
  ASSERT_TRUE(router.ok()) << router.status();
  const std::string command = absl::StrCat(
      testing::Runfile("tools/metlog_send"), " --endpoint=", router->endpoint(),
      " --payload=hello --type=greeting");
  ASSERT_EQ(std::system(command.c_str()), 0);
  ASSERT_TRUE(router->WaitForStdoutLines(1, absl::Seconds(10)));
  EXPECT_THAT(router->Stdout(),
              HasSubstr("type=\"greeting\" logger=\"metlog_send\""));
  EXPECT_THAT(router->Stdout(), HasSubstr("payload=\"hello\""));
}

}  // namespace
}  // namespace metlog
