// The carbon sink against a real carbon-cache, read back from whisper files.
#include "sinks/carbon/carbon_sink.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/field.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "integration_tests/peers.h"

namespace metlog {
namespace {

using testing::CarbonCache;
using ::testing::ElementsAre;

v1::Message Metric(const std::string& type, const std::string& name,
                   const std::string& payload, absl::Time at,
                   double rate = 1.0) {
  v1::Message m;
  m.set_type(type);
  m.set_logger("shop");
  m.set_payload(payload);
  m.set_timestamp(absl::ToUnixNanos(at));
  *m.add_fields() = MakeField("name", name);
  *m.add_fields() = MakeField("rate", rate);
  return m;
}

sinks::CarbonOptions OptionsFor(const CarbonCache& carbon) {
  sinks::CarbonOptions options;
  options.set_address(absl::StrCat("127.0.0.1:", carbon.line_port()));
  options.set_prefix("metlog.");
  options.set_name_template("{logger}.{name}");
  return options;
}

TEST(CarbonSinkTest, PathsAreSafe) {
  sinks::CarbonOptions options;
  options.set_prefix("p.");
  CarbonSink sink(options);
  EXPECT_EQ(*sink.Path(MessageBatch(
                {Metric("timer", "db query", "12.5", absl::Now())})[0]),
            "p.db_query");
}

TEST(CarbonSinkTest, CarbonStoresTheValues) {
  auto carbon = CarbonCache::Start();
  ASSERT_TRUE(carbon.ok()) << carbon.status();
  CarbonSink sink(OptionsFor(*carbon));
  ASSERT_TRUE(sink.Start().ok());
  const absl::Time now = absl::Now();
  ASSERT_TRUE(
      sink.Write(MessageBatch(
                     {Metric("counter", "orders", "4", now - absl::Seconds(2)),
                      Metric("counter", "orders", "7", now - absl::Seconds(1)),
                      Metric("gauge", "depth", "17", now)})
                     .refs(),
                 absl::InfiniteFuture())
          .ok());
  EXPECT_THAT(carbon->Values("metlog.shop.orders", 2), ElementsAre(4, 7));
  EXPECT_THAT(carbon->Values("metlog.shop.depth", 1), ElementsAre(17));
}

TEST(CarbonSinkTest, SameSecondCountersAddUpAcrossBatches) {
  auto carbon = CarbonCache::Start();
  ASSERT_TRUE(carbon.ok()) << carbon.status();
  CarbonSink sink(OptionsFor(*carbon));
  ASSERT_TRUE(sink.Start().ok());
  const absl::Time second =
      absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
  v1::Message log;
  log.set_type("log");
  ASSERT_TRUE(
      sink.Write(MessageBatch({Metric("counter", "same", "2", second),
                               Metric("counter", "same", "3", second, 0.5), log,
                               Metric("timer", "lat", "10", second),
                               Metric("timer", "lat", "20", second)})
                     .refs(),
                 absl::InfiniteFuture())
          .ok());
  EXPECT_EQ(sink.TakeUnusable(), 1u);
  ASSERT_TRUE(
      sink.Write(MessageBatch({Metric("counter", "same", "4", second)}).refs(),
                 absl::InfiniteFuture())
          .ok());
  EXPECT_THAT(carbon->Values("metlog.shop.same", 1), ElementsAre(12));  // 2+6+4
  EXPECT_THAT(carbon->Values("metlog.shop.lat", 1), ElementsAre(15));
}

TEST(CarbonSinkTest, ReconnectsAfterCarbonRestartsAndLosesNothing) {
  auto carbon = CarbonCache::Start();
  ASSERT_TRUE(carbon.ok()) << carbon.status();
  CarbonSink sink(OptionsFor(*carbon));
  ASSERT_TRUE(sink.Start().ok());
  const absl::Time now = absl::Now();
  ASSERT_TRUE(sink.Write(MessageBatch({Metric("counter", "restart", "1",
                                              now - absl::Seconds(3))})
                             .refs(),
                         absl::InfiniteFuture())
                  .ok());
  ASSERT_THAT(carbon->Values("metlog.shop.restart", 1), ElementsAre(1));

  const std::vector<int> ports = carbon->ports();
  ASSERT_TRUE(carbon->Stop().ok());
  // With carbon down the batch fails as transient: the runner would retry.
  const MessageBatch batch(
      {Metric("counter", "restart", "2", now - absl::Seconds(2))});
  const absl::Status down = sink.Write(batch.refs(), absl::InfiniteFuture());
  EXPECT_TRUE(IsTransient(down)) << down;

  auto restarted = CarbonCache::Start(ports);
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  ASSERT_TRUE(sink.Write(batch.refs(), absl::InfiniteFuture())
                  .ok());  // the retry, on a new connection
  EXPECT_THAT(restarted->Values("metlog.shop.restart", 2), ElementsAre(1, 2));
}

}  // namespace
}  // namespace metlog
