// The envelope must round-trip every field type and stay byte-compatible with
// Heka's message.proto, whose field numbers and wire types are encoded here by
// hand rather than through our generated code.
#include <cstdint>
#include <string>

#include "gtest/gtest.h"
#include "proto/metlog.pb.h"

namespace metlog::v1 {
namespace {

// Minimal protobuf wire encoding, so the expected bytes do not depend on the
// code under test.
void AppendVarint(uint64_t value, std::string* out) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

enum WireType { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2 };

void AppendTag(int field, WireType type, std::string* out) {
  AppendVarint(static_cast<uint64_t>(field) << 3 | type, out);
}

void AppendBytes(int field, const std::string& bytes, std::string* out) {
  AppendTag(field, kLengthDelimited, out);
  AppendVarint(bytes.size(), out);
  out->append(bytes);
}

void AppendInt(int field, uint64_t value, std::string* out) {
  AppendTag(field, kVarint, out);
  AppendVarint(value, out);
}

std::string Fixed64(uint64_t bits) {
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(bits >> (8 * i)));
  return out;
}

Message MessageWithEveryFieldType() {
  Message m;
  m.set_uuid(
      std::string("\x01\x02\x03\x04\x05\x06\x07\x08"
                  "\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10",
                  16));
  m.set_timestamp(1764085500123456789);
  m.set_type("timer");
  m.set_logger("checkout");
  m.set_severity(3);
  m.set_payload("12.5");
  m.set_env_version("1.0");
  m.set_pid(4242);
  m.set_hostname("web-1");
  Field* s = m.add_fields();
  s->set_name("name");
  s->set_value_type(Field::STRING);
  s->add_value_string("db.query");
  s->add_value_string("second");
  Field* b = m.add_fields();
  b->set_name("blob");
  b->set_value_type(Field::BYTES);
  b->add_value_bytes(std::string("\x00\xff", 2));
  Field* i = m.add_fields();
  i->set_name("rows");
  i->set_value_type(Field::INTEGER);
  i->set_representation("count");
  i->add_value_integer(-7);
  i->add_value_integer(1LL << 40);
  Field* d = m.add_fields();
  d->set_name("rate");
  d->set_value_type(Field::DOUBLE);
  d->add_value_double(0.25);
  Field* o = m.add_fields();
  o->set_name("cached");
  o->set_value_type(Field::BOOL);
  o->add_value_bool(true);
  o->add_value_bool(false);
  return m;
}

TEST(EnvelopeTest, EveryFieldTypeRoundTrips) {
  const Message original = MessageWithEveryFieldType();
  Message decoded;
  ASSERT_TRUE(decoded.ParseFromString(original.SerializeAsString()));
  EXPECT_EQ(decoded.DebugString(), original.DebugString());
  EXPECT_EQ(decoded.fields(2).value_integer(1), 1LL << 40);
  EXPECT_EQ(decoded.fields(4).value_bool(1), false);
  EXPECT_EQ(decoded.fields(1).value_bytes(0), std::string("\x00\xff", 2));
}

TEST(EnvelopeTest, SeverityDefaultsToDebug) {
  Message m;
  ASSERT_TRUE(m.ParseFromString(""));
  EXPECT_FALSE(m.has_severity());
  EXPECT_EQ(m.severity(), 7);
}

TEST(EnvelopeTest, HekaEncodedMessageDecodes) {
  // Heka's message.proto: Field{name=1, value_type=2, representation=3,
  // value_string=4, value_bytes=5, value_integer=6 packed, value_double=7
  // packed, value_bool=8 packed}; Message{uuid=1, timestamp=2, type=3,
  // logger=4, severity=5, payload=6, env_version=7, pid=8, hostname=9,
  // fields=10}.
  std::string integer_field;
  AppendBytes(1, "rows", &integer_field);
  AppendInt(2, 2, &integer_field);  // INTEGER
  AppendBytes(3, "count", &integer_field);
  std::string packed_ints;
  AppendVarint(5, &packed_ints);
  AppendVarint(300, &packed_ints);
  AppendBytes(6, packed_ints, &integer_field);

  std::string double_field;
  AppendBytes(1, "rate", &double_field);
  AppendInt(2, 3, &double_field);                                 // DOUBLE
  AppendBytes(7, Fixed64(0x3FD0000000000000ULL), &double_field);  // 0.25

  std::string bool_field;
  AppendBytes(1, "ok", &bool_field);
  AppendInt(2, 4, &bool_field);  // BOOL
  AppendBytes(8, std::string("\x01\x00", 2), &bool_field);

  std::string string_field;
  AppendBytes(1, "name", &string_field);
  AppendBytes(4, "db.query", &string_field);

  std::string bytes_field;
  AppendBytes(1, "raw", &bytes_field);
  AppendInt(2, 1, &bytes_field);  // BYTES
  AppendBytes(5, std::string("\x00\x01", 2), &bytes_field);

  const std::string uuid(16, '\x42');
  std::string wire;
  AppendBytes(1, uuid, &wire);
  AppendInt(2, 1764085500000000000ULL, &wire);
  AppendBytes(3, "timer", &wire);
  AppendBytes(4, "checkout", &wire);
  AppendInt(5, 4, &wire);
  AppendBytes(6, "12", &wire);
  AppendBytes(7, "1.0", &wire);
  AppendInt(8, 4242, &wire);
  AppendBytes(9, "web-1", &wire);
  AppendBytes(10, integer_field, &wire);
  AppendBytes(10, double_field, &wire);
  AppendBytes(10, bool_field, &wire);
  AppendBytes(10, string_field, &wire);
  AppendBytes(10, bytes_field, &wire);

  Message m;
  ASSERT_TRUE(m.ParseFromString(wire));
  EXPECT_EQ(m.uuid(), uuid);
  EXPECT_EQ(m.timestamp(), 1764085500000000000LL);
  EXPECT_EQ(m.type(), "timer");
  EXPECT_EQ(m.logger(), "checkout");
  EXPECT_EQ(m.severity(), 4);
  EXPECT_EQ(m.payload(), "12");
  EXPECT_EQ(m.env_version(), "1.0");
  EXPECT_EQ(m.pid(), 4242);
  EXPECT_EQ(m.hostname(), "web-1");
  ASSERT_EQ(m.fields_size(), 5);
  EXPECT_EQ(m.fields(0).name(), "rows");
  EXPECT_EQ(m.fields(0).value_type(), Field::INTEGER);
  EXPECT_EQ(m.fields(0).representation(), "count");
  ASSERT_EQ(m.fields(0).value_integer_size(), 2);
  EXPECT_EQ(m.fields(0).value_integer(1), 300);
  EXPECT_EQ(m.fields(1).value_type(), Field::DOUBLE);
  EXPECT_EQ(m.fields(1).value_double(0), 0.25);
  EXPECT_EQ(m.fields(2).value_type(), Field::BOOL);
  ASSERT_EQ(m.fields(2).value_bool_size(), 2);
  EXPECT_TRUE(m.fields(2).value_bool(0));
  EXPECT_FALSE(m.fields(2).value_bool(1));
  EXPECT_EQ(m.fields(3).value_type(), Field::STRING);
  EXPECT_EQ(m.fields(3).value_string(0), "db.query");
  EXPECT_EQ(m.fields(4).value_type(), Field::BYTES);
  EXPECT_EQ(m.fields(4).value_bytes(0), std::string("\x00\x01", 2));

  // Our encoder writes the same bytes back (fields in number order, packed
  // repeated scalars), so Heka reads what we write.
  EXPECT_EQ(m.SerializeAsString(), wire);
}

}  // namespace
}  // namespace metlog::v1
