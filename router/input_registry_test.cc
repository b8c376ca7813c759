#include "router/input_registry.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "router/inputs/zmq/zmq_input.pb.h"
#include "sinks/null/null.pb.h"

namespace metlog {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(InputRegistryTest, EveryShippedKindIsRegistered) {
  EXPECT_THAT(
      InputRegistry::Global().KnownTypes(),
      ElementsAre(
          "metlog.v1.GrpcPublishInputConfig", "metlog.v1.HekaInputConfig",
          "metlog.v1.MetlogJsonInputConfig", "metlog.v1.StatsdInputConfig",
          "metlog.v1.UdpInputConfig", "metlog.v1.ZmqInputConfig"));
}

TEST(InputRegistryTest, UnknownTypeIsAClearError) {
  v1::InputConfig input;
  input.set_name("in");
  input.mutable_options()->PackFrom(metlog::sinks::NullOptions());
  const absl::Status status =
      InputRegistry::Global().Check(input, v1::RouterConfig());
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("input \"in\": no input is registered for options "
                        "type \"metlog.sinks.NullOptions\"; known types: "
                        "metlog.v1.GrpcPublishInputConfig, "));
  EXPECT_FALSE(InputRegistry::Global().Create(input, {}).ok());
}

TEST(InputRegistryTest, MissingOptionsNameTheKinds) {
  v1::InputConfig input;
  const absl::Status status =
      InputRegistry::Global().Check(input, v1::RouterConfig());
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("has no options; their type selects the input "
                        "kind: metlog.v1.GrpcPublishInputConfig"));
}

TEST(InputRegistryTest, OptionsThatDoNotParseAreRefused) {
  v1::InputConfig input;
  input.mutable_options()->set_type_url(
      "type.googleapis.com/metlog.v1.ZmqInputConfig");
  input.mutable_options()->set_value("\xff\xff\xff");
  EXPECT_THAT(
      std::string(
          InputRegistry::Global().Check(input, v1::RouterConfig()).message()),
      HasSubstr("input \"zmq\": options of type "
                "metlog.v1.ZmqInputConfig do not parse"));
}

TEST(InputRegistryTest, KindsCheckTheirOptionsUnderTheInputsName) {
  v1::InputConfig input;
  v1::ZmqInputConfig zmq;
  zmq.set_decode_threads(0);
  input.mutable_options()->PackFrom(zmq);
  EXPECT_EQ(InputRegistry::Global().NameOf(input), "zmq");
  EXPECT_EQ(InputRegistry::Global().Check(input, v1::RouterConfig()).message(),
            "input \"zmq\": decode_threads is 0; it must be in 1..64");
  zmq.set_decode_threads(1);
  input.mutable_options()->PackFrom(zmq);
  EXPECT_TRUE(InputRegistry::Global().Check(input, v1::RouterConfig()).ok());
}

}  // namespace
}  // namespace metlog
