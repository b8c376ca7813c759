#include "sinks/codecs/text_encoder.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sinks/message/message_batch.h"

namespace metlog {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The line without its '\n', as the old FormatText returned it.
std::string FormatText(const v1::Message& message) {
  MessageBatch batch({message});
  TextEncoder encoder;
  std::string line;
  encoder.Append(batch[0], &line);
  EXPECT_EQ(line.back(), '\n');
  line.pop_back();
  return line;
}

v1::Message Sample() {
  v1::Message m;
  m.set_timestamp(1764085500123456000);  // 2025-11-25T15:45:00.123456Z
  m.set_type("counter");
  m.set_logger("shop");
  m.set_severity(6);
  m.set_payload("line one\nline two");
  m.set_hostname("web-1");
  m.set_pid(42);
  v1::Field* name = m.add_fields();
  name->set_name("name");
  name->add_value_string("orders");
  v1::Field* rate = m.add_fields();
  rate->set_name("rate");
  rate->set_value_type(v1::Field::DOUBLE);
  rate->add_value_double(0.5);
  v1::Field* ms = m.add_fields();
  ms->set_name("elapsed");
  ms->set_value_type(v1::Field::INTEGER);
  ms->set_representation("ms");
  ms->add_value_integer(3);
  ms->add_value_integer(4);
  return m;
}

TEST(TextEncoderTest, TextLineHoldsEveryPart) {
  const std::string line = FormatText(Sample());
  EXPECT_THAT(line, HasSubstr("2025-11-25T15:45:00.123456Z INFO(6)"));
  EXPECT_THAT(line, HasSubstr("type=\"counter\" logger=\"shop\""));
  EXPECT_THAT(line, HasSubstr("host=\"web-1\" pid=42"));
  EXPECT_THAT(line, HasSubstr("payload=\"line one\\nline two\""));
  EXPECT_THAT(line, HasSubstr("name=\"orders\" rate=0.5 elapsed=3,4[ms]"));
  EXPECT_THAT(line, Not(HasSubstr("\n")));
}

TEST(TextEncoderTest, TextEscapesFieldNamesAndRepresentations) {
  // Issue 9 item 7: a field name with a newline forged a second log line.
  v1::Message m = Sample();
  v1::Field* forged = m.add_fields();
  forged->set_name("user\n2026-01-01T00:00:00.000000Z EMERGENCY(0) x=\"y\"");
  forged->add_value_string("z");
  forged->set_representation("ms]\nforged");
  const std::string line = FormatText(m);
  EXPECT_THAT(line, Not(HasSubstr("\n")));
  EXPECT_THAT(line,
              HasSubstr(" \"user\\n2026-01-01T00:00:00.000000Z EMERGENCY(0) "
                        "x=\\\"y\\\"\"=\"z\"[\"ms]\\nforged\"]"));
}

TEST(TextEncoderTest, PlainFieldNamesStayBare) {
  v1::Message m;
  v1::Field* field = m.add_fields();
  field->set_name("db.query-time_ms:p99/x");
  field->set_representation("%");
  field->set_value_type(v1::Field::INTEGER);
  field->add_value_integer(1);
  const std::string line = FormatText(m);
  EXPECT_THAT(line, HasSubstr(" db.query-time_ms:p99/x=1[%]"));
}

TEST(TextEncoderTest, EveryValueType) {
  v1::Message m;
  m.set_severity(0);
  m.set_timestamp(999);  // truncated to microseconds
  v1::Field* bytes = m.add_fields();
  bytes->set_name("b");
  bytes->set_value_type(v1::Field::BYTES);
  bytes->add_value_bytes(std::string("\x00\xff", 2));
  v1::Field* flags = m.add_fields();
  flags->set_name("f");
  flags->set_value_type(v1::Field::BOOL);
  flags->add_value_bool(true);
  flags->add_value_bool(false);
  v1::Field* empty = m.add_fields();
  empty->set_name("e");
  const std::string line = FormatText(m);
  EXPECT_THAT(line, HasSubstr("1970-01-01T00:00:00.000000Z EMERGENCY(0) "));
  EXPECT_THAT(line, HasSubstr(" b=0x00ff f=true,false e="));
}

TEST(TextEncoderTest, StringsAreCEscaped) {
  v1::Message m;
  m.set_payload("caf\xe9 \"q\" it's");
  EXPECT_THAT(FormatText(m),
              HasSubstr("payload=\"caf\\xe9 \\\"q\\\" it\\'s\""));
}

}  // namespace
}  // namespace metlog
