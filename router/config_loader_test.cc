#include "router/config_loader.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "router/inputs/grpc/publish/publish_input.pb.h"
#include "router/inputs/zmq/zmq_input.pb.h"
#include "router/router.h"

namespace metlog {
namespace {

using ::testing::HasSubstr;

// `inputs { ... }` of the kind whose options message is `type`, e.g.
//   Input("ZmqInputConfig", "decode_threads: 2")
std::string Input(const std::string& type, const std::string& options = "",
                  const std::string& fields = "") {
  return absl::StrCat("inputs { ", fields,
                      " options { [type.googleapis.com/metlog.v1.", type,
                      "] { ", options, " } } }");
}

std::string Zmq(const std::string& options = "",
                const std::string& fields = "") {
  return Input("ZmqInputConfig", options, fields);
}

TEST(ConfigLoaderTest, ValidConfigLoads) {
  auto config = ParseRouterConfig(
      R"pb(
        inputs {
          name: "main"
          options {
            [type.googleapis.com/metlog.v1.ZmqInputConfig] {
              endpoint: "tcp://127.0.0.1:7000"
            }
          }
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
  v1::ZmqInputConfig zmq;
  ASSERT_TRUE(config->inputs(0).options().UnpackTo(&zmq));
  EXPECT_EQ(zmq.endpoint(), "tcp://127.0.0.1:7000");
  EXPECT_EQ(zmq.decode_threads(), 1u);
  EXPECT_EQ(config->sinks(0).queue().overflow(), v1::QueueConfig::DROP_OLDEST);
  EXPECT_EQ(config->sinks(0).queue().max_batch_messages(), 1000u);
  EXPECT_EQ(config->limits().max_packet_bytes(), 4096u);
  EXPECT_EQ(config->limits().max_message_bytes(), 65536u);
  EXPECT_TRUE(Router::Check(*config).ok());
}

TEST(ConfigLoaderTest, SyntaxErrorNamesLineAndColumn) {
  auto config = ParseRouterConfig(Zmq() + "\nsinks {\n  nmae: \"x\"\n}\n",
                                  "broken.textproto");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().ToString(), HasSubstr("broken.textproto:3:7:"));
  EXPECT_THAT(config.status().ToString(), HasSubstr("nmae"));
}

TEST(ConfigLoaderTest, UnbalancedBraceNamesLineAndColumn) {
  auto config = ParseRouterConfig(Zmq("endpoint: 5"), "f");
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(config.status().ToString(), HasSubstr("f:1:80:"));
}

TEST(ConfigLoaderTest, SemanticErrorsAreExplained) {
  EXPECT_THAT(ParseRouterConfig("sinks { name: 'a' }", "f").status().ToString(),
              HasSubstr("no inputs"));
  EXPECT_THAT(ParseRouterConfig(Zmq(), "f").status().ToString(),
              HasSubstr("no sinks"));
  EXPECT_THAT(
      ParseRouterConfig(Zmq() + " sinks { name: 'a' }", "f").status().message(),
      HasSubstr("sink \"a\" has no options"));
  const std::string twice = Zmq() + R"pb(
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
  const std::string zero = Zmq() + R"pb(
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
      Zmq() + R"pb(
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
  ASSERT_EQ(config.inputs_size(), 2);
  v1::ZmqInputConfig zmq;
  ASSERT_TRUE(config.inputs(0).options().UnpackTo(&zmq));
  EXPECT_EQ(zmq.endpoint(), "tcp://127.0.0.1:5565");
  // Admin.Publish, on the admin port, as before inputs were configured.
  v1::GrpcPublishInputConfig publish;
  ASSERT_TRUE(config.inputs(1).options().UnpackTo(&publish));
  EXPECT_EQ(publish.listen_address(), "");
  EXPECT_EQ(config.admin().listen_address(), "127.0.0.1:5566");
  ASSERT_EQ(config.sinks_size(), 2);
  EXPECT_EQ(config.sinks(0).name(), "console");
  EXPECT_EQ(config.sinks(1).name(), "file");
  EXPECT_TRUE(Router::Check(config).ok());
}

// What `router --check` does: parse, then Router::Check.
absl::Status CheckText(const std::string& text) {
  absl::StatusOr<v1::RouterConfig> config = ParseRouterConfig(text, "f");
  if (!config.ok()) return config.status();
  return Router::Check(*config);
}

std::string WithSink(const std::string& type, const std::string& options) {
  return absl::StrCat(
      Zmq(),
      "\nsinks { name: \"s\" options { [type.googleapis.com/metlog.sinks.",
      type, "] { ", options, " } } }\n");
}

std::string WithInputs(const std::string& inputs) {
  return absl::StrCat(
      inputs,
      "\nsinks { name: \"n\" options { "
      "[type.googleapis.com/metlog.sinks.NullOptions] {} } }\n");
}

TEST(ConfigCheckTest, RefusesWhatStartUpWouldTripOn) {
  // Issue 9 item 5: each of these passed --check, then crashed the router
  // at start, aborted it, or did something else than asked.
  const std::string missing_dir =
      absl::StrCat(std::getenv("TEST_TMPDIR"), "/missing/x.jsonl");
  const struct {
    std::string config;
    std::string error;
  } cases[] = {
      {WithSink("StatsdOptions", "address: '127.0.0.1'"),
       "sink \"s\": statsd: address \"127.0.0.1\" is not host:port"},
      {WithSink("StatsdOptions", "address: ''"),
       "sink \"s\": statsd: address \"\" is not host:port"},
      {WithSink("CarbonOptions", "address: ':'"),
       "sink \"s\": carbon: address \":\" is not host:port"},
      {WithSink("PrometheusOptions", "listen_address: '127.0.0.1:99999'"),
       "sink \"s\": prometheus: listen_address \"127.0.0.1:99999\": port "
       "99999 is not in 0..65535"},
      {WithSink("PrometheusOptions", "buckets_ms: [10, 5]"),
       "sink \"s\": prometheus: buckets_ms must increase"},
      {WithSink("PrometheusOptions", "buckets_ms: [-5, 10]"),
       "sink \"s\": prometheus: buckets_ms holds -5"},
      {WithSink("PrometheusOptions", "label_fields: 'le'"),
       "sink \"s\": prometheus: label_fields \"le\""},
      {WithSink("FileOptions", "path: '/'"),
       "sink \"s\": file sink: path \"/\" is a directory"},
      {WithSink("FileOptions", absl::StrCat("path: '", missing_dir, "'")),
       "sink \"s\": file sink: path"},
      {WithInputs(Zmq("decode_threads: 100000")),
       "f: input \"zmq\": decode_threads is 100000; it must be in 1..64"},
      {WithInputs(Zmq("decode_threads: 0")), "decode_threads is 0"},
      {WithInputs(
           absl::StrCat(Zmq(), "\n", Zmq("endpoint: 'tcp://127.0.0.1:5599'"))),
       "f: input name \"zmq\" is used twice"},
      {absl::StrCat(Zmq(),
                    "\nsinks { name: \"n\" queue { write_timeout_ms: 0 } "
                    "options { [type.googleapis.com/metlog.sinks.NullOptions] "
                    "{} } }\n"),
       "f: sink \"n\": queue write_timeout_ms must be at least 1"},
      {WithInputs(Zmq("receive_hwm: -1", "name: 'in'")),
       "f: input \"in\": receive_hwm is -1; it must be in 1..1000000"},
      {WithInputs(Zmq("receive_hwm: 0")), "receive_hwm is 0"},
      {WithInputs(Zmq("receive_budget_bytes: 1000")),
       "receive_budget_bytes is 1000; it must be at least "
       "limits.max_packet_bytes (1048576)"},
      {WithInputs(Zmq("endpoint: '127.0.0.1:5565'")),
       "endpoint \"127.0.0.1:5565\": an input binds tcp://, ipc:// or "
       "inproc://"},
      {WithInputs(Input("UdpInputConfig", "address: '127.0.0.1'")),
       "f: input \"udp\": address \"127.0.0.1\" is not host:port"},
      {WithInputs(Input("UdpInputConfig", "receive_buffer_bytes: 4294967295")),
       "receive_buffer_bytes is 4294967295"},
      {WithInputs(Input("StatsdInputConfig", "address: '127.0.0.1'")),
       "f: input \"statsd\": address \"127.0.0.1\" is not host:port"},
      {WithInputs(Input("MetlogJsonInputConfig", "receive_buffer_bytes: 0")),
       "f: input \"metlog_json\": receive_buffer_bytes is 0"},
      {WithInputs(Input("HekaInputConfig", "address: ':'")),
       "f: input \"heka\": address \":\" is not host:port"},
      {WithInputs(Input("GrpcPublishInputConfig", "listen_address: 'x'")),
       "f: input \"grpc\": listen_address \"x\" is not host:port"},
      {WithInputs(
           Input("GrpcPublishInputConfig", "listen_address: '127.0.0.1:5566'")),
       "f: input \"grpc\": listen_address \"127.0.0.1:5566\" is the admin "
       "port's; leave it empty to serve Publish there"},
      {WithInputs(Input("GrpcPublishInputConfig") +
                  " admin { listen_address: '' }"),
       "f: input \"grpc\": Publish is served on the admin port, but "
       "admin.listen_address is empty"},
      {WithInputs(Input("GrpcPublishInputConfig") +
                  Input("GrpcPublishInputConfig", "", "name: 'again'")),
       "f: input \"grpc\": 2 Publish inputs are on the admin port"},
      {WithInputs(
           Input("GrpcPublishInputConfig", "", "require_signature: true")),
       "f: input \"grpc\": require_signature: Publish batches carry no "
       "signature"},
      {WithInputs(Input("StatsdInputConfig", "reader_threads: 0", "name: 's'")),
       "f: input \"s\": reader_threads is 0; it must be in 1..64"},
      {WithInputs(Input("StatsdInputConfig", "reader_threads: 65")),
       "reader_threads is 65"},
      {WithInputs(Zmq() + " admin { listen_address: ':' }"),
       "f: admin: listen_address \":\" is not host:port"},
      {WithInputs(Zmq() + " limits { max_packet_bytes: 0 }"),
       "f: limits: max_packet_bytes is 0"},
      {WithInputs(Zmq() + " limits { max_message_bytes: 0 }"),
       "f: limits: max_message_bytes is 0"},
      {WithInputs(Zmq() + " shutdown_deadline_ms: 4000000000"),
       "f: shutdown_deadline_ms is 4000000000"},
  };
  for (const auto& c : cases) {
    const absl::Status status = CheckText(c.config);
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << c.config << status;
    EXPECT_THAT(std::string(status.message()), HasSubstr(c.error)) << c.config;
  }
}

TEST(ConfigCheckTest, AcceptsTheBoundsThemselves) {
  EXPECT_TRUE(
      CheckText(WithInputs(Zmq("decode_threads: 64 receive_hwm: 1000000") +
                           Input("UdpInputConfig", "address: '127.0.0.1:0'") +
                           Input("GrpcPublishInputConfig",
                                 "listen_address: '127.0.0.1:0'") +
                           " admin { listen_address: '' }"))
          .ok());
  EXPECT_TRUE(CheckText(WithSink("PrometheusOptions",
                                 "listen_address: '127.0.0.1:0' "
                                 "buckets_ms: [0, 0.5, 10] "
                                 "label_fields: ['logger', 'region']"))
                  .ok());
  EXPECT_TRUE(
      CheckText(WithSink("StatsdOptions", "address: 'localhost:8125'")).ok());
}

TEST(ConfigInputsTest, EveryShippedKindLoadsInTheOptionsForm) {
  const absl::Status status = CheckText(WithInputs(
      Zmq("endpoint: 'tcp://127.0.0.1:*' decode_threads: 2", "name: 'z'") +
      Input("UdpInputConfig", "address: '127.0.0.1:0'") +
      Input("StatsdInputConfig", "address: '127.0.0.1:0'") +
      Input("MetlogJsonInputConfig", "address: '127.0.0.1:0'") +
      Input("HekaInputConfig", "address: '127.0.0.1:0'",
            "require_signature: true") +
      Input("GrpcPublishInputConfig")));
  EXPECT_TRUE(status.ok()) << status;
}

TEST(ConfigInputsTest, AnInputTypeNoProgramKnowsNamesLineAndColumn) {
  const absl::Status status = CheckText(WithInputs(
      "inputs {\n  options {\n    [type.googleapis.com/metlog.v1.Nope] {}\n"
      "  }\n}"));
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("f:3:"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("metlog.v1.Nope"));
}

TEST(ConfigInputsTest, AnUnknownOptionNamesLineAndColumn) {
  const absl::Status status = CheckText(
      WithInputs("inputs {\n  options {\n    "
                 "[type.googleapis.com/metlog.v1.ZmqInputConfig]"
                 " {\n      endpiont: 'tcp://127.0.0.1:*'\n    }\n  }\n}"));
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("f:4:15:"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("endpiont"));
}

TEST(ConfigInputsTest, ASinksOptionsInAnInputAreNoInputKind) {
  const absl::Status status = CheckText(
      WithInputs("inputs { name: 'in' options { "
                 "[type.googleapis.com/metlog.sinks.NullOptions] {} } }"));
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("f: input \"in\": no input is registered for options "
                        "type \"metlog.sinks.NullOptions\"; known types: "));
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("metlog.v1.ZmqInputConfig"));
}

TEST(ConfigInputsTest, AnInputWithoutOptionsIsRefused) {
  EXPECT_THAT(
      std::string(CheckText(WithInputs("inputs { name: 'bare' }")).message()),
      HasSubstr("f: input \"bare\" has no options"));
}

TEST(ConfigInputsTest, TheFormerKindFieldsFailTheParseWithTheirLine) {
  const absl::Status status =
      CheckText(WithInputs("\ninputs { zmq { endpoint: 'tcp://x:1' } }"));
  EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("f:2:14:"));
  EXPECT_THAT(std::string(status.message()), HasSubstr("zmq"));
}

}  // namespace
}  // namespace metlog
