// The statsd sink against the real Etsy statsd, read back through its
// management port.
#include "sinks/statsd/statsd_sink.h"

#include <cstdlib>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/field.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "integration_tests/peer_process.h"

namespace metlog {
namespace {

using ::testing::ElementsAre;
using testing::PeerProcess;

std::string PeersDir() {
  const char* dir = std::getenv("METLOG_PEERS_DIR");
  return dir != nullptr ? dir : "/opt/metlog-peers";
}

// Etsy statsd on free loopback ports, no backends, and a flush interval long
// enough that nothing is reset while the test reads.
class EtsyStatsd {
 public:
  static absl::StatusOr<EtsyStatsd> Start() {
    EtsyStatsd statsd;
    statsd.port_ = testing::FreeUdpPort();
    statsd.mgmt_port_ = testing::FreeTcpPort();
    const std::string config = testing::TempPath("statsd_config.js");
    std::ofstream(config) << absl::StrCat(
        "{ port: ", statsd.port_, ", address: '127.0.0.1', mgmt_port: ",
        statsd.mgmt_port_,
        ", mgmt_address: '127.0.0.1', backends: [], flushInterval: 3600000 }");
    auto process = PeerProcess::Start(
        "statsd", {"/usr/bin/node",
                   PeersDir() + "/node_modules/statsd/stats.js", config});
    if (!process.ok()) return process.status();
    statsd.process_.emplace(*std::move(process));
    if (absl::Status s = testing::WaitForUdpPort(statsd.port_, *statsd.process_);
        !s.ok()) {
      return s;
    }
    if (absl::Status s =
            testing::WaitForTcpPort(statsd.mgmt_port_, *statsd.process_);
        !s.ok()) {
      return s;
    }
    return statsd;
  }

  int port() const { return port_; }

  // The management port's answer to `command` ("counters", "timers",
  // "gauges").
  std::string Ask(const std::string& command) const {
    auto answer = testing::TcpExchange(mgmt_port_, command + "\n", "END");
    return answer.ok() ? *answer : "";
  }

  // The value statsd holds for `name` under `command`, as text, waiting for
  // it to appear (UDP is asynchronous).
  std::string ValueOf(const std::string& command, const std::string& name) const {
    const std::string key = absl::StrCat("'", name, "': ");
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    do {
      const std::string answer = Ask(command);
      if (const size_t at = answer.find(key); at != std::string::npos) {
        const size_t start = at + key.size();
        size_t end = start;
        if (answer[start] == '[') {
          end = answer.find(']', start) + 1;
        } else {
          end = answer.find_first_of(",\n }", start);
        }
        return answer.substr(start, end - start);
      }
      absl::SleepFor(absl::Milliseconds(50));
    } while (absl::Now() < deadline);
    return "";
  }

 private:
  EtsyStatsd() = default;
  int port_ = 0;
  int mgmt_port_ = 0;
  std::optional<PeerProcess> process_;
};

MessagePtr Metric(const std::string& type, const std::string& name,
                  const std::string& payload, double rate = 1.0) {
  auto m = std::make_shared<v1::Message>();
  m->set_type(type);
  m->set_logger("shop");
  m->set_payload(payload);
  *m->add_fields() = MakeField("name", name);
  if (type != "gauge") *m->add_fields() = MakeField("rate", rate);
  return m;
}

TEST(StatsdSinkTest, LinesFollowTheStatsdProtocol) {
  sinks::StatsdOptions options;
  options.set_prefix("p.");
  StatsdSink sink(options);
  EXPECT_THAT(sink.Lines(*Metric("counter", "orders", "3", 0.1)),
              ElementsAre("p.orders:3|c|@0.1"));
  EXPECT_THAT(sink.Lines(*Metric("timer", "db", "12.5")),
              ElementsAre("p.db:12.5|ms"));
  EXPECT_THAT(sink.Lines(*Metric("gauge", "depth", "-4")),
              ElementsAre("p.depth:0|g", "p.depth:-4|g"));
  EXPECT_THAT(sink.Lines(*Metric("counter", "a:b|c", "1")),
              ElementsAre("p.a_b_c:1|c"));
  v1::Message log;
  log.set_type("log");
  EXPECT_TRUE(sink.Lines(log).empty());
}

TEST(StatsdSinkTest, EtsyStatsdReceivesCountersTimersAndGauges) {
  auto statsd = EtsyStatsd::Start();
  ASSERT_TRUE(statsd.ok()) << statsd.status();
  sinks::StatsdOptions options;
  options.set_address(absl::StrCat("127.0.0.1:", statsd->port()));
  options.set_name_template("{logger}.{name}");
  options.set_max_datagram_bytes(64);  // forces several datagrams
  StatsdSink sink(options);
  ASSERT_TRUE(sink.Start().ok());

  std::vector<MessagePtr> batch = {
      Metric("counter", "orders", "2"), Metric("counter", "orders", "3"),
      Metric("counter", "sampled", "1", 0.5), Metric("timer", "db", "12.5"),
      Metric("timer", "db", "7"), Metric("gauge", "depth", "17")};
  auto log = std::make_shared<v1::Message>();
  log->set_type("log");
  batch.push_back(log);
  ASSERT_TRUE(sink.Write(batch).ok());
  EXPECT_EQ(sink.TakeUnusable(), 1u);
  EXPECT_EQ(sink.TakeUnusable(), 0u);

  EXPECT_EQ(statsd->ValueOf("counters", "shop.orders"), "5");
  EXPECT_EQ(statsd->ValueOf("counters", "shop.sampled"), "2");  // 1 / 0.5
  EXPECT_EQ(statsd->ValueOf("timers", "shop.db"), "[ 12.5, 7 ]");
  EXPECT_EQ(statsd->ValueOf("gauges", "shop.depth"), "17");
  EXPECT_EQ(statsd->ValueOf("counters", "statsd.bad_lines_seen"), "0");
}

}  // namespace
}  // namespace metlog
