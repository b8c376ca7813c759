// What the carbon sink's factory refuses (checked before any socket).
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "sinks/carbon/carbon_sink.h"
#include "sinks/sink.h"

namespace metlog {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<std::unique_ptr<Sink>> Create(const std::string& text) {
  sinks::CarbonOptions options;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &options))
      << text;
  google::protobuf::Any any;
  any.PackFrom(options);
  return SinkRegistry::Global().Create(any);
}

TEST(CarbonOptionsTest, FactoryRefusesBadOptions) {
  // Issue 9 item 5: the first three passed --check, then crashed the router
  // at start.
  const struct {
    const char* options;
    const char* error;
  } cases[] = {
      {"address: '127.0.0.1'",
       "carbon: address \"127.0.0.1\" is not host:port"},
      {"address: ''", "carbon: address \"\" is not host:port"},
      {"address: ':'", "carbon: address \":\" is not host:port"},
      {"address: 'graphite:plaintext'",
       "carbon: address \"graphite:plaintext\": port \"plaintext\" is not "
       "a number"},
      {"connect_timeout_ms: 0",
       "carbon: connect_timeout_ms is 0; it must be in 1..60000"},
      {"connect_timeout_ms: 3600000", "carbon: connect_timeout_ms is 3600000"},
      {"max_gauge_paths: 0", "carbon: max_gauge_paths is 0; it must be in 1.."},
      {"name_template: ''", "carbon: name_template is empty"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<std::unique_ptr<Sink>> sink = Create(c.options);
    ASSERT_FALSE(sink.ok()) << c.options;
    EXPECT_TRUE(absl::IsInvalidArgument(sink.status())) << c.options;
    EXPECT_THAT(std::string(sink.status().message()), HasSubstr(c.error))
        << c.options;
  }
}

TEST(CarbonOptionsTest, FactoryAcceptsGoodOptions) {
  EXPECT_TRUE(Create("").ok());
  EXPECT_TRUE(Create("address: 'localhost:2003' connect_timeout_ms: 1").ok());
}

}  // namespace
}  // namespace metlog
