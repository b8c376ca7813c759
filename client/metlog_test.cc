// The client API, call by call, observed through a CaptureSender.
#include "client/metlog.h"

#include <unistd.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <thread>

#include "absl/base/attributes.h"
#include "absl/base/optimization.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "client/immediate_senders.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace metlog {
namespace {

using ::testing::DoubleNear;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

struct CapturingClient {
  explicit CapturingClient(MessageFilter filter = MessageFilter(),
                           size_t limit = 100000) {
    auto sender = std::make_unique<CaptureSender>(limit);
    capture = sender.get();
    client = std::make_unique<Client>(std::move(sender), "shop", kInfo,
                                      std::move(filter));
  }
  std::vector<v1::Message> Messages() const { return capture->Messages(); }

  CaptureSender* capture;
  std::unique_ptr<Client> client;
};

const v1::Field* FindField(const v1::Message& m, absl::string_view name) {
  for (const v1::Field& f : m.fields()) {
    if (f.name() == name) return &f;
  }
  return nullptr;
}

TEST(ClientTest, IncrStampsTheEnvelopeAndMetricConventions) {
  CapturingClient c;
  const int64_t before = absl::GetCurrentTimeNanos();
  c.client->Incr("orders");
  c.client->Incr("orders", 5, 0.999999999);
  const auto messages = c.Messages();
  ASSERT_GE(messages.size(), 1u);
  const v1::Message& m = messages[0];
  EXPECT_EQ(m.type(), "counter");
  EXPECT_EQ(m.payload(), "1");
  EXPECT_EQ(m.logger(), "shop");
  EXPECT_EQ(m.severity(), kInfo);
  EXPECT_EQ(m.env_version(), "1.0");
  EXPECT_EQ(m.pid(), getpid());
  EXPECT_FALSE(m.hostname().empty());
  ASSERT_EQ(m.uuid().size(), 16u);
  EXPECT_EQ(static_cast<uint8_t>(m.uuid()[6]) >> 4, 4);
  EXPECT_GE(m.timestamp(), before);
  EXPECT_LE(m.timestamp(), absl::GetCurrentTimeNanos());
  ASSERT_NE(FindField(m, "name"), nullptr);
  EXPECT_EQ(FindField(m, "name")->value_string(0), "orders");
  ASSERT_NE(FindField(m, "rate"), nullptr);
  EXPECT_EQ(FindField(m, "rate")->value_type(), v1::Field::DOUBLE);
  EXPECT_EQ(FindField(m, "rate")->value_double(0), 1.0);
  EXPECT_NE(messages.size() > 1 ? messages[1].uuid() : "", m.uuid());
}

TEST(ClientTest, TimerAndGaugeFollowTheConventions) {
  CapturingClient c;
  c.client->TimerSend("db.query", 12.5, 0.5 + 0.5);
  c.client->Gauge("queue.depth", 17);
  const auto messages = c.Messages();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].type(), "timer");
  EXPECT_EQ(messages[0].payload(), "12.5");
  EXPECT_EQ(FindField(messages[0], "name")->value_string(0), "db.query");
  EXPECT_EQ(messages[1].type(), "gauge");
  EXPECT_EQ(messages[1].payload(), "17");
  EXPECT_EQ(FindField(messages[1], "rate"), nullptr);
}

TEST(ClientTest, HistogramAndSetFollowTheConventions) {
  CapturingClient c;
  c.client->Histogram("payload.bytes", 512.5);
  c.client->Histogram("ratio", -0.25, 0.999999999);
  c.client->Set("users", "alice");
  const auto messages = c.Messages();
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[0].type(), "histogram");
  EXPECT_EQ(messages[0].payload(), "512.5");
  EXPECT_EQ(messages[0].logger(), "shop");
  EXPECT_EQ(messages[0].severity(), kInfo);
  EXPECT_EQ(FindField(messages[0], "name")->value_string(0), "payload.bytes");
  EXPECT_EQ(FindField(messages[0], "rate")->value_double(0), 1.0);
  EXPECT_EQ(messages[1].payload(), "-0.25");
  EXPECT_EQ(FindField(messages[1], "rate")->value_double(0), 0.999999999);
  const v1::Message& set = messages[2];
  EXPECT_EQ(set.type(), "set");
  EXPECT_EQ(set.payload(), "alice");
  EXPECT_EQ(set.logger(), "shop");
  EXPECT_EQ(set.severity(), kInfo);
  EXPECT_EQ(set.pid(), getpid());
  EXPECT_EQ(set.uuid().size(), 16u);
  EXPECT_GT(set.timestamp(), 0);
  EXPECT_EQ(FindField(set, "name")->value_string(0), "users");
  EXPECT_EQ(FindField(set, "rate"), nullptr);
}

TEST(ClientTest, HistogramAndSetTakeFieldsAndOverrides) {
  v1::FilterConfig config;
  config.set_max_severity(kWarning);
  CapturingClient c{MessageFilter(config)};
  c.client->Histogram("size", 3, {{"table", "users"}, {"name", "ignored"}},
                      {1.0, kError, "db-layer"});
  c.client->Set("users", "bob", {{"region", "eu"}, {"rate", "ignored"}},
                {0.0, kWarning, "edge"});
  c.client->Set("filtered: info", "carol", {{"region", "eu"}});
  c.client->Histogram("filtered: info", 1, {{"k", "v"}});
  const auto messages = c.Messages();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].type(), "histogram");
  EXPECT_EQ(messages[0].logger(), "db-layer");
  EXPECT_EQ(messages[0].severity(), kError);
  EXPECT_EQ(FindField(messages[0], "table")->value_string(0), "users");
  EXPECT_EQ(FindField(messages[0], "name")->value_string(0), "size");
  const v1::Message& set = messages[1];
  EXPECT_EQ(set.type(), "set");
  EXPECT_EQ(set.payload(), "bob");
  EXPECT_EQ(set.logger(), "edge");
  EXPECT_EQ(set.severity(), kWarning);
  EXPECT_EQ(FindField(set, "region")->value_string(0), "eu");
  int names = 0, rates = 0;
  for (const v1::Field& f : set.fields()) {
    names += f.name() == "name";
    rates += f.name() == "rate";
  }
  EXPECT_EQ(names, 1);
  EXPECT_EQ(rates, 0);
  EXPECT_EQ(c.client->Stats().filtered, 2u);
}

TEST(ClientTest, MetlogCarriesTypedFieldsAndOverrides) {
  CapturingClient c;
  c.client->Metlog("audit", "signed in",
                   {MakeField("user", 7), MakeField("who", "ann"),
                    MakeField("ratio", 0.25, "%"), MakeField("ok", true),
                    MakeField("raw", Bytes{std::string("\x00\x01", 2)}),
                    MakeField("ids", std::vector<int64_t>{1, 2, 3})},
                   kNotice, "auth");
  c.client->Metlog("plain", "defaults");
  const auto messages = c.Messages();
  ASSERT_EQ(messages.size(), 2u);
  const v1::Message& m = messages[0];
  EXPECT_EQ(m.type(), "audit");
  EXPECT_EQ(m.payload(), "signed in");
  EXPECT_EQ(m.severity(), kNotice);
  EXPECT_EQ(m.logger(), "auth");
  EXPECT_EQ(FindField(m, "user")->value_type(), v1::Field::INTEGER);
  EXPECT_EQ(FindField(m, "user")->value_integer(0), 7);
  EXPECT_EQ(FindField(m, "who")->value_string(0), "ann");
  EXPECT_EQ(FindField(m, "ratio")->value_double(0), 0.25);
  EXPECT_EQ(FindField(m, "ratio")->representation(), "%");
  EXPECT_TRUE(FindField(m, "ok")->value_bool(0));
  EXPECT_EQ(FindField(m, "raw")->value_type(), v1::Field::BYTES);
  EXPECT_EQ(FindField(m, "raw")->value_bytes(0), std::string("\x00\x01", 2));
  EXPECT_EQ(FindField(m, "ids")->value_integer_size(), 3);
  EXPECT_EQ(messages[1].severity(), kInfo);
  EXPECT_EQ(messages[1].logger(), "shop");
}

TEST(ClientTest, SamplingSendsRoughlyTheRateAndCarriesIt) {
  CapturingClient c;
  constexpr int kCalls = 20000;
  for (int i = 0; i < kCalls; ++i) c.client->Incr("sampled", 1, 0.1);
  const auto messages = c.Messages();
  // Binomial(20000, 0.1): mean 2000, sd ~42; 6 sd either side.
  EXPECT_GT(messages.size(), 1750u);
  EXPECT_LT(messages.size(), 2250u);
  EXPECT_THAT(FindField(messages[0], "rate")->value_double(0),
              DoubleNear(0.1, 1e-12));
  const ClientStats stats = c.client->Stats();
  EXPECT_EQ(stats.sent + stats.sampled_out, static_cast<uint64_t>(kCalls));
}

TEST(ClientTest, RateZeroSendsNothingRateOneEverything) {
  CapturingClient c;
  for (int i = 0; i < 100; ++i) c.client->Incr("never", 1, 0.0);
  EXPECT_TRUE(c.Messages().empty());
  for (int i = 0; i < 100; ++i) c.client->Incr("always", 1, 1.0);
  EXPECT_EQ(c.Messages().size(), 100u);
}

TEST(ClientTest, SeverityAndTypeFilters) {
  v1::FilterConfig config;
  config.set_max_severity(kWarning);
  config.add_type_deny("noisy");
  CapturingClient c{MessageFilter(config)};
  c.client->Error("kept %d", 1);
  c.client->Info("dropped: info is above warning");
  c.client->Metlog("noisy", "denied", {}, kError);
  c.client->Metlog("other", "kept", {}, kCritical);
  const auto messages = c.Messages();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].payload(), "kept 1");
  EXPECT_EQ(messages[1].type(), "other");
  EXPECT_EQ(c.client->Stats().filtered, 2u);
}

TEST(ClientTest, TypeAllowList) {
  v1::FilterConfig config;
  config.add_type_allow("counter");
  CapturingClient c{MessageFilter(config)};
  c.client->Incr("a");
  c.client->TimerSend("b", 1);
  c.client->Metlog("log", "x");
  const auto messages = c.Messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].type(), "counter");
}

TEST(ClientTest, DisabledTimersByNameAndStar) {
  v1::FilterConfig by_name;
  by_name.add_disabled_timers("slow");
  CapturingClient named{MessageFilter(by_name)};
  named.client->TimerSend("slow", 1);
  { auto t = named.client->Timer("slow"); }
  named.client->TimerSend("fast", 1);
  ASSERT_EQ(named.Messages().size(), 1u);
  EXPECT_EQ(FindField(named.Messages()[0], "name")->value_string(0), "fast");

  v1::FilterConfig all;
  all.add_disabled_timers("*");
  CapturingClient star{MessageFilter(all)};
  star.client->TimerSend("any", 1);
  { auto t = star.client->Timer("other"); }
  star.client->Incr("counters still flow");
  ASSERT_EQ(star.Messages().size(), 1u);
  EXPECT_EQ(star.Messages()[0].type(), "counter");
}

TEST(ClientTest, ScopedTimerMeasuresAtLeastTheSleep) {
  CapturingClient c;
  {
    auto timer = c.client->Timer("nap");
    absl::SleepFor(absl::Milliseconds(20));
  }
  const int answer = c.client->Time("compute", [] {
    absl::SleepFor(absl::Milliseconds(5));
    return 42;
  });
  EXPECT_EQ(answer, 42);
  const auto messages = c.Messages();
  ASSERT_EQ(messages.size(), 2u);
  double nap_ms = 0, compute_ms = 0;
  ASSERT_TRUE(absl::SimpleAtod(messages[0].payload(), &nap_ms));
  ASSERT_TRUE(absl::SimpleAtod(messages[1].payload(), &compute_ms));
  EXPECT_GE(nap_ms, 20.0);
  EXPECT_GE(compute_ms, 5.0);
  EXPECT_EQ(FindField(messages[1], "name")->value_string(0), "compute");
}

TEST(ClientTest, MovedTimerSendsOnce) {
  CapturingClient c;
  {
    auto first = c.client->Timer("once");
    auto second = std::move(first);
  }
  EXPECT_EQ(c.Messages().size(), 1u);
}

TEST(ClientTest, LogLevelsFormatWithStrFormat) {
  CapturingClient c;
  c.client->Debug("d %s", "x");
  c.client->Info("i %d", 2);
  c.client->Warn("w %.1f", 1.25);
  c.client->Error("e");
  c.client->Critical("c %s=%d", "k", 9);
  const auto messages = c.Messages();
  ASSERT_EQ(messages.size(), 5u);
  EXPECT_EQ(messages[0].severity(), kDebug);
  EXPECT_EQ(messages[0].payload(), "d x");
  EXPECT_EQ(messages[1].severity(), kInfo);
  EXPECT_EQ(messages[2].payload(), "w 1.2");
  EXPECT_EQ(messages[2].severity(), kWarning);
  EXPECT_EQ(messages[3].severity(), kError);
  EXPECT_EQ(messages[4].severity(), kCritical);
  EXPECT_EQ(messages[4].payload(), "c k=9");
  for (const auto& m : messages) EXPECT_EQ(m.type(), "log");
}

TEST(ClientTest, ExceptionCarriesTypeAndWhat) {
  CapturingClient c;
  try {
    throw std::out_of_range("index 7 past the end");
  } catch (const std::exception& e) {
    c.client->Exception(e);
    c.client->Exception(e, "while reading the cart");
  }
  const auto messages = c.Messages();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].type(), "exception");
  EXPECT_EQ(messages[0].severity(), kAlert);
  EXPECT_EQ(messages[0].payload(), "index 7 past the end");
  EXPECT_EQ(FindField(messages[0], "exception_type")->value_string(0),
            "std::out_of_range");
  EXPECT_EQ(FindField(messages[0], "what")->value_string(0),
            "index 7 past the end");
  EXPECT_EQ(messages[1].payload(), "while reading the cart");
}

// Two named callers, kept out of line so that each has a frame of its own.
ABSL_ATTRIBUTE_NOINLINE void ReportFromCheckoutStep(Client& client) {
  client.Exception(std::runtime_error("card declined"));
  // Keeps the call above from being a tail call that would drop this frame.
  ABSL_BLOCK_TAIL_CALL_OPTIMIZATION();
}

ABSL_ATTRIBUTE_NOINLINE void RunCheckout(Client& client) {
  ReportFromCheckoutStep(client);
  ABSL_BLOCK_TAIL_CALL_OPTIMIZATION();
}

TEST(ClientTest, ExceptionStackNamesTheCallingFunctionsInnermostFirst) {
  CapturingClient c;
  RunCheckout(*c.client);
  const auto messages = c.Messages();
  ASSERT_EQ(messages.size(), 1u);
  const v1::Field* stack = FindField(messages[0], "stack");
  ASSERT_NE(stack, nullptr);
  ASSERT_EQ(stack->value_string_size(), 1);
  const std::vector<std::string> lines =
      absl::StrSplit(stack->value_string(0), '\n', absl::SkipEmpty());
  ASSERT_GE(lines.size(), 3u) << stack->value_string(0);
  // "#0 0x...  in metlog::(anonymous namespace)::ReportFromCheckoutStep(...)
  // (/path/to/metlog_test+0x...)": the caller of Exception comes first.
  EXPECT_THAT(lines[0], MatchesRegex(R"(#0 0x[0-9a-f]{16} in .*)"
                                     R"(ReportFromCheckoutStep.* \(.*)"
                                     R"(metlog_test\+0x[0-9a-f]+\))"));
  EXPECT_THAT(lines[1],
              MatchesRegex(R"(#1 0x[0-9a-f]{16} in .*RunCheckout.*)"));
  EXPECT_THAT(
      lines[2],
      MatchesRegex(
          R"(#2 .*ExceptionStackNamesTheCallingFunctionsInnermostFirst.*)"));
}

TEST(ClientTest, PluginsBuildMessagesThroughTheSamePath) {
  CapturingClient c;
  c.client->AddPlugin("rusage", [](v1::Message* m) {
    m->set_type("rusage");
    m->set_payload("sample");
    *m->add_fields() = MakeField("rss_kb", 1234);
  });
  EXPECT_TRUE(c.client->Call("rusage"));
  EXPECT_FALSE(c.client->Call("no such plugin"));
  const auto messages = c.Messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].type(), "rusage");
  EXPECT_EQ(messages[0].logger(), "shop");
  EXPECT_EQ(messages[0].uuid().size(), 16u);
  EXPECT_EQ(FindField(messages[0], "rss_kb")->value_integer(0), 1234);
}

TEST(ClientTest, ManyThreadsLoseNothingWhenThereIsRoom) {
  CapturingClient c{MessageFilter(), /*limit=*/100000};
  constexpr int kThreads = 8, kPerThread = 5000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&c, t] {
      for (int i = 0; i < kPerThread; ++i) {
        c.client->Incr(absl::StrCat("t", t));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(c.Messages().size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(c.client->Stats().dropped(), 0u);
}

TEST(ClientTest, SamplingRatesOutsideZeroToOneAreClampedAndNanRefused) {
  CapturingClient c;
  c.client->Incr("nan", 1, std::nan(""));
  c.client->TimerSend("nan", 1, std::nan(""));
  c.client->Incr("negative", 1, -0.5);
  c.client->Incr("above one", 1, 5.0);
  const auto messages = c.Messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(FindField(messages[0], "name")->value_string(0), "above one");
  EXPECT_EQ(FindField(messages[0], "rate")->value_double(0), 1.0);
  const ClientStats stats = c.client->Stats();
  EXPECT_EQ(stats.invalid, 2u);
  EXPECT_EQ(stats.sampled_out, 1u);
}

TEST(ClientTest, APluginMayCallTheClient) {
  CapturingClient c;
  Client& client = *c.client;
  client.AddPlugin("nested", [&client](v1::Message* m) {
    client.Incr("from.plugin");
    client.AddPlugin("added.from.plugin", [](v1::Message*) {});
    m->set_type("outer");
  });
  EXPECT_TRUE(client.Call("nested"));
  EXPECT_TRUE(client.Call("added.from.plugin"));
  const auto messages = c.Messages();
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[0].type(), "counter");
  EXPECT_EQ(messages[1].type(), "outer");
}

TEST(ClientTest, AClientWithoutASenderDropsCountsAndSaysWhy) {
  Client client(absl::StatusOr<std::unique_ptr<Sender>>(
                    absl::InvalidArgumentError("no endpoint")),
                "orphan");
  EXPECT_EQ(client.status().code(), absl::StatusCode::kInvalidArgument);
  client.Incr("lost");
  client.Warn("lost too");
  EXPECT_TRUE(client.Flush(absl::Seconds(1)));
  EXPECT_EQ(client.Stats().dropped_no_sender, 2u);
}

TEST(ClientTest, LogCallsWithoutArgumentsAreNeverFormatted) {
  CapturingClient c;
  const std::string user_text = "100% done, %s %d %n";
  c.client->Warn(user_text);
  c.client->Info("literal %d with no arguments");
  const auto messages = c.Messages();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].payload(), user_text);
  EXPECT_EQ(messages[1].payload(), "literal %d with no arguments");
  EXPECT_EQ(c.client->Stats().format_errors, 0u);
}

#ifndef __clang__
// Under clang a mismatched format does not compile (Abseil's checker); GCC
// can only check at run time, where the text must not be lost.
TEST(ClientTest, AFormatThatDoesNotMatchItsArgumentsKeepsTheText) {
  CapturingClient c;
  c.client->Warn("%d items", "seven");
  const auto messages = c.Messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].payload(), "%d items");
  EXPECT_EQ(c.client->Stats().format_errors, 1u);
}
#endif

TEST(ClientTest, EdgeValuesAreDecided) {
  auto sender = std::make_unique<CaptureSender>();
  CaptureSender* capture = sender.get();
  Client client(std::move(sender), "edge", /*severity=*/42);
  client.TimerSend("nan", std::nan(""));
  client.Gauge("inf", std::numeric_limits<double>::infinity());
  client.Gauge("neg-inf", -std::numeric_limits<double>::infinity());
  client.Incr("passes the default filter");
  client.Log(-3, "below range");
  client.Log(42, "above range");
  client.Metlog("custom", "x", {}, 99);
  client.TimerSend("negative is sent", -1.5);
  client.Histogram("nan", std::nan(""));
  client.Histogram("inf", std::numeric_limits<double>::infinity(),
                   {{"k", "v"}});
  client.Set("empty member", "");
  client.Set("unnamed tag", "x", {{"", "v"}});
  const auto messages = capture->Messages();
  ASSERT_EQ(messages.size(), 5u);
  EXPECT_EQ(messages[0].type(), "counter");
  EXPECT_EQ(messages[0].severity(), kDebug);
  EXPECT_EQ(messages[1].severity(), kEmergency);
  EXPECT_EQ(messages[2].severity(), kDebug);
  EXPECT_EQ(messages[3].severity(), kDebug);
  EXPECT_EQ(messages[4].payload(), "-1.5");
  EXPECT_EQ(client.Stats().invalid, 7u);
}

TEST(ClientTest, MetricsCarryTypedFieldsAndOverrides) {
  CapturingClient c;
  c.client->Incr("requests", 2,
                 {{"method", "GET"},
                  {"status", 200},
                  {"ratio", 0.5},
                  {"cached", true},
                  {"path", std::string("/cart")},
                  {"name", "ignored: the metric's own"}});
  c.client->TimerSend("db", 12.5, {{"table", "users"}},
                      {0.999999999, kNotice, "db-layer"});
  c.client->Gauge("depth", 3, {{"queue", "mail"}}, {0.0, kWarning, ""});
  const auto messages = c.Messages();
  ASSERT_EQ(messages.size(), 3u);
  const v1::Message& counter = messages[0];
  EXPECT_EQ(counter.payload(), "2");
  EXPECT_EQ(counter.logger(), "shop");
  EXPECT_EQ(counter.severity(), kInfo);
  EXPECT_EQ(FindField(counter, "name")->value_string(0), "requests");
  EXPECT_EQ(FindField(counter, "method")->value_string(0), "GET");
  EXPECT_EQ(FindField(counter, "status")->value_type(), v1::Field::INTEGER);
  EXPECT_EQ(FindField(counter, "status")->value_integer(0), 200);
  EXPECT_EQ(FindField(counter, "ratio")->value_double(0), 0.5);
  EXPECT_TRUE(FindField(counter, "cached")->value_bool(0));
  EXPECT_EQ(FindField(counter, "path")->value_string(0), "/cart");
  int names = 0;
  for (const v1::Field& f : counter.fields()) names += f.name() == "name";
  EXPECT_EQ(names, 1);
  EXPECT_EQ(messages[1].logger(), "db-layer");
  EXPECT_EQ(messages[1].severity(), kNotice);
  EXPECT_EQ(FindField(messages[1], "table")->value_string(0), "users");
  EXPECT_EQ(messages[2].severity(), kWarning);
  EXPECT_EQ(messages[2].logger(), "shop");
  EXPECT_EQ(FindField(messages[2], "queue")->value_string(0), "mail");
}

TEST(ClientTest, FieldOverridesAreFiltered) {
  v1::FilterConfig config;
  config.set_max_severity(kWarning);
  CapturingClient c{MessageFilter(config)};
  c.client->Incr("info: filtered", 1, {{"k", "v"}});
  c.client->Incr("error: kept", 1, {{"k", "v"}}, {1.0, kError, ""});
  const auto messages = c.Messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(FindField(messages[0], "name")->value_string(0), "error: kept");
  EXPECT_EQ(c.client->Stats().filtered, 1u);
}

TEST(ClientTest, ATimerMayOutliveItsClientAndCanBeCancelled) {
  CapturingClient c;
  {
    auto cancelled = c.client->Timer("cancelled");
    cancelled.Cancel();
    auto tagged = c.client->Timer("tagged", {{"route", "/x"}});
  }
  const auto messages = c.Messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(FindField(messages[0], "name")->value_string(0), "tagged");
  EXPECT_EQ(FindField(messages[0], "route")->value_string(0), "/x");

  auto orphan = std::make_unique<ScopedTimer>(c.client->Timer("orphan"));
  c.client.reset();
  orphan.reset();  // the client is gone: sends nothing, touches nothing
}

// What the router would refuse never leaves the client counted as sent.
TEST(ClientTest, WhatTheRouterWouldRefuseIsCountedInvalidOrRepaired) {
  CapturingClient c;
  c.client->Incr("hits", 1, {{"", "x"}});
  { auto timer = c.client->Timer("t", {{"", 1}}); }
  c.client->Metlog("audit", "x", {MakeField("", 1)});
  EXPECT_EQ(c.client->Stats().invalid, 3u);
  EXPECT_TRUE(c.Messages().empty());

  c.client->AddPlugin("bad", [](v1::Message* m) {
    m->set_type("order");
    m->set_uuid("order-42");
    m->set_severity(9);
  });
  ASSERT_TRUE(c.client->Call("bad"));
  const auto messages = c.Messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].uuid().size(), 16u);
  EXPECT_EQ(messages[0].severity(), 7);
}

}  // namespace
}  // namespace metlog
