// The router in process: creation failures, reloads (also with a sink stuck
// on a back end that is down), and its counters.
#include "router/router.h"

#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/text_proto.h"
#include "tools/testing/peer_process.h"

namespace metlog {
namespace {

using ::testing::HasSubstr;

// A config with sinks only: messages come from the test's Dispatch calls.
v1::RouterConfig Config(const std::string& text) {
  v1::RouterConfig config;
  const absl::Status status = ParseTextProto(
      absl::StrCat("stats_interval_ms: 0\n", text), "test", &config);
  EXPECT_TRUE(status.ok()) << status;
  return config;
}

std::string NullSink(const std::string& name, const std::string& match,
                     const std::string& queue = "") {
  return absl::StrCat(
      "sinks { name: \"", name, "\" match: '", match, "' queue { ", queue,
      " } options { "
      "[type.googleapis.com/metlog.sinks.NullOptions] {} } }\n");
}

PacketRef Packet(const std::vector<std::string>& types) {
  std::vector<v1::Message> messages;
  for (const std::string& type : types) {
    v1::Message message;
    message.set_type(type);
    message.set_payload("1");
    messages.push_back(message);
  }
  absl::StatusOr<PacketRef> packet = SharedPacket::FromMessages(messages);
  EXPECT_TRUE(packet.ok()) << packet.status();
  return *std::move(packet);
}

void Dispatch(Router& router, const std::vector<std::string>& types) {
  const PacketRef packet = Packet(types);
  router.Dispatch(absl::MakeConstSpan(&packet, 1));
}

const v1::SinkStats* SinkNamed(const v1::StatsResponse& stats,
                               const std::string& name,
                               v1::SinkStats::State state) {
  for (const v1::SinkStats& sink : stats.sinks()) {
    if (sink.name() == name && sink.state() == state) return &sink;
  }
  return nullptr;
}

// Waits (up to a minute) until `done` holds for the router's stats.
template <typename Predicate>
v1::StatsResponse AwaitStats(const Router& router, Predicate done) {
  const absl::Time give_up = absl::Now() + absl::Minutes(1);
  v1::StatsResponse stats = router.Stats();
  while (!done(stats) && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(5));
    stats = router.Stats();
  }
  return stats;
}

TEST(RouterTest, ACreationThatFailsOnALaterSinkReportsItAndCleansUp) {
  absl::StatusOr<std::unique_ptr<Router>> router = Router::Create(
      Config(NullSink("good", "TRUE") + NullSink("bad", "Type ==")));
  ASSERT_FALSE(router.ok());
  EXPECT_THAT(std::string(router.status().message()), HasSubstr("\"bad\""));
}

TEST(RouterTest, MessagesNoSinkMatchesAreCounted) {
  auto router = Router::Create(Config(NullSink("timers", "Type == \"timer\"") +
                                      NullSink("errors", "Severity <= 3")));
  ASSERT_TRUE(router.ok()) << router.status();
  (*router)->Start();
  Dispatch(**router, {"timer", "log", "timer", "counter"});
  const v1::StatsResponse stats = (*router)->Stats();
  EXPECT_EQ(stats.unmatched(), 2u);
  EXPECT_EQ(SinkNamed(stats, "timers", v1::SinkStats::ACTIVE)->received(), 2u);
  (*router)->Stop();
}

TEST(RouterTest, AChangedSinkKeepsItsCountsAcrossAReload) {
  const std::string before = NullSink("all", "TRUE");
  auto router = Router::Create(Config(before));
  ASSERT_TRUE(router.ok()) << router.status();
  (*router)->Start();
  Dispatch(**router, {"a", "b", "c"});
  ASSERT_TRUE(
      (*router)
          ->Reload(Config(NullSink("all", "TRUE", "flush_interval_ms: 7") +
                          NullSink("gone_soon", "TRUE")))
          .ok());
  Dispatch(**router, {"d", "e"});
  ASSERT_TRUE(
      (*router)
          ->Reload(Config(NullSink("all", "TRUE", "flush_interval_ms: 7")))
          .ok());
  // Once the retired instances have drained, their counts stay.
  const v1::StatsResponse stats =
      AwaitStats(**router, [](const v1::StatsResponse& s) {
        for (const auto& sink : s.sinks()) {
          if (sink.state() == v1::SinkStats::RETIRING) return false;
          if (sink.queued() + sink.in_flight() > 0) return false;
        }
        return true;
      });
  const v1::SinkStats* all = SinkNamed(stats, "all", v1::SinkStats::ACTIVE);
  ASSERT_NE(all, nullptr);
  EXPECT_EQ(all->received(), 5u);
  EXPECT_EQ(all->delivered(), 5u);
  const v1::SinkStats* gone =
      SinkNamed(stats, "gone_soon", v1::SinkStats::REMOVED);
  ASSERT_NE(gone, nullptr);
  EXPECT_EQ(gone->received(), 2u);
  EXPECT_EQ(gone->delivered(), 2u);
  (*router)->Stop();
}

TEST(RouterTest, AReloadIsRefusedOnceTheRouterStops) {
  const v1::RouterConfig config = Config(NullSink("all", "TRUE"));
  auto router = Router::Create(config);
  ASSERT_TRUE(router.ok()) << router.status();
  (*router)->Start();
  (*router)->Stop();
  const absl::Status status = (*router)->Reload(
      Config(NullSink("all", "TRUE", "flush_interval_ms: 7")));
  EXPECT_TRUE(absl::IsFailedPrecondition(status)) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("stopping"));
  // No sink was started again: nothing routes after Stop.
  Dispatch(**router, {"late"});
  EXPECT_EQ((*router)->Stats().sinks(0).delivered(), 0u);
}

TEST(RouterTest, AReloadDoesNotWedgeOnASinkStuckOnADownBackEnd) {
  // A BLOCK carbon sink whose carbon is down: an input blocks in Dispatch
  // on its full queue, holding the routing table.
  const std::string stuck = absl::StrCat(
      "shutdown_deadline_ms: 300\n"
      "sinks { name: \"carbon\" queue { capacity_messages: 5 overflow: BLOCK "
      "max_retry_duration_ms: 3600000 } options { "
      "[type.googleapis.com/metlog.sinks.CarbonOptions] { address: "
      "\"127.0.0.1:",
      testing::FreeTcpPort(), "\" } } }\n");
  auto router = Router::Create(Config(stuck));
  ASSERT_TRUE(router.ok()) << router.status();
  (*router)->Start();
  std::thread input([&router] {
    for (int i = 0; i < 20; ++i) Dispatch(**router, {"counter"});
  });
  AwaitStats(**router, [](const v1::StatsResponse& s) {
    return s.sinks(0).queued() == 5;
  });
  // The corrected config: the old instance is retired within the deadline,
  // and shown meanwhile with what it holds.
  ASSERT_TRUE((*router)
                  ->Reload(Config("shutdown_deadline_ms: 300\n" +
                                  NullSink("carbon", "TRUE")))
                  .ok());
  const v1::StatsResponse during = (*router)->Stats();
  const v1::SinkStats* retiring =
      SinkNamed(during, "carbon", v1::SinkStats::RETIRING);
  if (retiring != nullptr) {  // unless it already finished
    EXPECT_EQ(
        retiring->received(),
        retiring->delivered() + retiring->queued() + retiring->in_flight() +
            [&] {
              uint64_t dropped = 0;
              for (const auto& [reason, n] : retiring->dropped()) {
                dropped += n;
              }
              return dropped;
            }());
  }
  input.join();  // released by the retirement's deadline
  const v1::StatsResponse after =
      AwaitStats(**router, [](const v1::StatsResponse& s) {
        return s.sinks_size() == 1 && s.sinks(0).queued() == 0 &&
               s.sinks(0).in_flight() == 0;
      });
  ASSERT_EQ(after.sinks_size(), 1u);
  const v1::SinkStats& carbon = after.sinks(0);
  EXPECT_EQ(carbon.state(), v1::SinkStats::ACTIVE);
  // Every message is accounted for: delivered by the new instance or
  // dropped by the old one at its deadline.
  uint64_t dropped = 0;
  for (const auto& [reason, n] : carbon.dropped()) dropped += n;
  EXPECT_EQ(carbon.received(), 20u) << after.DebugString();
  EXPECT_EQ(carbon.delivered() + dropped, 20u) << after.DebugString();
  EXPECT_GT(carbon.dropped().at("shutdown"), 0u);
  (*router)->Stop();
}

// Queues are charged a packet's parse only when some sink reads parsed
// messages: a default config's file and console sinks do not.
TEST(RouterTest, QueuesAreChargedTheParseOnlyWhenASinkReadsMessages) {
  const std::string stuck = absl::StrCat(
      "sinks { name: \"stuck\" queue { max_retry_duration_ms: 60000 } "
      "options { [type.googleapis.com/metlog.sinks.CarbonOptions] { "
      "address: \"127.0.0.1:",
      testing::FreeTcpPort(), "\" } } }\n");
  PacketRef sizing = Packet({"counter", "counter", "counter"});
  const uint64_t with_parse = sizing->footprint();
  sizing->ChargeNoParse();
  const uint64_t without_parse = sizing->footprint();
  ASSERT_LT(without_parse, with_parse);

  for (const bool reader : {false, true}) {
    auto router = Router::Create(Config(
        reader ? stuck + "sinks { name: \"reader\" options { "
                         "[type.googleapis.com/metlog.sinks.NullOptions] { "
                         "read_messages: true } } }\n"
               : stuck));
    ASSERT_TRUE(router.ok()) << router.status();
    (*router)->Start();
    Dispatch(**router, {"counter", "counter", "counter"});
    const v1::StatsResponse stats =
        AwaitStats(**router, [](const v1::StatsResponse& s) {
          const v1::SinkStats* sink =
              SinkNamed(s, "stuck", v1::SinkStats::ACTIVE);
          return sink != nullptr && sink->queued_bytes() > 0;
        });
    EXPECT_EQ(SinkNamed(stats, "stuck", v1::SinkStats::ACTIVE)->queued_bytes(),
              reader ? with_parse : without_parse)
        << (reader ? "with" : "without") << " a sink reading messages";
    (*router)->Stop();
  }
}

}  // namespace
}  // namespace metlog
