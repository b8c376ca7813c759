// CURVE on a ZeroMQ input (issue 13), through the real router binary and
// the C++ client's own CURVE transport, with keys from `metlogctl
// curve-keygen`: an allowed client's messages reach the file sink while an
// unlisted client (and a plaintext one) on the same input is refused,
// counted in Stats and in `metlogctl stats`, and delivers nothing. Clients
// that fail ZeroMQ's own handshake (no CURVE, the wrong server key, CURVE
// on an input without it) are refused and counted too.
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/client_config.h"
#include "client/metlog.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "integration_tests/protobuf_records.h"
#include "proto/admin.grpc.pb.h"
#include "tools/testing/router_process.h"

namespace metlog {
namespace {

using ::testing::HasSubstr;
using testing::ReadFile;
using testing::RouterProcess;
using testing::Runfile;
using testing::TempPath;

struct KeyFiles {
  std::string public_key;  // Z85
  std::string secret_key;  // Z85
  std::string secret_key_file;
};

// A key pair written by `metlogctl curve-keygen`, as an operator makes one.
KeyFiles KeyGen(const std::string& name) {
  const std::string public_file = TempPath(name + ".pub");
  const std::string secret_file = TempPath(name + ".key");
  EXPECT_EQ(
      std::system(absl::StrCat(Runfile("tools/metlogctl"), " curve-keygen ",
                               public_file, " ", secret_file, " > /dev/null")
                      .c_str()),
      0);
  return {std::string(absl::StripAsciiWhitespace(ReadFile(public_file))),
          std::string(absl::StripAsciiWhitespace(ReadFile(secret_file))),
          secret_file};
}

// One zmq input named `input_name`, with `input_options` (text proto), and
// a file sink writing every message to `sink_file`.
std::string Config(const std::string& input_name,
                   const std::string& input_options,
                   const std::string& sink_file) {
  return absl::StrCat(
      R"(inputs { name: ")", input_name,
      R"(" options { [type.googleapis.com/metlog.v1.ZmqInputConfig] {
        endpoint: "tcp://127.0.0.1:*" )",
      input_options, R"( } } }
      admin { listen_address: "127.0.0.1:0" }
      stats_interval_ms: 0
      sinks { name: "all" queue { flush_interval_ms: 10 }
        options { [type.googleapis.com/metlog.sinks.FileOptions] {
          path: ")",
      sink_file, R"(" encoding { codec: PROTOBUF } } } })");
}

// ZmqInputConfig.curve with `router`'s key and the allow-list in
// `allowed_file`.
std::string CurveOptions(const KeyFiles& router,
                         const std::string& allowed_file) {
  return absl::StrCat(R"(curve { secret_key_file: ")", router.secret_key_file,
                      R"(" allowed_clients_file: ")", allowed_file, R"(" })");
}

std::string Config(const KeyFiles& router, const std::string& allowed_file) {
  return Config("curve", CurveOptions(router, allowed_file),
                TempPath("curve_all.pb"));
}

// A real client of the router's input; CURVE with `keys` unless empty.
std::unique_ptr<Client> MakeCurveClient(const RouterProcess& router,
                                        const std::string& server_public_key,
                                        const KeyFiles& keys) {
  v1::ClientConfig config;
  config.add_endpoints(router.endpoint());
  config.set_logger("curve_e2e");
  if (!keys.public_key.empty()) {
    config.mutable_curve()->set_server_public_key(server_public_key);
    config.mutable_curve()->set_public_key(keys.public_key);
    config.mutable_curve()->set_secret_key(keys.secret_key);
  }
  auto client = MakeClient(config);
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? *std::move(client) : nullptr;
}

std::map<std::string, int> CounterNames(
    const std::string& sink_file = TempPath("curve_all.pb")) {
  std::map<std::string, int> names;
  for (const v1::Message& m : testing::ReadProtobufRecords(sink_file)) {
    for (const v1::Field& field : m.fields()) {
      if (field.name() == "name") ++names[field.value_string(0)];
    }
  }
  return names;
}

v1::InputStats InputStats(const RouterProcess& router) {
  auto stub = v1::Admin::NewStub(grpc::CreateChannel(
      router.admin_address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  v1::StatsResponse stats;
  EXPECT_TRUE(stub->Stats(&context, {}, &stats).ok());
  return stats.inputs_size() > 0 ? stats.inputs(0) : v1::InputStats();
}

// Sends `count` counters named `name`, one packet each.
void Send(Client* client, const std::string& name, int count) {
  for (int i = 0; i < count; ++i) {
    client->Incr(name);
    ASSERT_TRUE(client->Flush(absl::Seconds(5)));
  }
}

TEST(CurveTest, UnlistedClientsAreRefusedWhileAllowedOnesFlow) {
  const KeyFiles router_keys = KeyGen("router");
  const KeyFiles allowed = KeyGen("allowed");
  const KeyFiles also_allowed = KeyGen("also_allowed");
  const KeyFiles stranger = KeyGen("stranger");
  const std::string allowed_file = TempPath("allowed_clients.txt");
  std::ofstream(allowed_file) << "# the billing hosts\n"
                              << allowed.public_key << "\n\n"
                              << also_allowed.public_key << "\n";
  auto router =
      RouterProcess::Start("curve", Config(router_keys, allowed_file));
  ASSERT_TRUE(router.ok()) << router.status();

  auto good = MakeCurveClient(*router, router_keys.public_key, allowed);
  auto other_good =
      MakeCurveClient(*router, router_keys.public_key, also_allowed);
  auto unlisted = MakeCurveClient(*router, router_keys.public_key, stranger);
  auto plaintext = MakeCurveClient(*router, "", KeyFiles());
  ASSERT_TRUE(good && other_good && unlisted && plaintext);

  // The refused clients' messages wait in their own queues for a handshake
  // that never succeeds; their Flush result says nothing about the router.
  for (Client* refused : {unlisted.get(), plaintext.get()}) {
    for (int i = 0; i < 5; ++i) refused->Incr("refused");
    refused->Flush(absl::Milliseconds(100));
  }
  Send(good.get(), "allowed", 5);
  v1::InputStats stats;
  absl::Time deadline = absl::Now() + absl::Seconds(20);
  do {
    stats = InputStats(*router);
  } while ((stats.clients_refused() == 0 || stats.messages_accepted() < 5) &&
           absl::Now() < deadline);
  ASSERT_GT(stats.clients_refused(), 0u);
  // Allowed clients keep flowing after a refusal.
  Send(other_good.get(), "also_allowed", 5);
  deadline = absl::Now() + absl::Seconds(20);
  do {
    stats = InputStats(*router);
  } while (stats.messages_accepted() < 10 && absl::Now() < deadline);
  deadline = absl::Now() + absl::Seconds(20);
  while (CounterNames().size() < 2 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }

  const std::string out = TempPath("curve_stats.out");
  ASSERT_EQ(std::system(absl::StrCat(Runfile("tools/metlogctl"), " --admin=",
                                     router->admin_address(), " stats > ", out)
                            .c_str()),
            0);
  EXPECT_THAT(ReadFile(out), HasSubstr("input curve: packets 10, messages "
                                       "accepted 10, clients refused "));
  ASSERT_TRUE(router->Stop().ok());
  EXPECT_THAT(router->Stderr(),
              HasSubstr("refused CURVE client " + stranger.public_key));

  EXPECT_EQ(stats.packets_received(), 10u);
  EXPECT_EQ(stats.messages_accepted(), 10u);
  EXPECT_TRUE(stats.rejected().empty());
  EXPECT_EQ(CounterNames(),
            (std::map<std::string, int>{{"allowed", 5}, {"also_allowed", 5}}));
}

// A client that ZeroMQ's handshake refuses before the ZAP handler is asked.
struct HandshakeFailure {
  const char* name;
  // Whether the input is a CURVE server.
  bool curve_input;
  // The refused client: CURVE (with an allowed key) or none.
  bool curve_client;
  // Whether the refused client holds the right server public key.
  bool right_server_key;
};

class HandshakeFailureTest : public ::testing::TestWithParam<HandshakeFailure> {
};

TEST_P(HandshakeFailureTest, IsRefusedAndCountedWhileAllowedClientsFlow) {
  const HandshakeFailure& failure = GetParam();
  const std::string name = failure.name;
  const KeyFiles router_keys = KeyGen(name + "_router");
  const KeyFiles allowed = KeyGen(name + "_allowed");
  const KeyFiles other_server = KeyGen(name + "_other_server");
  const std::string allowed_file = TempPath(name + "_allowed_clients.txt");
  std::ofstream(allowed_file) << allowed.public_key << "\n";
  const std::string sink_file = TempPath(name + ".pb");
  auto router = RouterProcess::Start(
      name,
      Config("in",
             failure.curve_input ? CurveOptions(router_keys, allowed_file) : "",
             sink_file));
  ASSERT_TRUE(router.ok()) << router.status();

  auto good = MakeCurveClient(*router, router_keys.public_key,
                              failure.curve_input ? allowed : KeyFiles());
  auto refused =
      MakeCurveClient(*router,
                      failure.right_server_key ? router_keys.public_key
                                               : other_server.public_key,
                      failure.curve_client ? allowed : KeyFiles());
  ASSERT_TRUE(good && refused);
  for (int i = 0; i < 5; ++i) refused->Incr("refused");
  refused->Flush(absl::Milliseconds(100));
  Send(good.get(), "allowed", 5);

  // A refused ZeroMQ client reconnects and fails again: each attempt counts.
  v1::InputStats stats;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  do {
    stats = InputStats(*router);
  } while ((stats.clients_refused() == 0 || stats.messages_accepted() < 5) &&
           absl::Now() < deadline);
  EXPECT_GE(stats.clients_refused(), 1u);
  while (CounterNames(sink_file).empty() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_TRUE(router->Stop().ok());
  EXPECT_THAT(router->Stderr(), HasSubstr("input in: refused a connection"));
  EXPECT_EQ(stats.packets_received(), 5u);
  EXPECT_EQ(stats.messages_accepted(), 5u);
  EXPECT_TRUE(stats.rejected().empty());
  EXPECT_EQ(CounterNames(sink_file),
            (std::map<std::string, int>{{"allowed", 5}}));
}

INSTANTIATE_TEST_SUITE_P(
    ZeroMqRefuses, HandshakeFailureTest,
    ::testing::Values(
        HandshakeFailure{"no_curve", /*curve_input=*/true,
                         /*curve_client=*/false, /*right_server_key=*/true},
        HandshakeFailure{"wrong_server_key", /*curve_input=*/true,
                         /*curve_client=*/true, /*right_server_key=*/false},
        HandshakeFailure{"curve_on_plain_input", /*curve_input=*/false,
                         /*curve_client=*/true, /*right_server_key=*/true}),
    [](const ::testing::TestParamInfo<HandshakeFailure>& info) {
      return std::string(info.param.name);
    });

TEST(CurveTest, CheckNamesAMissingKeyFile) {
  const std::string config = TempPath("missing_key.textproto");
  std::ofstream(config)
      << R"(inputs { options { [type.googleapis.com/metlog.v1.ZmqInputConfig] { curve {
      secret_key_file: "/nonexistent/router.key"
      allowed_client_keys: "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7" } } } }
      sinks { name: "null"
              options { [type.googleapis.com/metlog.sinks.NullOptions] {} } })";
  const std::string out = TempPath("missing_key.out");
  const int status =
      std::system(absl::StrCat(Runfile("router/router"),
                               " --check --config=", config, " 2> ", out)
                      .c_str());
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_THAT(ReadFile(out), HasSubstr("secret_key_file: cannot read "
                                       "\"/nonexistent/router.key\""));
}

TEST(CurveTest, CheckWarnsAboutAnInputBeyondLoopbackOnlyWithoutCurve) {
  const KeyFiles router_keys = KeyGen("check_router");
  const KeyFiles client = KeyGen("check_client");
  const std::string sink = R"(
      sinks { name: "null"
              options { [type.googleapis.com/metlog.sinks.NullOptions] {} } })";
  const std::string config = TempPath("exposed.textproto");
  const std::string out = TempPath("exposed.out");
  const std::string check = absl::StrCat(
      Runfile("router/router"), " --check --config=", config, " 2> ", out);

  std::ofstream(config)
      << R"(inputs { name: "open" options { [type.googleapis.com/metlog.v1.ZmqInputConfig] {
      endpoint: "tcp://0.0.0.0:5565" } } })"
      << sink;
  ASSERT_EQ(std::system(check.c_str()), 0);
  EXPECT_THAT(ReadFile(out), HasSubstr("warning: input \"open\" listens on "
                                       "tcp://0.0.0.0:5565, beyond loopback"));

  std::ofstream(config)
      << R"(inputs { name: "curve" options { [type.googleapis.com/metlog.v1.ZmqInputConfig] {
      endpoint: "tcp://0.0.0.0:5565"
      curve { secret_key_file: ")"
      << router_keys.secret_key_file << R"(" allowed_client_keys: ")"
      << client.public_key << R"(" } } } })" << sink;
  ASSERT_EQ(std::system(check.c_str()), 0);
  EXPECT_EQ(ReadFile(out), "");
}

}  // namespace
}  // namespace metlog
