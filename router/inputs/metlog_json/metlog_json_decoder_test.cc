#include "router/inputs/metlog_json/metlog_json_decoder.h"

#include <string>

#include "gtest/gtest.h"

namespace metlog {
namespace {

uint64_t Rejected(const DecodeResult& result, RejectReason reason) {
  return result.rejected[static_cast<int>(reason)];
}

const v1::Field* FieldNamed(const v1::Message& m, const std::string& name) {
  for (const v1::Field& field : m.fields()) {
    if (field.name() == name) return &field;
  }
  return nullptr;
}

// As metlog-py's client.timer_send() builds it and json.dumps() writes it.
constexpr char kTimer[] = R"({"severity": 6, "timestamp":
    "2012-03-14T20:20:11.123456", "metlog_hostname": "web1",
    "fields": {"name": "db.query", "rate": 1, "tags": ["a", "b"],
               "retries": 3, "ratio": 0.25, "cached": false,
               "extra": {"k": [1, 2]}, "mixed": [1, "x"], "none": null,
               "empty": []},
    "logger": "shop", "type": "timer", "payload": "120",
    "env_version": "0.8", "metlog_pid": 1234, "ignored": "key"})";

TEST(MetlogJsonDecoderTest, EveryEnvelopeKeyIsMapped) {
  MetlogJsonDecoder decoder{v1::LimitsConfig()};
  DecodeResult result = decoder.Decode(kTimer);
  ASSERT_EQ(result.accepted(), 1u) << result.first_error;
  const v1::Message& m = result.packet->Parsed(0);
  EXPECT_EQ(m.type(), "timer");
  EXPECT_EQ(m.logger(), "shop");
  EXPECT_EQ(m.severity(), 6);
  EXPECT_EQ(m.payload(), "120");
  EXPECT_EQ(m.env_version(), "0.8");
  EXPECT_EQ(m.pid(), 1234);
  EXPECT_EQ(m.hostname(), "web1");
  EXPECT_EQ(m.timestamp(), 1331756411123456000);
  EXPECT_EQ(m.uuid().size(), 16u);  // filled by the router

  const v1::Field* name = FieldNamed(m, "name");
  ASSERT_NE(name, nullptr);
  EXPECT_EQ(name->value_type(), v1::Field::STRING);
  EXPECT_EQ(name->value_string(0), "db.query");
  EXPECT_EQ(FieldNamed(m, "rate")->value_type(), v1::Field::DOUBLE);
  EXPECT_EQ(FieldNamed(m, "rate")->value_double(0), 1.0);
  EXPECT_EQ(FieldNamed(m, "tags")->value_string_size(), 2);
  EXPECT_EQ(FieldNamed(m, "tags")->value_string(1), "b");
  EXPECT_EQ(FieldNamed(m, "retries")->value_type(), v1::Field::INTEGER);
  EXPECT_EQ(FieldNamed(m, "retries")->value_integer(0), 3);
  EXPECT_EQ(FieldNamed(m, "ratio")->value_type(), v1::Field::DOUBLE);
  EXPECT_EQ(FieldNamed(m, "ratio")->value_double(0), 0.25);
  EXPECT_EQ(FieldNamed(m, "cached")->value_type(), v1::Field::BOOL);
  EXPECT_FALSE(FieldNamed(m, "cached")->value_bool(0));
  EXPECT_EQ(FieldNamed(m, "extra")->value_string(0), R"({"k":[1,2]})");
  EXPECT_EQ(FieldNamed(m, "mixed")->value_type(), v1::Field::STRING);
  EXPECT_EQ(FieldNamed(m, "mixed")->value_string(0), "1");
  EXPECT_EQ(FieldNamed(m, "mixed")->value_string(1), "x");
  EXPECT_EQ(FieldNamed(m, "none"), nullptr);
  EXPECT_EQ(FieldNamed(m, "empty")->value_string_size(), 0);
}

TEST(MetlogJsonDecoderTest, TimestampsInEveryFormTheClientsWrite) {
  const std::pair<const char*, int64_t> cases[] = {
      {R"({"timestamp": "2012-03-14T20:20:11"})", 1331756411000000000},
      {R"({"timestamp": "2012-03-14T21:20:11.5+01:00"})", 1331756411500000000},
      {R"({"timestamp": 1331756411.25})", 1331756411250000000},
  };
  for (const auto& [json, nanos] : cases) {
    absl::StatusOr<v1::Message> m = MetlogJsonToMessage(json);
    ASSERT_TRUE(m.ok()) << json;
    EXPECT_EQ(m->timestamp(), nanos) << json;
  }
  // Unreadable: left out, so the router stamps the arrival time.
  absl::StatusOr<v1::Message> m =
      MetlogJsonToMessage(R"({"timestamp": "yesterday"})");
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(m->has_timestamp());
}

TEST(MetlogJsonDecoderTest, WhatIsNoEnvelopeIsCountedAndRefused) {
  MetlogJsonDecoder decoder{v1::LimitsConfig()};
  for (const char* bad :
       {"", "not json", "[1, 2]", R"({"type": )", R"({"type": "x"} trailing)",
        "{\"type\": \"\xff\"}"}) {  // not UTF-8
    DecodeResult result = decoder.Decode(bad);
    EXPECT_EQ(result.accepted(), 0u) << bad;
    EXPECT_EQ(Rejected(result, RejectReason::kMalformedPacket), 1u) << bad;
    EXPECT_FALSE(result.first_error.empty());
  }
  DecodeResult invalid = decoder.Decode(R"({"severity": 99})");
  EXPECT_EQ(Rejected(invalid, RejectReason::kInvalidMessage), 1u);
  // Deep nesting is parsed without recursion, then refused: writing it
  // back as a field's text would recurse.
  const std::string deep = R"({"fields": {"x": )" + std::string(30000, '[') +
                           std::string(30000, ']') + "}}";
  EXPECT_EQ(Rejected(decoder.Decode(deep), RejectReason::kMalformedPacket), 1u);
  const std::string nested = R"({"fields": {"x": )" + std::string(60, '[') +
                             std::string(60, ']') + "}}";
  EXPECT_EQ(decoder.Decode(nested).accepted(), 1u);
}

TEST(MetlogJsonDecoderTest, LengthsAreBounded) {
  v1::LimitsConfig limits;
  limits.set_max_packet_bytes(1000);
  limits.set_max_message_bytes(100);
  MetlogJsonDecoder decoder(limits);
  EXPECT_EQ(Rejected(decoder.Decode(std::string(1001, ' ')),
                     RejectReason::kOversizedPacket),
            1u);
  EXPECT_EQ(Rejected(decoder.Decode(R"({"payload": ")" + std::string(200, 'x') +
                                    R"("})"),
                     RejectReason::kOversizedMessage),
            1u);
}

}  // namespace
}  // namespace metlog
