#include "router/inputs/statsd/statsd_decoder.h"

#include <cmath>
#include <string>

#include "absl/strings/numbers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "proto/metlog.pb.h"
#include "router/inputs/statsd/statsd_line.h"

namespace metlog {
namespace {

using ::testing::HasSubstr;

const v1::Field* FieldNamed(const v1::Message& m, const std::string& name) {
  for (const v1::Field& field : m.fields()) {
    if (field.name() == name) return &field;
  }
  return nullptr;
}

uint64_t Rejected(const DecodeResult& result, RejectReason reason) {
  return result.rejected[static_cast<int>(reason)];
}

TEST(StatsdDecoderTest, EachKindOfLineBecomesItsMetricMessage) {
  StatsdDecoder decoder{v1::LimitsConfig()};
  DecodeResult result = decoder.Decode(
      "hits:1|c|@0.1\n"
      "db.query:320.5|ms\n"
      "size:7|h\n"
      "depth:10|g\n"
      "depth:-3|g\n"
      "depth:+4|g\n"
      "users:alice|s\n"
      "tagged:2|c|@0.5|#env:prod,canary\n");
  ASSERT_EQ(result.rejected_total(), 0u) << result.first_error;
  ASSERT_EQ(result.accepted(), 8u);
  const SharedPacket& packet = *result.packet;

  const v1::Message& counter = packet.Parsed(0);
  EXPECT_EQ(counter.type(), "counter");
  EXPECT_EQ(counter.payload(), "1");
  EXPECT_EQ(counter.logger(), "statsd");
  EXPECT_EQ(counter.severity(), 6);
  EXPECT_EQ(counter.uuid().size(), 16u);
  EXPECT_GT(counter.timestamp(), 0);
  EXPECT_EQ(FieldNamed(counter, "name")->value_string(0), "hits");
  EXPECT_EQ(FieldNamed(counter, "rate")->value_type(), v1::Field::DOUBLE);
  EXPECT_EQ(FieldNamed(counter, "rate")->value_double(0), 0.1);

  const v1::Message& timer = packet.Parsed(1);
  EXPECT_EQ(timer.type(), "timer");
  EXPECT_EQ(timer.payload(), "320.5");
  EXPECT_EQ(FieldNamed(timer, "name")->value_string(0), "db.query");
  EXPECT_EQ(FieldNamed(timer, "rate")->value_double(0), 1.0);

  EXPECT_EQ(packet.Parsed(2).type(), "timer");  // h is a timer
  EXPECT_EQ(packet.Parsed(2).payload(), "7");

  const v1::Message& gauge = packet.Parsed(3);
  EXPECT_EQ(gauge.type(), "gauge");
  EXPECT_EQ(gauge.payload(), "10");
  EXPECT_EQ(FieldNamed(gauge, "rate"), nullptr);
  EXPECT_EQ(FieldNamed(gauge, "delta"), nullptr);
  EXPECT_EQ(packet.Parsed(4).payload(), "-3");
  EXPECT_TRUE(FieldNamed(packet.Parsed(4), "delta")->value_bool(0));
  EXPECT_EQ(packet.Parsed(5).payload(), "4");
  EXPECT_TRUE(FieldNamed(packet.Parsed(5), "delta")->value_bool(0));

  EXPECT_EQ(packet.Parsed(6).type(), "set");
  EXPECT_EQ(packet.Parsed(6).payload(), "alice");

  const v1::Message& tagged = packet.Parsed(7);
  EXPECT_EQ(FieldNamed(tagged, "rate")->value_double(0), 0.5);
  EXPECT_EQ(FieldNamed(tagged, "env")->value_string(0), "prod");
  EXPECT_EQ(FieldNamed(tagged, "canary")->value_string(0), "");
}

TEST(StatsdDecoderTest, SeveralValuesForOneName) {
  StatsdDecoder decoder{v1::LimitsConfig()};
  DecodeResult result = decoder.Decode("multi:1|c:250|ms\nbare");
  ASSERT_EQ(result.accepted(), 2u);
  EXPECT_EQ(Rejected(result, RejectReason::kMalformedLine), 1u);  // bare
  EXPECT_EQ(result.packet->Parsed(0).type(), "counter");
  EXPECT_EQ(result.packet->Parsed(1).type(), "timer");
  EXPECT_EQ(result.packet->Parsed(1).payload(), "250");
  EXPECT_EQ(FieldNamed(result.packet->Parsed(1), "name")->value_string(0),
            "multi");
}

TEST(StatsdDecoderTest, BadLinesAreCountedAndTheRestIsKept) {
  StatsdDecoder decoder{v1::LimitsConfig()};
  DecodeResult result = decoder.Decode(
      "good.one:1|c\n"
      ":1|c\n"             // no name
      "x:1|q\n"            // unknown type
      "x:abc|c\n"          // not a number
      "x:1|c|@2\n"         // rate above 1
      "x:1|c|@0\n"         // rate 0
      "x:-5|ms\n"          // negative timer
      "x:1\n"              // no type
      "x:1|c|junk\n"       // unknown section
      "x:1|c|#a:b|@0.5\n"  // section after the tags
      "x:nan|g\n"          // not finite
      "x:|s\n"             // empty set member
      "good.two:2|g\n");
  EXPECT_EQ(result.accepted(), 2u);
  EXPECT_EQ(Rejected(result, RejectReason::kMalformedLine), 11u);
  EXPECT_THAT(result.first_error, HasSubstr("no metric name"));
  EXPECT_EQ(result.packet->Parsed(0).payload(), "1");
  EXPECT_EQ(result.packet->Parsed(1).payload(), "2");
}

TEST(StatsdDecoderTest, ANumberIsWhatSimpleAtodReadsAsFinite) {
  // Plain decimals are checked without SimpleAtod: both ways must agree.
  const std::string values[] = {
      "1",
      "320.5",
      "007",
      "1.",
      ".5",
      "1e3",
      " 1",
      "1 ",
      "1.2.3",
      "-",
      "-0",
      "-1.5",
      "0x10",
      "inf",
      "nan",
      "1..2",
      "1.e5",
      "1,5",
      "٣",
      "+1",
      std::string(30, '9'),
      std::string(31, '9'),
      std::string(400, '9'),
      std::string(200, '9') + "." + std::string(200, '9')};
  StatsdDecoder decoder{v1::LimitsConfig()};
  for (const std::string& value : values) {
    double number = 0;
    const bool expected = value[0] != '+' && absl::SimpleAtod(value, &number) &&
                          std::isfinite(number);
    EXPECT_EQ(decoder.Decode("x:" + value + "|c").accepted(),
              expected ? 1u : 0u)
        << "\"" << value << "\"";
  }
}

TEST(StatsdDecoderTest, LengthsAreBounded) {
  v1::LimitsConfig limits;
  limits.set_max_message_bytes(200);
  limits.set_max_packet_bytes(4096);
  StatsdDecoder decoder(limits);
  EXPECT_EQ(Rejected(decoder.Decode(std::string(5000, 'a')),
                     RejectReason::kOversizedPacket),
            1u);
  DecodeResult long_name = decoder.Decode(
      std::string(kMaxStatsdNameBytes + 1, 'n') + ":1|c\nok:1|c");
  EXPECT_EQ(Rejected(long_name, RejectReason::kMalformedLine), 1u);
  EXPECT_EQ(long_name.accepted(), 1u);
  DecodeResult big = decoder.Decode(std::string(300, 'n') + ":1|c\nok:1|c");
  EXPECT_EQ(Rejected(big, RejectReason::kOversizedMessage), 1u);
  EXPECT_EQ(big.accepted(), 1u);
  std::string many_tags = "t:1|c|#";
  for (size_t i = 0; i <= kMaxStatsdTags; ++i) many_tags += "k,";
  EXPECT_EQ(Rejected(decoder.Decode(many_tags), RejectReason::kMalformedLine),
            1u);
}

}  // namespace
}  // namespace metlog
