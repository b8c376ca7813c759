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

TEST(MessageFormatTest, SeverityNames) {
  EXPECT_EQ(SeverityName(0), "EMERGENCY");
  EXPECT_EQ(SeverityName(7), "DEBUG");
  EXPECT_EQ(SeverityName(9), "SEVERITY(9)");
}

TEST(MessageFormatTest, JsonIsOneObjectPerLine) {
  const std::string json = FormatJson(Sample());
  EXPECT_THAT(json, HasSubstr("\"type\":\"counter\""));
  EXPECT_THAT(json, HasSubstr("\"payload\":\"line one\\nline two\""));
  EXPECT_THAT(json, Not(HasSubstr("\n")));
}

}  // namespace
}  // namespace metlog
