// Client → router binary → statsd, carbon, Prometheus and a file at once:
// the same counter total arrives in all four real back ends. And every
// metric type, from the client and from statsd lines, arrives in each
// metric back end with its meaning: gauge deltas, sets and histograms.

#include <algorithm>
#include <fstream>
#include <functional>

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

// The three metric sinks, taking every metric message; names are
// LOGGER.NAME in statsd and carbon and LOGGER_NAME in Prometheus.
std::string MetricSinks(const testing::EtsyStatsd& statsd,
                        const testing::CarbonCache& carbon,
                        int prometheus_port) {
  const std::string metrics =
      R"(Type == "counter" || Type == "timer" || Type == "histogram" ||)"
      R"( Type == "gauge" || Type == "set")";
  return absl::StrCat(
      R"(
    sinks { name: "statsd" match: ')",
      metrics, R"(' queue { flush_interval_ms: 10 }
      options { [type.googleapis.com/metlog.sinks.StatsdOptions] {
        address: "127.0.0.1:)",
      statsd.port(), R"(" name_template: "{logger}.{name}" } } }
    sinks { name: "carbon" match: ')",
      metrics, R"(' queue { flush_interval_ms: 10 }
      options { [type.googleapis.com/metlog.sinks.CarbonOptions] {
        address: "127.0.0.1:)",
      carbon.line_port(), R"(" name_template: "{logger}.{name}" } } }
    sinks { name: "prometheus" match: ')",
      metrics, R"(' queue { flush_interval_ms: 10 }
      options { [type.googleapis.com/metlog.sinks.PrometheusOptions] {
        listen_address: "127.0.0.1:)",
      prometheus_port, R"(" name_template: "{logger}_{name}" } } }
  )");
}

// Carbon's points for `path`, read until `done` holds for them or 20 s
// have passed (points of one second may be stored one by one).
std::vector<double> CarbonPointsWhen(
    const testing::CarbonCache& carbon, const std::string& path,
    const std::function<bool(const std::vector<double>&)>& done) {
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  std::vector<double> points;
  do {
    points = carbon.Values(path, 1);
  } while (!done(points) && absl::Now() < deadline);
  return points;
}

TEST(SinksEndToEndTest, StatsdGaugeDeltasAndSetsKeepTheirMeaningInEachSink) {
  auto statsd = testing::EtsyStatsd::Start();
  ASSERT_TRUE(statsd.ok()) << statsd.status();
  auto carbon = testing::CarbonCache::Start();
  ASSERT_TRUE(carbon.ok()) << carbon.status();
  const int prometheus_port = testing::FreeTcpPort();
  auto router = testing::RouterProcess::Start(
      "statsd_types",
      absl::StrCat(R"(
    inputs { options { [type.googleapis.com/metlog.v1.StatsdInputConfig] { address: "127.0.0.1:0" } } }
    admin { listen_address: "127.0.0.1:0" }
    stats_interval_ms: 0)",
                   MetricSinks(*statsd, *carbon, prometheus_port)));
  ASSERT_TRUE(router.ok()) << router.status();
  auto prometheus =
      testing::Prometheus::Start(absl::StrCat("127.0.0.1:", prometheus_port));
  ASSERT_TRUE(prometheus.ok()) << prometheus.status();

  // One datagram: its lines reach each sink in order.
  ASSERT_TRUE(testing::SendLoopbackDatagram(
                  router->endpoint(),
                  "level:+5|g\nlevel:10|g\nlevel:-3|g\n"
                  "users:alice|s\nusers:bob|s\nusers:alice|s\nsize:7|h")
                  .ok());

  EXPECT_EQ(statsd->ValueOf("gauges", "statsd.level"), "7");
  EXPECT_EQ(prometheus->Query("statsd_level"), 7);
  EXPECT_EQ(prometheus->Query("statsd_users"), 2);
  EXPECT_EQ(prometheus->Query("statsd_size_milliseconds_count"), 1);
  // The lines may straddle a second: the last point holds the gauge's
  // latest value, and the set's two members are counted in one second
  // whichever way the three lines split.
  EXPECT_EQ(CarbonPointsWhen(*carbon, "statsd.level",
                             [](const std::vector<double>& points) {
                               return !points.empty() && points.back() == 7;
                             })
                .back(),
            7);
  const std::vector<double> users =
      CarbonPointsWhen(*carbon, "statsd.users", [](const auto& points) {
        return !points.empty() &&
               *std::max_element(points.begin(), points.end()) == 2;
      });
  ASSERT_FALSE(users.empty());
  EXPECT_EQ(*std::max_element(users.begin(), users.end()), 2);
  ASSERT_TRUE(router->Stop().ok());
}

TEST(SinksEndToEndTest, ClientHistogramsAndSetsReachEachSink) {
  auto statsd = testing::EtsyStatsd::Start();
  ASSERT_TRUE(statsd.ok()) << statsd.status();
  auto carbon = testing::CarbonCache::Start();
  ASSERT_TRUE(carbon.ok()) << carbon.status();
  const int prometheus_port = testing::FreeTcpPort();
  auto router = testing::RouterProcess::Start(
      "client_types",
      absl::StrCat(R"(
    inputs { options { [type.googleapis.com/metlog.v1.ZmqInputConfig] { endpoint: "tcp://127.0.0.1:*" } } }
    admin { listen_address: "127.0.0.1:0" }
    stats_interval_ms: 0)",
                   MetricSinks(*statsd, *carbon, prometheus_port)));
  ASSERT_TRUE(router.ok()) << router.status();
  auto prometheus =
      testing::Prometheus::Start(absl::StrCat("127.0.0.1:", prometheus_port));
  ASSERT_TRUE(prometheus.ok()) << prometheus.status();

  auto sender = MakeZmqSender({router->endpoint()});
  ASSERT_TRUE(sender.ok());
  Client client(*std::move(sender), "shop");
  client.Histogram("batch.size", 40);
  client.Set("visitors", "alice", {{"page", "/cart"}});
  ASSERT_TRUE(client.Flush(absl::Seconds(5)));

  EXPECT_EQ(statsd->ValueOf("timers", "shop.batch.size"), "[ 40 ]");
  EXPECT_EQ(prometheus->Query("shop_batch_size_count"), 1);
  EXPECT_EQ(prometheus->Query("shop_batch_size_bucket{le=\"50\"}"), 1);
  EXPECT_EQ(prometheus->Query("shop_visitors"), 1);
  EXPECT_EQ(carbon->Values("shop.batch.size", 1), std::vector<double>{40});
  EXPECT_EQ(carbon->Values("shop.visitors", 1), std::vector<double>{1});
  ASSERT_TRUE(router->Stop().ok());
}

}  // namespace
}  // namespace metlog
