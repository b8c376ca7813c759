#include "sinks/metric.h"

#include "client/field.h"
#include "gtest/gtest.h"

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

TEST(MetricTest, ReadsEachKind) {
  v1::Message counter = Metric("counter", "3");
  *counter.add_fields() = MakeField("rate", 0.25);
  auto metric = ReadMetric(counter);
  ASSERT_TRUE(metric.has_value());
  EXPECT_EQ(metric->kind, Metric::Kind::kCounter);
  EXPECT_EQ(metric->name, "orders");
  EXPECT_EQ(metric->value, 3);
  EXPECT_EQ(metric->rate, 0.25);
  EXPECT_EQ(ReadMetric(Metric("timer", "12.5"))->kind, Metric::Kind::kTimer);
  EXPECT_EQ(ReadMetric(Metric("gauge", "-4"))->value, -4);
}

TEST(MetricTest, RefusesWhatIsNoMetric) {
  EXPECT_FALSE(ReadMetric(Metric("log", "3")).has_value());
  EXPECT_FALSE(ReadMetric(Metric("counter", "three")).has_value());
  EXPECT_FALSE(ReadMetric(Metric("counter", "nan")).has_value());
  v1::Message nameless = Metric("counter", "1");
  nameless.clear_fields();
  EXPECT_FALSE(ReadMetric(nameless).has_value());
}

TEST(MetricTest, RateOutsideZeroToOneIsIgnored) {
  v1::Message m = Metric("counter", "1");
  *m.add_fields() = MakeField("rate", 7.0);
  EXPECT_EQ(ReadMetric(m)->rate, 1.0);
}

TEST(MetricTest, RendersNameTemplates) {
  v1::Message m = Metric("counter", "1");
  *m.add_fields() = MakeField("region", "eu");
  *m.add_fields() = MakeField("shard", 7);
  EXPECT_EQ(*RenderName("{logger}.{name}", m), "shop.orders");
  EXPECT_EQ(*RenderName("{hostname}.{type}.{fields.region}.{fields.shard}", m),
            "web-1.counter.eu.7");
  EXPECT_EQ(*RenderName("static", m), "static");
  EXPECT_EQ(*RenderName("{fields.missing}x", m), "x");
  m.clear_fields();
  EXPECT_FALSE(RenderName("{name}", m).has_value());
}

}  // namespace
}  // namespace metlog
