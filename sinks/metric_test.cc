#include "sinks/metric.h"

#include "client/envelope/field.h"
#include "gtest/gtest.h"
#include "sinks/message/message_batch.h"

namespace metlog {
namespace {

v1::Message Metric(const std::string& type, const std::string& payload) {
  v1::Message m;
  m.set_type(type);
  m.set_payload(payload);
  m.set_logger("shop");
  m.set_hostname("web-1");
  *m.add_fields() = MakeField("name", "orders");
  return m;
}

// The functions under test read a routed message's wire view.
std::optional<metlog::Metric> Read(const v1::Message& message) {
  return ReadMetric(MessageBatch({message})[0]);
}

std::optional<std::string> Render(absl::string_view name_template,
                                  const v1::Message& message) {
  return RenderName(name_template, MessageBatch({message})[0]);
}

TEST(MetricTest, ReadsEachKind) {
  v1::Message counter = Metric("counter", "3");
  *counter.add_fields() = MakeField("rate", 0.25);
  auto metric = Read(counter);
  ASSERT_TRUE(metric.has_value());
  EXPECT_EQ(metric->kind, Metric::Kind::kCounter);
  EXPECT_EQ(metric->name, "orders");
  EXPECT_EQ(metric->value, 3);
  EXPECT_EQ(metric->rate, 0.25);
  EXPECT_EQ(Read(Metric("timer", "12.5"))->kind, Metric::Kind::kTimer);
  EXPECT_EQ(Read(Metric("histogram", "-0.5"))->kind, Metric::Kind::kHistogram);
  EXPECT_EQ(Read(Metric("histogram", "-0.5"))->value, -0.5);
  EXPECT_EQ(Read(Metric("gauge", "-4"))->value, -4);
}

TEST(MetricTest, RefusesWhatIsNoMetric) {
  EXPECT_FALSE(Read(Metric("log", "3")).has_value());
  EXPECT_FALSE(Read(Metric("counter", "three")).has_value());
  EXPECT_FALSE(Read(Metric("counter", "nan")).has_value());
  v1::Message nameless = Metric("counter", "1");
  nameless.clear_fields();
  EXPECT_FALSE(Read(nameless).has_value());
}

TEST(MetricTest, AGaugeWithDeltaTrueIsAChange) {
  v1::Message delta = Metric("gauge", "-4");
  *delta.add_fields() = MakeField("delta", true);
  EXPECT_TRUE(Read(delta)->delta);
  EXPECT_EQ(Read(delta)->value, -4);
  v1::Message absolute = Metric("gauge", "-4");
  *absolute.add_fields() = MakeField("delta", false);
  EXPECT_FALSE(Read(absolute)->delta);
  EXPECT_FALSE(Read(Metric("gauge", "4"))->delta);
  // Only a gauge has deltas: a counter is always a change.
  v1::Message counter = Metric("counter", "4");
  *counter.add_fields() = MakeField("delta", true);
  EXPECT_FALSE(Read(counter)->delta);
}

TEST(MetricTest, ASetCarriesItsMemberAsText) {
  auto metric = Read(Metric("set", "user-17"));
  ASSERT_TRUE(metric.has_value());
  EXPECT_EQ(metric->kind, Metric::Kind::kSet);
  EXPECT_EQ(metric->name, "orders");
  EXPECT_EQ(metric->member, "user-17");
  EXPECT_FALSE(Read(Metric("set", "")).has_value());
}

TEST(MetricTest, RateOutsideZeroToOneIsIgnored) {
  v1::Message m = Metric("counter", "1");
  *m.add_fields() = MakeField("rate", 7.0);
  EXPECT_EQ(Read(m)->rate, 1.0);
}

TEST(MetricTest, RendersNameTemplates) {
  v1::Message m = Metric("counter", "1");
  *m.add_fields() = MakeField("region", "eu");
  *m.add_fields() = MakeField("shard", 7);
  EXPECT_EQ(*Render("{logger}.{name}", m), "shop.orders");
  EXPECT_EQ(*Render("{hostname}.{type}.{fields.region}.{fields.shard}", m),
            "web-1.counter.eu.7");
  EXPECT_EQ(*Render("static", m), "static");
  EXPECT_EQ(*Render("{fields.missing}x", m), "x");
  m.clear_fields();
  EXPECT_FALSE(Render("{name}", m).has_value());
}

TEST(MetricTest, NumbersAreWrittenWithEveryDigitTheyHave) {
  EXPECT_EQ(MetricNumber(1234567), "1234567");
  EXPECT_EQ(MetricNumber(1e6), "1000000");
  EXPECT_EQ(MetricNumber(-12.5), "-12.5");
  EXPECT_EQ(MetricNumber(0.1), "0.1");
  EXPECT_EQ(MetricNumber(123456789.125), "123456789.125");
  EXPECT_EQ(MetricNumber(1e21), "1e+21");
  EXPECT_EQ(MetricNumber(-0.0), "0");
}

}  // namespace
}  // namespace metlog
