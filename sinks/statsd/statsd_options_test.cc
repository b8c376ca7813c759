// What the statsd sink's factory refuses (checked before any socket).
#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "sinks/sink.h"
#include "sinks/statsd/statsd_sink.h"

namespace metlog {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<std::unique_ptr<Sink>> Create(const std::string& text) {
  sinks::StatsdOptions options;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &options))
      << text;
  google::protobuf::Any any;
  any.PackFrom(options);
  return SinkRegistry::Global().Create(any);
}

TEST(StatsdOptionsTest, FactoryRefusesBadOptions) {
  // Issue 9 item 5: the first three passed --check, then crashed the router
  // at start.
  const struct {
    const char* options;
    const char* error;
  } cases[] = {
      {"address: '127.0.0.1'",
       "statsd: address \"127.0.0.1\" is not host:port"},
      {"address: ''", "statsd: address \"\" is not host:port"},
      {"address: ':'", "statsd: address \":\" is not host:port"},
      {"address: '127.0.0.1:99999'",
       "statsd: address \"127.0.0.1:99999\": "
       "port 99999 is not in 1..65535"},
      {"max_datagram_bytes: 0",
       "statsd: max_datagram_bytes is 0; it must be in 1..65507"},
      {"max_datagram_bytes: 65508", "statsd: max_datagram_bytes is 65508"},
      {"name_template: ''", "statsd: name_template is empty"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<std::unique_ptr<Sink>> sink = Create(c.options);
    ASSERT_FALSE(sink.ok()) << c.options;
    EXPECT_TRUE(absl::IsInvalidArgument(sink.status())) << c.options;
    EXPECT_THAT(std::string(sink.status().message()), HasSubstr(c.error))
        << c.options;
  }
}

TEST(StatsdOptionsTest, FactoryAcceptsGoodOptions) {
  EXPECT_TRUE(Create("").ok());
  EXPECT_TRUE(
      Create("address: 'localhost:8125' max_datagram_bytes: 65507").ok());
}

}  // namespace
}  // namespace metlog
