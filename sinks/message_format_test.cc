#include "sinks/message_format.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace metlog {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

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

TEST(MessageFormatTest, TextLineHoldsEveryPart) {
  const std::string line = FormatText(Sample());
  EXPECT_THAT(line, HasSubstr("2025-11-25T15:45:00.123456Z INFO(6)"));
  EXPECT_THAT(line, HasSubstr("type=\"counter\" logger=\"shop\""));
  EXPECT_THAT(line, HasSubstr("host=\"web-1\" pid=42"));
  EXPECT_THAT(line, HasSubstr("payload=\"line one\\nline two\""));
  EXPECT_THAT(line, HasSubstr("name=\"orders\" rate=0.5 elapsed=3,4[ms]"));
  EXPECT_THAT(line, Not(HasSubstr("\n")));
}

TEST(MessageFormatTest, TextEscapesFieldNamesAndRepresentations) {
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

TEST(MessageFormatTest, PlainFieldNamesStayBare) {
  v1::Message m;
  v1::Field* field = m.add_fields();
  field->set_name("db.query-time_ms:p99/x");
  field->set_representation("%");
  field->set_value_type(v1::Field::INTEGER);
  field->add_value_integer(1);
  v1::Field* empty = m.add_fields();
  empty->set_name("");
  empty->add_value_string("v");
  const std::string line = FormatText(m);
  EXPECT_THAT(line, HasSubstr(" db.query-time_ms:p99/x=1[%]"));
  EXPECT_THAT(line, HasSubstr(" \"\"=\"v\""));
}

TEST(MessageFormatTest, SeverityNames) {
  EXPECT_EQ(SeverityName(0), "EMERGENCY");
  EXPECT_EQ(SeverityName(7), "DEBUG");
  EXPECT_EQ(SeverityName(9), "SEVERITY(9)");
}

TEST(MessageFormatTest, JsonKeepsMessagesWithInvalidUtf8) {
  // proto2 parsing does not check UTF-8, so such strings reach the sinks.
  v1::Message m = Sample();
  m.set_logger("bad\xff\xfe");
  m.mutable_fields(0)->set_name("n\xc3");
  const std::string json = FormatJson(m);
  EXPECT_THAT(json, HasSubstr("\"type\":\"counter\""));
  EXPECT_THAT(json, Not(HasSubstr("\n")));
}

TEST(MessageFormatTest, JsonIsOneObjectPerLine) {
  const std::string json = FormatJson(Sample());
  EXPECT_THAT(json, HasSubstr("\"type\":\"counter\""));
  EXPECT_THAT(json, HasSubstr("\"payload\":\"line one\\nline two\""));
  EXPECT_THAT(json, Not(HasSubstr("\n")));
}

}  // namespace
}  // namespace metlog
