#include "sinks/codecs/json_encoder.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "client/envelope/field.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"
#include "sinks/message/message_batch.h"

namespace metlog {
namespace {

using ::testing::HasSubstr;

// The documented rule, written independently of the encoder from RFC 3629's
// table: each byte that does not start a well-formed sequence becomes
// U+FFFD.
std::string RepairUtf8(absl::string_view text) {
  std::string out;
  size_t i = 0;
  auto byte = [&](size_t k) {
    return k < text.size() ? static_cast<unsigned char>(text[k]) : 0x100u;
  };
  while (i < text.size()) {
    const unsigned b0 = byte(i);
    size_t length = 0;
    if (b0 < 0x80) {
      length = 1;
    } else if (b0 >= 0xC2 && b0 <= 0xDF) {
      length = byte(i + 1) >= 0x80 && byte(i + 1) <= 0xBF ? 2 : 0;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      const unsigned lo = b0 == 0xE0 ? 0xA0 : 0x80;
      const unsigned hi = b0 == 0xED ? 0x9F : 0xBF;
      length = byte(i + 1) >= lo && byte(i + 1) <= hi && byte(i + 2) >= 0x80 &&
                       byte(i + 2) <= 0xBF
                   ? 3
                   : 0;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      const unsigned lo = b0 == 0xF0 ? 0x90 : 0x80;
      const unsigned hi = b0 == 0xF4 ? 0x8F : 0xBF;
      length = byte(i + 1) >= lo && byte(i + 1) <= hi && byte(i + 2) >= 0x80 &&
                       byte(i + 2) <= 0xBF && byte(i + 3) >= 0x80 &&
                       byte(i + 3) <= 0xBF
                   ? 4
                   : 0;
    }
    if (length == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(text.data() + i, length);
      i += length;
    }
  }
  return out;
}

std::string Encode(const v1::Message& message, JsonEncoder* encoder) {
  MessageBatch batch({message});
  std::string out;
  encoder->Append(batch[0], &out);
  return out;
}

rapidjson::Document Parse(const std::string& line) {
  rapidjson::Document document;
  document.Parse<rapidjson::kParseValidateEncodingFlag |
                 rapidjson::kParseFullPrecisionFlag>(line.c_str(), line.size());
  EXPECT_FALSE(document.HasParseError())
      << rapidjson::GetParseError_En(document.GetParseError()) << " at "
      << document.GetErrorOffset() << " in " << line;
  return document;
}

std::string Str(const rapidjson::Value& value) {
  return std::string(value.GetString(), value.GetStringLength());
}

std::string RandomString(absl::BitGen& random) {
  static const std::vector<std::string> kPieces = {"a",
                                                   "Z",
                                                   " ",
                                                   "\"",
                                                   "\\",
                                                   "\n",
                                                   "\t",
                                                   std::string(1, '\0'),
                                                   "\x01",
                                                   "é",
                                                   "€",
                                                   "😀",
                                                   "\xe9",
                                                   "\xff",
                                                   "\xfe",
                                                   "\xc3",
                                                   "\xed\xa0\x80",
                                                   "\xc0\xaf",
                                                   "\xf4\x90\x80\x80",
                                                   "\xe2\x82",
                                                   "/",
                                                   "</script>"};
  const int kind = absl::Uniform(random, 0, 10);
  if (kind == 0) return "";
  if (kind == 1) return std::string(absl::Uniform(random, 1000, 5000), 'x');
  std::string text;
  const int pieces = absl::Uniform(random, 1, 20);
  for (int i = 0; i < pieces; ++i) {
    text += kPieces[absl::Uniform<size_t>(random, 0, kPieces.size())];
  }
  return text;
}

double RandomDouble(absl::BitGen& random) {
  switch (absl::Uniform(random, 0, 8)) {
    case 0:
      return 0.1;
    case 1:
      return -0.0;
    case 2:
      return std::numeric_limits<double>::denorm_min();
    case 3:
      return std::numeric_limits<double>::max();
    case 4:
      return absl::Uniform(random, -1e6, 1e6);
    default: {
      const uint64_t bits = absl::Uniform<uint64_t>(random);
      double d;
      std::memcpy(&d, &bits, sizeof(d));
      return std::isfinite(d) ? d : 1.5;  // NaN and infinities: own test
    }
  }
}

v1::Message RandomMessage(absl::BitGen& random, int index) {
  v1::Message m;
  std::string uuid(16, '\0');
  for (char& c : uuid) c = static_cast<char>(absl::Uniform<uint8_t>(random));
  m.set_uuid(uuid);
  m.set_timestamp(absl::Uniform<int64_t>(random, -4000000000000000000,
                                         std::numeric_limits<int64_t>::max()));
  m.set_type(RandomString(random));
  m.set_logger(RandomString(random));
  m.set_severity(absl::Uniform(random, 0, 8));
  m.set_payload(RandomString(random));
  m.set_env_version(RandomString(random));
  m.set_pid(static_cast<int32_t>(absl::Uniform<uint32_t>(random)));
  m.set_hostname(RandomString(random));
  const int fields = absl::Uniform(absl::IntervalClosed, random, 0, 50);
  for (int i = 0; i < fields; ++i) {
    v1::Field* field = m.add_fields();
    // Unique names (duplicates have their own test), some not UTF-8.
    field->set_name(absl::StrCat("f", index, "_", i,
                                 absl::Bernoulli(random, 0.2) ? "\xff" : ""));
    field->set_value_type(
        static_cast<v1::Field::ValueType>(absl::Uniform(random, 0, 5)));
    if (absl::Bernoulli(random, 0.3)) {
      field->set_representation(RandomString(random));
    }
    const int values = absl::Uniform(random, 0, 4);
    for (int v = 0; v < values; ++v) {
      switch (field->value_type()) {
        case v1::Field::STRING:
          field->add_value_string(RandomString(random));
          break;
        case v1::Field::BYTES:
          field->add_value_bytes(RandomString(random));
          break;
        case v1::Field::INTEGER:
          field->add_value_integer(
              static_cast<int64_t>(absl::Uniform<uint64_t>(random)));
          break;
        case v1::Field::DOUBLE:
          field->add_value_double(RandomDouble(random));
          break;
        case v1::Field::BOOL:
          field->add_value_bool(absl::Bernoulli(random, 0.5));
          break;
      }
    }
  }
  return m;
}

void ExpectValue(const v1::Field& field, int i, const rapidjson::Value& json) {
  switch (field.value_type()) {
    case v1::Field::STRING:
      ASSERT_TRUE(json.IsString());
      EXPECT_EQ(Str(json), RepairUtf8(field.value_string(i)));
      return;
    case v1::Field::BYTES: {
      ASSERT_TRUE(json.IsString());
      std::string bytes;
      ASSERT_TRUE(absl::Base64Unescape(Str(json), &bytes));
      EXPECT_EQ(bytes, field.value_bytes(i));
      return;
    }
    case v1::Field::INTEGER:
      ASSERT_TRUE(json.IsInt64());
      EXPECT_EQ(json.GetInt64(), field.value_integer(i));
      return;
    case v1::Field::DOUBLE: {
      ASSERT_TRUE(json.IsNumber());
      const double got = json.GetDouble();
      const double want = field.value_double(i);
      EXPECT_EQ(std::memcmp(&got, &want, sizeof(got)), 0)
          << got << " != " << want;
      return;
    }
    case v1::Field::BOOL:
      ASSERT_TRUE(json.IsBool());
      EXPECT_EQ(json.GetBool(), field.value_bool(i));
      return;
  }
}

std::string Rfc3339(int64_t nanos) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E9SZ", absl::FromUnixNanos(nanos),
                          absl::UTCTimeZone());
}

TEST(JsonEncoderTest, RandomMessagesReadBackAsTheProtobufMessage) {
  absl::BitGen random;
  JsonEncoder encoder;  // one encoder for all: scratch reuse must not leak
  for (int n = 0; n < 300; ++n) {
    const v1::Message m = RandomMessage(random, n);
    const std::string line = Encode(m, &encoder);
    ASSERT_EQ(line.back(), '\n');
    ASSERT_EQ(line.find('\n'), line.size() - 1);
    const rapidjson::Document json = Parse(line);
    ASSERT_TRUE(json.IsObject());
    std::string hex = absl::BytesToHexString(m.uuid());
    for (size_t dash : {8, 13, 18, 23}) hex.insert(dash, "-");
    EXPECT_EQ(Str(json["uuid"]), hex);
    EXPECT_EQ(Str(json["timestamp"]), Rfc3339(m.timestamp()));
    EXPECT_EQ(Str(json["type"]), RepairUtf8(m.type()));
    EXPECT_EQ(Str(json["logger"]), RepairUtf8(m.logger()));
    EXPECT_EQ(json["severity"].GetInt(), m.severity());
    EXPECT_EQ(Str(json["severity_name"]), SeverityName(m.severity()));
    EXPECT_EQ(Str(json["payload"]), RepairUtf8(m.payload()));
    EXPECT_EQ(Str(json["env_version"]), RepairUtf8(m.env_version()));
    EXPECT_EQ(json["pid"].GetInt(), m.pid());
    EXPECT_EQ(Str(json["hostname"]), RepairUtf8(m.hostname()));
    const rapidjson::Value& fields = json["fields"];
    ASSERT_TRUE(fields.IsObject());
    EXPECT_EQ(fields.MemberCount(), static_cast<unsigned>(m.fields_size()));
    int representations = 0;
    for (const v1::Field& field : m.fields()) {
      const std::string name = RepairUtf8(field.name());
      ASSERT_TRUE(fields.HasMember(name.c_str())) << name << " in " << line;
      const rapidjson::Value& value = fields[name.c_str()];
      const int count = FieldValueCount(field);
      if (count == 1) {
        ExpectValue(field, 0, value);
      } else {
        ASSERT_TRUE(value.IsArray());
        ASSERT_EQ(value.Size(), static_cast<unsigned>(count));
        for (int i = 0; i < count; ++i) ExpectValue(field, i, value[i]);
      }
      if (!field.representation().empty()) {
        ++representations;
        EXPECT_EQ(Str(json["representations"][name.c_str()]),
                  RepairUtf8(field.representation()));
      }
    }
    EXPECT_EQ(json.HasMember("representations"), representations > 0);
  }
}

TEST(JsonEncoderTest, ExampleLine) {
  v1::Message m;
  m.set_uuid(
      std::string("\x12\x34\x56\x78\x9a\xbc\xde\xf0\x01\x23\x45\x67"
                  "\x89\xab\xcd\xef",
                  16));
  m.set_timestamp(1795640450234078150);
  m.set_type("timer");
  m.set_logger("checkout");
  m.set_severity(6);
  m.set_payload("12.5");
  m.set_env_version("1.0");
  m.set_pid(4242);
  m.set_hostname("web-1");
  v1::Field* name = m.add_fields();
  name->set_name("name");
  name->add_value_string("db.query");
  v1::Field* rows = m.add_fields();
  rows->set_name("rows");
  rows->set_value_type(v1::Field::INTEGER);
  rows->set_representation("count");
  rows->add_value_integer(3);
  rows->add_value_integer(4);
  JsonEncoder encoder;
  EXPECT_EQ(
      Encode(m, &encoder),
      R"({"uuid":"12345678-9abc-def0-0123-456789abcdef",)"
      R"("timestamp":"2026-11-25T21:00:50.234078150Z","type":"timer",)"
      R"("logger":"checkout","severity":6,"severity_name":"INFO",)"
      R"("payload":"12.5","env_version":"1.0","pid":4242,"hostname":"web-1",)"
      R"("fields":{"name":"db.query","rows":[3,4]},)"
      R"("representations":{"rows":"count"}})"
      "\n");
}

TEST(JsonEncoderTest, InvalidUtf8IsReplacedPerByteAndCounted) {
  // Issue 11: these were written as "cafok", "/tmp/" and "".
  v1::Message m;
  m.set_payload("caf\xe9 ok");
  v1::Field* path = m.add_fields();
  path->set_name("path");
  path->add_value_string("/tmp/\xff\xfe");
  v1::Field* bad = m.add_fields();
  bad->set_name("bad");
  bad->add_value_string("\xc0\xaf");
  JsonEncoder encoder;
  const rapidjson::Document json = Parse(Encode(m, &encoder));
  EXPECT_EQ(Str(json["payload"]), "caf\xEF\xBF\xBD ok");
  EXPECT_EQ(Str(json["fields"]["path"]), "/tmp/\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(Str(json["fields"]["bad"]), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(encoder.repaired_strings(), 3u);
  m.set_payload("café ok");  // valid UTF-8 passes untouched, uncounted
  m.clear_fields();
  EXPECT_EQ(Str(Parse(Encode(m, &encoder))["payload"]), "café ok");
  EXPECT_EQ(encoder.repaired_strings(), 3u);
}

TEST(JsonEncoderTest, DuplicateNamesAreOneKeyWithEveryValueInOrder) {
  v1::Message m;
  for (int i = 0; i < 3; ++i) {
    v1::Field* tag = m.add_fields();
    tag->set_name("tag");
    if (i == 1) {
      tag->set_value_type(v1::Field::INTEGER);
      tag->add_value_integer(2);
      tag->set_representation("second");
    } else {
      tag->add_value_string(absl::StrCat("v", i));
    }
    if (i == 2) tag->set_representation("third");
  }
  v1::Field* empty = m.add_fields();
  empty->set_name("empty");
  JsonEncoder encoder;
  EXPECT_THAT(Encode(m, &encoder),
              HasSubstr(R"("fields":{"tag":["v0",2,"v2"],"empty":[]},)"
                        R"("representations":{"tag":"second"}})"));
}

TEST(JsonEncoderTest, NonFiniteDoublesAreStrings) {
  v1::Message m;
  v1::Field* d = m.add_fields();
  d->set_name("d");
  d->set_value_type(v1::Field::DOUBLE);
  d->add_value_double(std::nan(""));
  d->add_value_double(HUGE_VAL);
  d->add_value_double(-HUGE_VAL);
  d->add_value_double(0.1);
  JsonEncoder encoder;
  EXPECT_THAT(Encode(m, &encoder),
              HasSubstr(R"("d":["NaN","Infinity","-Infinity",0.1])"));
}

TEST(JsonEncoderTest, TimestampsBeforeTheEpochAndGeneratedUuids) {
  v1::Message m;
  m.set_timestamp(-1);  // 1969-12-31T23:59:59.999999999Z
  JsonEncoder encoder;
  const rapidjson::Document json = Parse(Encode(m, &encoder));
  EXPECT_EQ(Str(json["timestamp"]), "1969-12-31T23:59:59.999999999Z");
  // MessageBatch fills in a random uuid, as the router does.
  EXPECT_EQ(Str(json["uuid"]).size(), 36u);
}

}  // namespace
}  // namespace metlog
