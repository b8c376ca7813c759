// Client → router binary → statsd, carbon, Prometheus and a file at once:
// the same counter total arrives in all four real back ends.
#include <fstream>

#include "absl/strings/str_cat.h"
#include "client/metlog.h"
#include "client/senders.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "tools/testing/peers.h"
#include "tools/testing/router_process.h"

namespace metlog {
namespace {

TEST(SinksEndToEndTest, OneCounterReachesStatsdCarbonPrometheusAndAFile) {
  auto statsd = testing::EtsyStatsd::Start();
  ASSERT_TRUE(statsd.ok()) << statsd.status();
  auto carbon = testing::CarbonCache::Start();
  ASSERT_TRUE(carbon.ok()) << carbon.status();
  const int prometheus_port = testing::FreeTcpPort();
  const std::string file = testing::TempPath("all_sinks.jsonl");
  const std::string metrics =
      R"(Type == "counter" || Type == "timer" || Type == "gauge")";
  const std::string config = absl::StrCat(
      R"(
    inputs { options { [type.googleapis.com/metlog.v1.ZmqInputConfig] { endpoint: "tcp://127.0.0.1:*" } } }
    admin { listen_address: "127.0.0.1:0" }
    stats_interval_ms: 0
    sinks { name: "statsd" match: ')",
      metrics, R"(' queue { flush_interval_ms: 10 }
      options { [type.googleapis.com/metlog.sinks.StatsdOptions] {
        address: "127.0.0.1:)",
      statsd->port(), R"(" name_template: "{logger}.{name}" } } }
    sinks { name: "carbon" match: ')",
      metrics, R"(' queue { flush_interval_ms: 10 }
      options { [type.googleapis.com/metlog.sinks.CarbonOptions] {
        address: "127.0.0.1:)",
      carbon->line_port(), R"(" name_template: "{logger}.{name}" } } }
    sinks { name: "prometheus" match: ')",
      metrics, R"(' queue { flush_interval_ms: 10 }
      options { [type.googleapis.com/metlog.sinks.PrometheusOptions] {
        listen_address: "127.0.0.1:)",
      prometheus_port, R"(" name_template: "{logger}_{name}" } } }
    sinks { name: "file" queue { flush_interval_ms: 10 }
      options { [type.googleapis.com/metlog.sinks.FileOptions] { path: ")",
      file, R"(" } } }
  )");
  auto router = testing::RouterProcess::Start("all_sinks", config);
  ASSERT_TRUE(router.ok()) << router.status();
  auto prometheus =
      testing::Prometheus::Start(absl::StrCat("127.0.0.1:", prometheus_port));
  ASSERT_TRUE(prometheus.ok()) << prometheus.status();

  auto sender = MakeZmqSender({router->endpoint()});
  ASSERT_TRUE(sender.ok());
  Client client(*std::move(sender), "shop");
  // Within one second, so carbon's 1 s slot holds one value: 2 + 3 + 4.
  client.Incr("orders", 2);
  client.Incr("orders", 3);
  client.Incr("orders", 4);
  client.Info("not a metric: only the file takes it");
  ASSERT_TRUE(client.Flush(absl::Seconds(5)));

  EXPECT_EQ(statsd->ValueOf("counters", "shop.orders"), "9");
  EXPECT_EQ(prometheus->Query("shop_orders_total"), 9);
  // One point per second: the three counters add up whether they landed in
  // one second or in several.
  double carbon_total = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (carbon_total != 9 && absl::Now() < deadline) {
    carbon_total = 0;
    for (double point : carbon->Values("shop.orders", 1)) carbon_total += point;
  }
  EXPECT_EQ(carbon_total, 9);
  int file_total = 0, file_lines = 0;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    rapidjson::Document m;  // the file sink's default JSON line
    m.Parse(line.c_str());
    ASSERT_FALSE(m.HasParseError()) << line;
    ++file_lines;
    if (m["type"].GetString() == std::string("counter")) {
      file_total += std::stoi(m["payload"].GetString());
    }
  }
  EXPECT_EQ(file_lines, 4);
  EXPECT_EQ(file_total, 9);
  ASSERT_TRUE(router->Stop().ok());
}

}  // namespace
}  // namespace metlog
