// C++ client → router binary → sentry sink → sentry-testkit's local Sentry
// server (npm): the events the server parsed carry the exception's type,
// value and stack trace, the level, logger and server name.
#include <unistd.h>

#include <map>
#include <stdexcept>
#include <string>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/envelope/field.h"
#include "client/metlog.h"
#include "client/senders.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "tools/testing/peer_process.h"
#include "tools/testing/router_process.h"

namespace metlog {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

std::string PeersDir() {
  const char* dir = std::getenv("METLOG_PEERS_DIR");
  return dir != nullptr ? dir : "/opt/metlog-peers";
}

// sentry-testkit's server for project 42, and its reports.
class SentryTestkit {
 public:
  static absl::StatusOr<SentryTestkit> Start() {
    auto process = testing::PeerProcess::Start(
        "sentry_testkit",
        {"/usr/bin/node",
         testing::Runfile("integration_tests/sentry_testkit_server.js"),
         PeersDir(), "42"});
    if (!process.ok()) return process.status();
    SentryTestkit testkit(*std::move(process));
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline && testkit.process_.Running()) {
      const std::string out = testkit.process_.Stdout();
      const size_t ready = out.find("READY ");
      const size_t end = out.find('\n', ready);
      if (ready != std::string::npos && end != std::string::npos) {
        std::vector<std::string> ports =
            absl::StrSplit(out.substr(ready + 6, end - ready - 6), ' ');
        if (ports.size() == 2 &&
            absl::SimpleAtoi(ports[0], &testkit.sentry_port_) &&
            absl::SimpleAtoi(ports[1], &testkit.reports_port_)) {
          return testkit;
        }
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    return absl::UnavailableError(absl::StrCat("sentry-testkit did not start: ",
                                               testkit.process_.Stderr()));
  }

  std::string Dsn() const {
    return absl::StrCat("http://0123456789abcdef@127.0.0.1:", sentry_port_,
                        "/42");
  }

  // The reports, once there are at least `count` (or what there is after
  // 20 s).
  rapidjson::Document Reports(size_t count) {
    rapidjson::Document reports;
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    do {
      absl::StatusOr<std::string> body = testing::HttpGet(reports_port_, "/");
      if (body.ok()) {
        reports.Parse(body->c_str());
        if (!reports.HasParseError() && reports.IsArray() &&
            reports.Size() >= count) {
          break;
        }
      }
      absl::SleepFor(absl::Milliseconds(50));
    } while (absl::Now() < deadline);
    return reports;
  }

 private:
  explicit SentryTestkit(testing::PeerProcess process)
      : process_(std::move(process)) {}

  testing::PeerProcess process_;
  int sentry_port_ = 0;
  int reports_port_ = 0;
};

std::string HostName() {
  char name[256] = {};
  gethostname(name, sizeof(name) - 1);
  return name;
}

// Out of line, so that the stack trace names it as the exception's origin.
ABSL_ATTRIBUTE_NOINLINE void ReportDiskFull(Client& client) {
  client.Exception(std::runtime_error("disk full"));
  ABSL_BLOCK_TAIL_CALL_OPTIMIZATION();
}

TEST(SentryEndToEndTest, ClientExceptionsArriveAsParsedSentryEvents) {
  auto sentry = SentryTestkit::Start();
  ASSERT_TRUE(sentry.ok()) << sentry.status();
  const std::string config = absl::StrCat(R"(
    inputs { options { [type.googleapis.com/metlog.v1.ZmqInputConfig] { endpoint: "tcp://127.0.0.1:*" } } }
    stats_interval_ms: 0
    sinks { name: "sentry"
      match: 'Type == "exception" || Severity <= 3'
      queue { flush_interval_ms: 10 }
      options { [type.googleapis.com/metlog.sinks.SentryOptions] {
        dsn: ")",
                                          sentry->Dsn(), R"("
        environment: "e2e" release: "shop@1.0" } } }
  )");
  auto router = testing::RouterProcess::Start("sentry", config);
  ASSERT_TRUE(router.ok()) << router.status();

  auto sender = MakeZmqSender({router->endpoint()});
  ASSERT_TRUE(sender.ok());
  Client client(*std::move(sender), "shop");
  client.Info("not an error: the matcher leaves it out");
  ReportDiskFull(client);
  // What the Node client's exception() sends, stack trace included.
  client.Metlog("exception", "checkout failed",
                {MakeField("exception_type", "CheckoutError"),
                 MakeField("message", "cart is empty"),
                 MakeField("stack",
                           "CheckoutError: cart is empty\n"
                           "    at checkout (/app/cart.js:42:7)\n"
                           "    at main (/app/main.js:10:3)\n"),
                 MakeField("region", "eu")},
                kCritical);
  client.Error("payment declined");
  ASSERT_TRUE(client.Flush(absl::Seconds(5)));

  rapidjson::Document reports = sentry->Reports(3);
  ASSERT_TRUE(reports.IsArray());
  ASSERT_EQ(reports.Size(), 3u);
  std::map<std::string, const rapidjson::Value*> by_message;
  for (const rapidjson::Value& report : reports.GetArray()) {
    const rapidjson::Value& event = report["originalReport"];
    by_message[event["message"]["formatted"].GetString()] = &event;
    EXPECT_STREQ(event["logger"].GetString(), "shop");
    EXPECT_EQ(event["server_name"].GetString(), HostName());
    EXPECT_STREQ(event["environment"].GetString(), "e2e");
    EXPECT_STREQ(event["release"].GetString(), "shop@1.0");
    EXPECT_EQ(event["event_id"].GetStringLength(), 32u);
    EXPECT_EQ(std::string(event["timestamp"].GetString()).size(), 27u);
  }

  ASSERT_EQ(by_message.count("disk full"), 1u);
  const rapidjson::Value& cpp = *by_message["disk full"];
  EXPECT_STREQ(cpp["level"].GetString(), "fatal");
  EXPECT_STREQ(cpp["exception"]["values"][0]["type"].GetString(),
               "std::runtime_error");
  EXPECT_STREQ(cpp["exception"]["values"][0]["value"].GetString(), "disk full");
  // The C++ client's stack trace, outermost first: the innermost frame is
  // the function that called Exception(), in this test's binary.
  const rapidjson::Value& cpp_frames =
      cpp["exception"]["values"][0]["stacktrace"]["frames"];
  ASSERT_TRUE(cpp_frames.IsArray());
  ASSERT_GE(cpp_frames.Size(), 3u);
  const rapidjson::Value& innermost = cpp_frames[cpp_frames.Size() - 1];
  EXPECT_THAT(innermost["function"].GetString(), HasSubstr("ReportDiskFull"));
  EXPECT_THAT(innermost["package"].GetString(), EndsWith("sentry_e2e_test"));
  EXPECT_THAT(innermost["instruction_addr"].GetString(),
              MatchesRegex("0x[0-9a-f]{16}"));
  EXPECT_THAT(cpp_frames[cpp_frames.Size() - 2]["function"].GetString(),
              HasSubstr("ClientExceptionsArriveAsParsedSentryEvents"));
  EXPECT_FALSE(cpp["extra"].HasMember("stack"));

  ASSERT_EQ(by_message.count("checkout failed"), 1u);
  const rapidjson::Value& node = *by_message["checkout failed"];
  EXPECT_STREQ(node["level"].GetString(), "fatal");
  const rapidjson::Value& exception = node["exception"]["values"][0];
  EXPECT_STREQ(exception["type"].GetString(), "CheckoutError");
  EXPECT_STREQ(exception["value"].GetString(), "cart is empty");
  const rapidjson::Value& frames = exception["stacktrace"]["frames"];
  ASSERT_EQ(frames.Size(), 2u);
  EXPECT_STREQ(frames[0]["function"].GetString(), "main");
  EXPECT_STREQ(frames[0]["filename"].GetString(), "/app/main.js");
  EXPECT_EQ(frames[0]["lineno"].GetInt(), 10);
  EXPECT_STREQ(frames[1]["function"].GetString(), "checkout");
  EXPECT_EQ(frames[1]["lineno"].GetInt(), 42);
  EXPECT_EQ(frames[1]["colno"].GetInt(), 7);
  EXPECT_STREQ(node["tags"]["region"].GetString(), "eu");

  ASSERT_EQ(by_message.count("payment declined"), 1u);
  const rapidjson::Value& log = *by_message["payment declined"];
  EXPECT_STREQ(log["level"].GetString(), "error");
  EXPECT_FALSE(log.HasMember("exception"));

  // sentry-testkit's own reading of the exception agrees.
  for (const rapidjson::Value& report : reports.GetArray()) {
    if (report["originalReport"]["message"]["formatted"] == "disk full") {
      EXPECT_STREQ(report["error"]["name"].GetString(), "std::runtime_error");
      EXPECT_STREQ(report["error"]["message"].GetString(), "disk full");
      EXPECT_THAT(report["error"]["stacktrace"]["frames"]
                      .GetArray()
                      .End()[-1]["function"]
                      .GetString(),
                  HasSubstr("ReportDiskFull"));
    }
  }
  ASSERT_TRUE(router->Stop().ok());
}

}  // namespace
}  // namespace metlog
