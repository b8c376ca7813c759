// The Prometheus sink: its exposition text, then a real Prometheus scraping
// it and answering queries.
#include "sinks/prometheus/prometheus_sink.h"

#include "absl/strings/str_cat.h"
#include "client/envelope/field.h"
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "sinks/message/message_batch.h"
#include "tools/testing/peers.h"

namespace metlog {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

v1::Message Metric(const std::string& type, const std::string& name,
                   const std::string& payload, const std::string& region = "eu",
                   double rate = 1.0) {
  v1::Message m;
  m.set_type(type);
  m.set_logger("shop");
  m.set_payload(payload);
  *m.add_fields() = MakeField("name", name);
  *m.add_fields() = MakeField("rate", rate);
  *m.add_fields() = MakeField("region", region);
  return m;
}

v1::Message GaugeDelta(const std::string& name, const std::string& change) {
  v1::Message m = Metric("gauge", name, change);
  *m.add_fields() = MakeField("delta", true);
  return m;
}

sinks::PrometheusOptions Options() {
  sinks::PrometheusOptions options;
  options.set_listen_address("127.0.0.1:0");
  options.set_prefix("metlog_");
  options.add_label_fields("logger");
  options.add_label_fields("region");
  options.add_buckets_ms(10);
  options.add_buckets_ms(100);
  return options;
}

TEST(PrometheusSinkTest, ExpositionFormat) {
  PrometheusSink sink(Options());
  ASSERT_TRUE(sink.Start().ok());
  v1::Message log;
  log.set_type("log");
  ASSERT_TRUE(
      sink.Write(MessageBatch({Metric("counter", "orders", "2"),
                               Metric("counter", "orders", "1", "eu", 0.5),
                               Metric("counter", "orders", "5", "us"),
                               Metric("timer", "db.query", "7"),
                               Metric("timer", "db.query", "70"),
                               Metric("timer", "db.query", "700"),
                               Metric("gauge", "depth", "-3"), log})
                     .views(),
                 absl::InfiniteFuture())
          .ok());
  EXPECT_EQ(sink.TakeUnusable(), 1u);
  const std::string text = sink.Exposition();
  EXPECT_THAT(text, HasSubstr("# TYPE metlog_orders_total counter\n"));
  EXPECT_THAT(
      text,
      HasSubstr("metlog_orders_total{logger=\"shop\",region=\"eu\"} 4\n"));
  EXPECT_THAT(
      text,
      HasSubstr("metlog_orders_total{logger=\"shop\",region=\"us\"} 5\n"));
  EXPECT_THAT(text,
              HasSubstr("# TYPE metlog_db_query_milliseconds histogram\n"));
  EXPECT_THAT(text,
              HasSubstr("metlog_db_query_milliseconds_bucket{logger=\"shop\","
                        "region=\"eu\",le=\"10\"} 1\n"));
  EXPECT_THAT(text,
              HasSubstr("metlog_db_query_milliseconds_bucket{logger=\"shop\","
                        "region=\"eu\",le=\"100\"} 2\n"));
  EXPECT_THAT(text,
              HasSubstr("metlog_db_query_milliseconds_bucket{logger=\"shop\","
                        "region=\"eu\",le=\"+Inf\"} 3\n"));
  EXPECT_THAT(text,
              HasSubstr("metlog_db_query_milliseconds_sum{logger=\"shop\","
                        "region=\"eu\"} 777\n"));
  EXPECT_THAT(text,
              HasSubstr("metlog_depth{logger=\"shop\",region=\"eu\"} -3\n"));
  // Served over HTTP too.
  auto served = testing::HttpGet(sink.port(), "/metrics");
  ASSERT_TRUE(served.ok()) << served.status();
  EXPECT_EQ(*served, sink.Exposition());
  sink.Stop();
}

TEST(PrometheusSinkTest, GaugeDeltasChangeTheValueAndSetsCountMembers) {
  PrometheusSink sink(Options());
  ASSERT_TRUE(sink.Start().ok());
  ASSERT_TRUE(
      sink.Write(
              MessageBatch(
                  {GaugeDelta("depth", "5"), Metric("gauge", "depth", "10"),
                   GaugeDelta("depth", "-3"), Metric("set", "users", "u-1"),
                   Metric("set", "users", "u-2"), Metric("set", "users", "u-1"),
                   Metric("set", "users", "u-1", "us")})
                  .views(),
              absl::InfiniteFuture())
          .ok());
  ASSERT_TRUE(sink.Write(MessageBatch({GaugeDelta("depth", "1.5")}).views(),
                         absl::InfiniteFuture())
                  .ok());
  EXPECT_EQ(sink.TakeUnusable(), 0u);
  const std::string text = sink.Exposition();
  EXPECT_THAT(text, HasSubstr("metlog_depth{logger=\"shop\",region=\"eu\"} "
                              "8.5\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE metlog_users gauge\n"));
  EXPECT_THAT(text,
              HasSubstr("metlog_users{logger=\"shop\",region=\"eu\"} 2\n"));
  EXPECT_THAT(text,
              HasSubstr("metlog_users{logger=\"shop\",region=\"us\"} 1\n"));
}

TEST(PrometheusSinkTest, HistogramsAreExposedLikeTimersUnderTheirOwnName) {
  PrometheusSink sink(Options());
  ASSERT_TRUE(sink.Start().ok());
  ASSERT_TRUE(sink.Write(MessageBatch({Metric("histogram", "size", "-2"),
                                       Metric("histogram", "size", "50"),
                                       Metric("histogram", "size", "500")})
                             .views(),
                         absl::InfiniteFuture())
                  .ok());
  EXPECT_EQ(sink.TakeUnusable(), 0u);
  const std::string text = sink.Exposition();
  EXPECT_THAT(text, HasSubstr("# TYPE metlog_size histogram\n"));
  EXPECT_THAT(text, HasSubstr("metlog_size_bucket{logger=\"shop\","
                              "region=\"eu\",le=\"10\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("metlog_size_bucket{logger=\"shop\","
                              "region=\"eu\",le=\"100\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("metlog_size_bucket{logger=\"shop\","
                              "region=\"eu\",le=\"+Inf\"} 3\n"));
  EXPECT_THAT(
      text, HasSubstr("metlog_size_sum{logger=\"shop\",region=\"eu\"} 548\n"));
}

TEST(PrometheusSinkTest, SetMembersAreBoundedAndRefusalsCounted) {
  PrometheusSink sink(Options());
  ASSERT_TRUE(sink.Start().ok());
  std::vector<v1::Message> members;
  for (size_t i = 0; i < DistinctMembers::kMaxMembers + 3; ++i) {
    members.push_back(Metric("set", "users", absl::StrCat("u-", i)));
  }
  ASSERT_TRUE(
      sink.Write(MessageBatch(members).views(), absl::InfiniteFuture()).ok());
  const std::string text = sink.Exposition();
  EXPECT_THAT(text, HasSubstr(absl::StrCat(
                        "metlog_users{logger=\"shop\",region=\"eu\"} ",
                        DistinctMembers::kMaxMembers, "\n")));
  EXPECT_THAT(text,
              HasSubstr("metlog_prometheus_set_members_refused_total 3\n"));
}

TEST(PrometheusSinkTest, SummaryHasSumAndCountOnly) {
  sinks::PrometheusOptions options = Options();
  options.set_timer_type(sinks::PrometheusOptions::SUMMARY);
  PrometheusSink sink(options);
  ASSERT_TRUE(sink.Start().ok());
  ASSERT_TRUE(sink.Write(MessageBatch({Metric("timer", "db", "4")}).views(),
                         absl::InfiniteFuture())
                  .ok());
  const std::string text = sink.Exposition();
  EXPECT_THAT(text, HasSubstr("# TYPE metlog_db_milliseconds summary\n"));
  EXPECT_THAT(
      text,
      HasSubstr(
          "metlog_db_milliseconds_count{logger=\"shop\",region=\"eu\"} 1\n"));
  EXPECT_THAT(text, Not(HasSubstr("_bucket")));
}

TEST(PrometheusSinkTest, LabelCardinalityIsBoundedAndRefusalsCounted) {
  sinks::PrometheusOptions options = Options();
  options.set_max_series(2);
  PrometheusSink sink(options);
  ASSERT_TRUE(sink.Start().ok());
  ASSERT_TRUE(sink.Write(MessageBatch({Metric("counter", "c", "1", "a"),
                                       Metric("counter", "c", "1", "b"),
                                       Metric("counter", "c", "1", "c"),
                                       Metric("counter", "c", "1", "d"),
                                       Metric("counter", "c", "1", "a")})
                             .views(),
                         absl::InfiniteFuture())
                  .ok());
  EXPECT_EQ(sink.TakeUnusable(), 0u);
  const std::string text = sink.Exposition();
  EXPECT_THAT(text,
              HasSubstr("metlog_c_total{logger=\"shop\",region=\"a\"} 2\n"));
  EXPECT_THAT(text, Not(HasSubstr("region=\"c\"")));
  EXPECT_THAT(text, HasSubstr("metlog_prometheus_series_refused_total 2\n"));
}

TEST(PrometheusSinkTest, SecondSinkOnTheSamePortFailsToStart) {
  // Issue 9 item 17: with SO_REUSEPORT both bound, and scrapes were split
  // between two routers without a word.
  PrometheusSink first(Options());
  ASSERT_TRUE(first.Start().ok());
  sinks::PrometheusOptions options = Options();
  const std::string address = absl::StrCat("127.0.0.1:", first.port());
  options.set_listen_address(address);
  PrometheusSink second(options);
  const absl::Status status = second.Start();
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()),
              HasSubstr(absl::StrCat("cannot listen on ", address)));
  // The first keeps serving.
  ASSERT_TRUE(first
                  .Write(MessageBatch({Metric("gauge", "depth", "5")}).views(),
                         absl::InfiniteFuture())
                  .ok());
  absl::StatusOr<std::string> body = testing::HttpGet(first.port(), "/metrics");
  ASSERT_TRUE(body.ok()) << body.status();
  EXPECT_THAT(*body, HasSubstr("metlog_depth{"));
}

TEST(PrometheusSinkTest, FactoryRefusesOptionsThatBreakTheExposition) {
  const struct {
    const char* options;
    const char* error;
  } cases[] = {
      {"label_fields: 'le'",
       "label_fields \"le\" becomes label \"le\", which histograms use"},
      {"label_fields: 'user-id' label_fields: 'user_id'",
       "label_fields \"user-id\" and \"user_id\" both become label "
       "\"user_id\""},
      {"label_fields: '__name__'",
       "label_fields \"__name__\" becomes label \"__name__\"; names "
       "starting with __ are Prometheus's own"},
      {"buckets_ms: [10, 5]", "buckets_ms must increase: 5 follows 10"},
      {"buckets_ms: [10, 10]", "buckets_ms must increase: 10 follows 10"},
      {"buckets_ms: [-1, 5]",
       "buckets_ms holds -1; bounds must be finite "
       "and not negative"},
      {"buckets_ms: [5, inf]", "buckets_ms holds inf"},
      {"listen_address: '127.0.0.1:99999'",
       "listen_address \"127.0.0.1:99999\": port 99999 is not in 0..65535"},
      {"listen_address: ''", "listen_address \"\" is not host:port"},
      {"max_series: 0", "max_series is 0"},
  };
  for (const auto& c : cases) {
    sinks::PrometheusOptions options;
    ASSERT_TRUE(
        google::protobuf::TextFormat::ParseFromString(c.options, &options))
        << c.options;
    google::protobuf::Any any;
    any.PackFrom(options);
    absl::StatusOr<std::unique_ptr<Sink>> sink =
        SinkRegistry::Global().Create(any);
    ASSERT_FALSE(sink.ok()) << c.options;
    EXPECT_THAT(std::string(sink.status().message()),
                HasSubstr(absl::StrCat("prometheus: ", c.error)))
        << c.options;
  }
  google::protobuf::Any good;
  good.PackFrom(Options());
  EXPECT_TRUE(SinkRegistry::Global().Create(good).ok());
}

TEST(PrometheusSinkTest, RealPrometheusScrapesTheValues) {
  PrometheusSink sink(Options());
  ASSERT_TRUE(sink.Start().ok());
  ASSERT_TRUE(
      sink.Write(
              MessageBatch(
                  {Metric("counter", "orders", "3"),
                   Metric("counter", "orders", "4"),
                   Metric("timer", "db", "50"), Metric("gauge", "depth", "17"),
                   GaugeDelta("level", "5"), Metric("gauge", "level", "10"),
                   GaugeDelta("level", "-3"), Metric("set", "users", "u-1"),
                   Metric("set", "users", "u-2"),
                   Metric("set", "users", "u-1")})
                  .views(),
              absl::InfiniteFuture())
          .ok());
  auto prometheus =
      testing::Prometheus::Start(absl::StrCat("127.0.0.1:", sink.port()));
  ASSERT_TRUE(prometheus.ok()) << prometheus.status();
  EXPECT_EQ(prometheus->Query("metlog_orders_total{region=\"eu\"}"), 7);
  EXPECT_EQ(prometheus->Query("metlog_db_milliseconds_count"), 1);
  EXPECT_EQ(prometheus->Query("metlog_db_milliseconds_bucket{le=\"100\"}"), 1);
  EXPECT_EQ(prometheus->Query("metlog_depth"), 17);
  EXPECT_EQ(prometheus->Query("metlog_level"), 7);  // 5, then 10, then -3
  EXPECT_EQ(prometheus->Query("metlog_users"), 2);
  sink.Stop();
}

}  // namespace
}  // namespace metlog
