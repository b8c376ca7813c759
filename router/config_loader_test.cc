#include "router/config_loader.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "router/router.h"

namespace metlog {
namespace {

using ::testing::HasSubstr;

TEST(ConfigLoaderTest, ValidConfigLoads) {
  auto config = ParseRouterConfig(
      R"pb(
        inputs {
          name: "main"
          zmq { endpoint: "tcp://127.0.0.1:7000" }
        }
        sinks {
          name: "timers"
          match: 'Type == "timer"'
          queue { capacity_messages: 10 overflow: DROP_OLDEST }
          options {
            [type.googleapis.com/metlog.sinks.ConsoleOptions] { format: JSON }
          }
        }
        limits { max_packet_bytes: 4096 }
      )pb",
      "test.textproto");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->inputs(0).zmq().endpoint(), "tcp://127.0.0.1:7000");
  EXPECT_EQ(config->sinks(0).queue().overflow(), v1::QueueConfig::DROP_OLDEST);
  EXPECT_EQ(config->sinks(0).queue().max_batch_messages(), 1000u);
  EXPECT_EQ(config->limits().max_packet_bytes(), 4096u);
  EXPECT_EQ(config->limits().max_message_bytes(), 65536u);
  EXPECT_TRUE(Router::Check(*config).ok());
}

TEST(ConfigLoaderTest, SyntaxErrorNamesLineAndColumn) {
  auto config = ParseRouterConfig(
      "inputs { zmq {} }\nsinks {\n  nmae: \"x\"\n}\n", "broken.textproto");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().ToString(), HasSubstr("broken.textproto:3:7:"));
  EXPECT_THAT(config.status().ToString(), HasSubstr("nmae"));
}

TEST(ConfigLoaderTest, UnbalancedBraceNamesLineAndColumn) {
  auto config = ParseRouterConfig("inputs { zmq { endpoint: 5 } }", "f");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().ToString(), HasSubstr("f:1:26:"));
}

TEST(ConfigLoaderTest, SemanticErrorsAreExplained) {
  EXPECT_THAT(ParseRouterConfig("sinks { name: 'a' }", "f").status().ToString(),
              HasSubstr("no inputs"));
  EXPECT_THAT(ParseRouterConfig("inputs { zmq {} }", "f").status().ToString(),
              HasSubstr("no sinks"));
  EXPECT_THAT(ParseRouterConfig("inputs { zmq {} } sinks { name: 'a' }", "f")
                  .status()
                  .message(),
              HasSubstr("sink \"a\" has no options"));
  const char* twice = R"pb(
    inputs { zmq {} }
    sinks {
      name: "a"
      options {
        [type.googleapis.com/metlog.sinks.ConsoleOptions] {}
      }
    }
    sinks {
      name: "a"
      options {
        [type.googleapis.com/metlog.sinks.ConsoleOptions] {}
      }
    }
  )pb";
  EXPECT_THAT(ParseRouterConfig(twice, "f").status().ToString(),
              HasSubstr("\"a\" is used twice"));
}

TEST(ConfigLoaderTest, ZeroQueueBoundsAreRefused) {
  const char* zero = R"pb(
    inputs { zmq {} }
    sinks {
      name: "z"
      queue { capacity_messages: 0 overflow: DROP_OLDEST }
      options {
        [type.googleapis.com/metlog.sinks.NullOptions] {}
      }
    }
  )pb";
  EXPECT_THAT(ParseRouterConfig(zero, "f").status().ToString(),
              HasSubstr("sink \"z\": queue capacities and batch sizes"));
}

TEST(ConfigLoaderTest, CheckRejectsBadMatchWithPosition) {
  auto config = ParseRouterConfig(
      R"pb(
        inputs { zmq {} }
        sinks {
          name: "bad"
          match: 'Type == "timer" &&'
          options {
            [type.googleapis.com/metlog.sinks.ConsoleOptions] {}
          }
        }
      )pb",
      "f");
  ASSERT_TRUE(config.ok()) << config.status();
  const absl::Status status = Router::Check(*config);
  EXPECT_THAT(status.ToString(), HasSubstr("sink \"bad\""));
  EXPECT_THAT(status.ToString(), HasSubstr("1:19:"));
}

TEST(ConfigLoaderTest, MissingFileIsNotFound) {
  EXPECT_TRUE(absl::IsNotFound(LoadRouterConfig("/nonexistent/x").status()));
}

TEST(ConfigLoaderTest, EmbeddedDefaultIsValid) {
  const v1::RouterConfig config = DefaultRouterConfig();
  ASSERT_EQ(config.inputs_size(), 1);
  EXPECT_EQ(config.inputs(0).zmq().endpoint(), "tcp://127.0.0.1:5565");
  EXPECT_EQ(config.admin().listen_address(), "127.0.0.1:5566");
  ASSERT_EQ(config.sinks_size(), 2);
  EXPECT_EQ(config.sinks(0).name(), "console");
  EXPECT_EQ(config.sinks(1).name(), "file");
  EXPECT_TRUE(Router::Check(config).ok());
}

}  // namespace
}  // namespace metlog
