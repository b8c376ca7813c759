#include "client/net/host_port.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace metlog {
namespace {

using ::testing::HasSubstr;

TEST(HostPortTest, AcceptsHostAndPort) {
  EXPECT_TRUE(
      CheckHostPort("address", "127.0.0.1:8125", PortZero::kRefused).ok());
  EXPECT_TRUE(
      CheckHostPort("address", "localhost:65535", PortZero::kRefused).ok());
  EXPECT_TRUE(CheckHostPort("address", "0.0.0.0:0", PortZero::kAllowed).ok());
}

TEST(HostPortTest, RefusesWhatCannotBeResolvedOrBound) {
  const struct {
    const char* value;
    PortZero port_zero;
    const char* error;
  } cases[] = {
      {"127.0.0.1", PortZero::kRefused,
       "address \"127.0.0.1\" is not host:port"},
      {"", PortZero::kRefused, "address \"\" is not host:port"},
      {":", PortZero::kRefused, "address \":\" is not host:port"},
      {":8125", PortZero::kRefused, "is not host:port"},
      {"host:", PortZero::kRefused, "is not host:port"},
      {"host:http", PortZero::kRefused, "port \"http\" is not a number"},
      {"host:-1", PortZero::kRefused, "port \"-1\" is not a number"},
      {"127.0.0.1:99999", PortZero::kAllowed,
       "address \"127.0.0.1:99999\": port 99999 is not in 0..65535"},
      {"127.0.0.1:99999999999999999999999", PortZero::kAllowed,
       "is not in 0..65535"},
      {"127.0.0.1:0", PortZero::kRefused, "port 0 is not in 1..65535"},
  };
  for (const auto& c : cases) {
    const absl::Status status = CheckHostPort("address", c.value, c.port_zero);
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << c.value;
    EXPECT_THAT(std::string(status.message()), HasSubstr(c.error)) << c.value;
  }
}

}  // namespace
}  // namespace metlog
