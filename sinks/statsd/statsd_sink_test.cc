// The statsd sink against the real Etsy statsd, read back through its
// management port.
#include "sinks/statsd/statsd_sink.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "client/envelope/field.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sinks/message/message_batch.h"
#include "tools/testing/peers.h"

namespace metlog {
namespace {

using ::testing::ElementsAre;
using testing::EtsyStatsd;

v1::Message Metric(const std::string& type, const std::string& name,
                   const std::string& payload, double rate = 1.0) {
  v1::Message m;
  m.set_type(type);
  m.set_logger("shop");
  m.set_payload(payload);
  *m.add_fields() = MakeField("name", name);
  if (type != "gauge") *m.add_fields() = MakeField("rate", rate);
  return m;
}

v1::Message GaugeDelta(const std::string& name, const std::string& change) {
  v1::Message m = Metric("gauge", name, change);
  *m.add_fields() = MakeField("delta", true);
  return m;
}

std::vector<std::string> LinesOf(const StatsdSink& sink,
                                 const v1::Message& message) {
  return sink.Lines(MessageBatch({message})[0]);
}

TEST(StatsdSinkTest, LinesFollowTheStatsdProtocol) {
  sinks::StatsdOptions options;
  options.set_prefix("p.");
  StatsdSink sink(options);
  EXPECT_THAT(LinesOf(sink, Metric("counter", "orders", "3", 0.1)),
              ElementsAre("p.orders:3|c|@0.1"));
  EXPECT_THAT(LinesOf(sink, Metric("timer", "db", "12.5")),
              ElementsAre("p.db:12.5|ms"));
  EXPECT_THAT(LinesOf(sink, Metric("gauge", "depth", "-4")),
              ElementsAre("p.depth:0|g", "p.depth:-4|g"));
  EXPECT_THAT(LinesOf(sink, GaugeDelta("depth", "4")),
              ElementsAre("p.depth:+4|g"));
  EXPECT_THAT(LinesOf(sink, GaugeDelta("depth", "-4")),
              ElementsAre("p.depth:-4|g"));
  // statsd adds deltas up: each must keep every digit, and -0 is no change.
  EXPECT_THAT(LinesOf(sink, GaugeDelta("bytes", "1234567")),
              ElementsAre("p.bytes:+1234567|g"));
  EXPECT_THAT(LinesOf(sink, GaugeDelta("bytes", "-0")),
              ElementsAre("p.bytes:+0|g"));
  EXPECT_THAT(LinesOf(sink, Metric("counter", "bytes", "12345678")),
              ElementsAre("p.bytes:12345678|c"));
  EXPECT_THAT(LinesOf(sink, Metric("histogram", "size", "-0.5", 0.5)),
              ElementsAre("p.size:-0.5|ms|@0.5"));
  EXPECT_THAT(LinesOf(sink, Metric("set", "users", "u-17")),
              ElementsAre("p.users:u-17|s"));
  EXPECT_THAT(LinesOf(sink, Metric("set", "users", "a:b|c\nd")),
              ElementsAre("p.users:a_b_c_d|s"));
  EXPECT_THAT(LinesOf(sink, Metric("counter", "a:b|c", "1")),
              ElementsAre("p.a_b_c:1|c"));
  v1::Message log;
  log.set_type("log");
  EXPECT_TRUE(LinesOf(sink, log).empty());
}

TEST(StatsdSinkTest, ALineOverTheUdpLimitIsLeftOutAndCounted) {
  // A UDP socket of our own as the statsd peer, to see what arrives.
  const int peer = socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(peer, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(peer, reinterpret_cast<sockaddr*>(&address), sizeof(address)),
            0);
  socklen_t length = sizeof(address);
  getsockname(peer, reinterpret_cast<sockaddr*>(&address), &length);
  sinks::StatsdOptions options;
  options.set_address(absl::StrCat("127.0.0.1:", ntohs(address.sin_port)));
  StatsdSink sink(options);
  ASSERT_TRUE(sink.Start().ok());
  // Sent, it would fail with EMSGSIZE, which no retry cures: the batch
  // would stall the sink and then be dropped whole.
  const absl::Status status =
      sink.Write(MessageBatch({Metric("counter", std::string(70000, 'x'), "1"),
                               Metric("counter", "fits", "1")})
                     .views(),
                 absl::InfiniteFuture());
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(sink.TakeUnusable(), 1u);
  const timeval give_up{10, 0};  // should nothing arrive
  setsockopt(peer, SOL_SOCKET, SO_RCVTIMEO, &give_up, sizeof(give_up));
  char received[100] = {};
  const ssize_t n = recv(peer, received, sizeof(received), 0);
  close(peer);
  EXPECT_EQ(std::string(received, std::max<ssize_t>(n, 0)), "fits:1|c");
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

  std::vector<v1::Message> batch = {Metric("counter", "orders", "2"),
                                    Metric("counter", "orders", "3"),
                                    Metric("counter", "sampled", "1", 0.5),
                                    Metric("timer", "db", "12.5"),
                                    Metric("timer", "db", "7"),
                                    Metric("gauge", "depth", "17")};
  v1::Message log;
  log.set_type("log");
  batch.push_back(log);
  ASSERT_TRUE(
      sink.Write(MessageBatch(batch).views(), absl::InfiniteFuture()).ok());
  EXPECT_EQ(sink.TakeUnusable(), 1u);
  EXPECT_EQ(sink.TakeUnusable(), 0u);

  EXPECT_EQ(statsd->ValueOf("counters", "shop.orders"), "5");
  EXPECT_EQ(statsd->ValueOf("counters", "shop.sampled"), "2");  // 1 / 0.5
  EXPECT_EQ(statsd->ValueOf("timers", "shop.db"), "[ 12.5, 7 ]");
  EXPECT_EQ(statsd->ValueOf("gauges", "shop.depth"), "17");
  EXPECT_EQ(statsd->ValueOf("counters", "statsd.bad_lines_seen"), "0");
}

TEST(StatsdSinkTest, EtsyStatsdAppliesGaugeDeltasAndTakesSetsAndHistograms) {
  auto statsd = EtsyStatsd::Start();
  ASSERT_TRUE(statsd.ok()) << statsd.status();
  sinks::StatsdOptions options;
  options.set_address(absl::StrCat("127.0.0.1:", statsd->port()));
  // Dotted names: statsd's management port quotes only those.
  options.set_name_template("{logger}.{name}");
  options.set_max_datagram_bytes(20);  // one line per datagram
  StatsdSink sink(options);
  ASSERT_TRUE(sink.Start().ok());
  // statsd handles one socket's datagrams in order: once "done" shows, the
  // lines before it have been applied.
  ASSERT_TRUE(
      sink.Write(
              MessageBatch(
                  {GaugeDelta("depth", "5"), GaugeDelta("depth", "2"),
                   Metric("gauge", "depth", "10"), GaugeDelta("depth", "-3"),
                   Metric("gauge", "low", "-4"), GaugeDelta("low", "-1"),
                   Metric("set", "users", "u-1"), Metric("set", "users", "u:2"),
                   Metric("histogram", "size", "3"),
                   Metric("histogram", "size", "0.5"),
                   Metric("counter", "done", "1")})
                  .views(),
              absl::InfiniteFuture())
          .ok());
  EXPECT_EQ(sink.TakeUnusable(), 0u);
  ASSERT_EQ(statsd->ValueOf("counters", "shop.done"), "1");
  EXPECT_EQ(statsd->ValueOf("gauges", "shop.depth"), "7");  // 5 + 2, 10, - 3
  EXPECT_EQ(statsd->ValueOf("gauges", "shop.low"), "-5");
  EXPECT_EQ(statsd->ValueOf("timers", "shop.size"), "[ 3, 0.5 ]");
  // The management port lists no sets: that statsd took the set lines shows
  // as no bad line.
  EXPECT_EQ(statsd->ValueOf("counters", "statsd.bad_lines_seen"), "0");
}

}  // namespace
}  // namespace metlog
