// The carbon sink against a real carbon-cache, read back from whisper files.
#include "sinks/carbon/carbon_sink.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/envelope/field.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sinks/message/message_batch.h"
#include "tools/testing/peers.h"

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
                     .views(),
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
                               Metric("timer", "lat", "20", second),
                               Metric("histogram", "size", "1", second),
                               Metric("histogram", "size", "-4", second)})
                     .views(),
                 absl::InfiniteFuture())
          .ok());
  EXPECT_EQ(sink.TakeUnusable(), 1u);
  ASSERT_TRUE(
      sink.Write(MessageBatch({Metric("counter", "same", "4", second)}).views(),
                 absl::InfiniteFuture())
          .ok());
  EXPECT_THAT(carbon->Values("metlog.shop.same", 1), ElementsAre(12));  // 2+6+4
  EXPECT_THAT(carbon->Values("metlog.shop.lat", 1), ElementsAre(15));
  EXPECT_THAT(carbon->Values("metlog.shop.size", 1), ElementsAre(-1.5));
}

v1::Message GaugeDelta(const std::string& name, const std::string& change,
                       absl::Time at) {
  v1::Message m = Metric("gauge", name, change, at);
  *m.add_fields() = MakeField("delta", true);
  return m;
}

TEST(CarbonSinkTest, GaugeDeltasChangeTheLatestValueAcrossBatches) {
  auto carbon = CarbonCache::Start();
  ASSERT_TRUE(carbon.ok()) << carbon.status();
  CarbonSink sink(OptionsFor(*carbon));
  ASSERT_TRUE(sink.Start().ok());
  const absl::Time now =
      absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
  for (const std::vector<v1::Message>& batch :
       {std::vector<v1::Message>{
            GaugeDelta("depth", "5", now - absl::Seconds(3))},
        std::vector<v1::Message>{
            Metric("gauge", "depth", "10", now - absl::Seconds(2)),
            GaugeDelta("depth", "-3", now - absl::Seconds(1))},
        std::vector<v1::Message>{GaugeDelta("depth", "1", now)}}) {
    ASSERT_TRUE(
        sink.Write(MessageBatch(batch).views(), absl::InfiniteFuture()).ok());
  }
  EXPECT_EQ(sink.TakeUnusable(), 0u);
  EXPECT_THAT(carbon->Values("metlog.shop.depth", 4), ElementsAre(5, 10, 7, 8));
}

TEST(CarbonSinkTest, GaugePathsBeyondTheirBoundAreNotRemembered) {
  auto carbon = CarbonCache::Start();
  ASSERT_TRUE(carbon.ok()) << carbon.status();
  sinks::CarbonOptions options = OptionsFor(*carbon);
  options.set_max_gauge_paths(2);
  CarbonSink sink(options);
  ASSERT_TRUE(sink.Start().ok());
  const absl::Time now =
      absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
  const absl::Time before = now - absl::Seconds(1);
  for (const std::vector<v1::Message>& batch :
       {std::vector<v1::Message>{Metric("gauge", "a", "10", before),
                                 Metric("gauge", "b", "20", before),
                                 Metric("gauge", "c", "30", before)},
        std::vector<v1::Message>{GaugeDelta("a", "1", now),
                                 GaugeDelta("c", "1", now)}}) {
    ASSERT_TRUE(
        sink.Write(MessageBatch(batch).views(), absl::InfiniteFuture()).ok());
  }
  EXPECT_THAT(carbon->Values("metlog.shop.a", 2), ElementsAre(10, 11));
  // c was the third path: its delta starts from 0.
  EXPECT_THAT(carbon->Values("metlog.shop.c", 2), ElementsAre(30, 1));
}

TEST(CarbonSinkTest, SetsStoreTheDistinctMembersPerSecond) {
  auto carbon = CarbonCache::Start();
  ASSERT_TRUE(carbon.ok()) << carbon.status();
  CarbonSink sink(OptionsFor(*carbon));
  ASSERT_TRUE(sink.Start().ok());
  const absl::Time now =
      absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
  const absl::Time earlier = now - absl::Seconds(2),
                   same = now - absl::Seconds(1);
  ASSERT_TRUE(sink.Write(MessageBatch({Metric("set", "users", "u-1", earlier),
                                       Metric("set", "users", "u-1", same),
                                       Metric("set", "users", "u-2", same),
                                       Metric("set", "users", "u-1", same)})
                             .views(),
                         absl::InfiniteFuture())
                  .ok());
  // A later batch in the same second adds only the members not yet seen.
  // Its point for `now` arrives with the update, so once carbon stores
  // three values the update is stored too.
  ASSERT_TRUE(sink.Write(MessageBatch({Metric("set", "users", "u-2", same),
                                       Metric("set", "users", "u-3", same),
                                       Metric("set", "users", "u-9", now)})
                             .views(),
                         absl::InfiniteFuture())
                  .ok());
  EXPECT_EQ(sink.TakeUnusable(), 0u);
  EXPECT_THAT(carbon->Values("metlog.shop.users", 3), ElementsAre(1, 3, 1));
}

// A listener that never reads, with a small receive buffer: what a carbon
// that accepts and then stalls looks like to the sink.
class SilentCarbon {
 public:
  SilentCarbon() {
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
    listen(fd_, 4);
  }
  ~SilentCarbon() { close(fd_); }
  int port() const { return port_; }

 private:
  int fd_;
  int port_;
};

// More distinct paths than a stalled connection's buffers take.
MessageBatch ManyPaths() {
  std::vector<v1::Message> messages;
  for (int i = 0; i < 20000; ++i) {
    messages.push_back(
        Metric("counter", absl::StrCat("m", i), "1", absl::Now()));
  }
  return MessageBatch(messages);
}

sinks::CarbonOptions SilentOptions(const SilentCarbon& carbon) {
  sinks::CarbonOptions options;
  options.set_address(absl::StrCat("127.0.0.1:", carbon.port()));
  options.set_prefix(std::string(500, 'p') + ".");
  return options;
}

TEST(CarbonSinkTest, AWriteToACarbonThatNeverReadsEndsAtItsDeadline) {
  SilentCarbon carbon;
  CarbonSink sink(SilentOptions(carbon));
  ASSERT_TRUE(sink.Start().ok());
  const absl::Status status =
      sink.Write(ManyPaths().views(), absl::Now() + absl::Milliseconds(300));
  EXPECT_TRUE(IsTransient(status)) << status;
  EXPECT_THAT(std::string(status.message()), ::testing::HasSubstr("timed out"));
}

TEST(CarbonSinkTest, CancelEndsAWriteToACarbonThatNeverReads) {
  SilentCarbon carbon;
  CarbonSink sink(SilentOptions(carbon));
  ASSERT_TRUE(sink.Start().ok());
  const MessageBatch batch = ManyPaths();
  absl::Status status;
  // A deadline far off, which only a Cancel that came before the write
  // began would leave to end it.
  std::thread writer([&] {
    status = sink.Write(batch.views(), absl::Now() + absl::Minutes(1));
  });
  absl::SleepFor(absl::Milliseconds(200));  // the write blocks meanwhile
  sink.Cancel();
  writer.join();
  EXPECT_TRUE(IsTransient(status)) << status;
}

TEST(CarbonSinkTest, ReconnectsAfterCarbonRestartsAndLosesNothing) {
  auto carbon = CarbonCache::Start();
  ASSERT_TRUE(carbon.ok()) << carbon.status();
  CarbonSink sink(OptionsFor(*carbon));
  ASSERT_TRUE(sink.Start().ok());
  const absl::Time now = absl::Now();
  ASSERT_TRUE(sink.Write(MessageBatch({Metric("counter", "restart", "1",
                                              now - absl::Seconds(3))})
                             .views(),
                         absl::InfiniteFuture())
                  .ok());
  ASSERT_THAT(carbon->Values("metlog.shop.restart", 1), ElementsAre(1));

  const std::vector<int> ports = carbon->ports();
  ASSERT_TRUE(carbon->Stop().ok());
  // With carbon down the batch fails as transient: the runner would retry.
  const MessageBatch batch(
      {Metric("counter", "restart", "2", now - absl::Seconds(2))});
  const absl::Status down = sink.Write(batch.views(), absl::InfiniteFuture());
  EXPECT_TRUE(IsTransient(down)) << down;

  auto restarted = CarbonCache::Start(ports);
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  ASSERT_TRUE(sink.Write(batch.views(), absl::InfiniteFuture())
                  .ok());  // the retry, on a new connection
  EXPECT_THAT(restarted->Values("metlog.shop.restart", 2), ElementsAre(1, 2));
}

}  // namespace
}  // namespace metlog
