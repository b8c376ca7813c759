// Signed packets (issue 13) through the real router binary, from the C++
// client's own signing sender: an input requiring signatures refuses
// unsigned packets, unknown signers and wrong HMACs, counting each by
// reason, while allowed clients on the same input keep flowing; a sink
// with a `signers` list takes only its signers' messages.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/client_config.h"
#include "client/metlog.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "integration_tests/protobuf_records.h"
#include "proto/admin.grpc.pb.h"
#include "tools/testing/router_process.h"

namespace metlog {
namespace {

using testing::RouterProcess;
using testing::TempPath;

std::string FileSink(const std::string& name, const std::string& signers) {
  return absl::StrCat(R"( sinks { name: ")", name, R"(" )", signers,
                      R"( queue { flush_interval_ms: 10 }
      options { [type.googleapis.com/metlog.sinks.FileOptions] { path: ")",
                      TempPath(name + ".jsonl"),
                      R"(" encoding { codec: PROTOBUF } } } })");
}

std::string Config(const std::string& prefix, bool require_signature) {
  return absl::StrCat(
      R"(inputs { options { [type.googleapis.com/metlog.v1.ZmqInputConfig] { endpoint: "tcp://127.0.0.1:*" } } require_signature: )",
      require_signature ? "true" : "false", R"( }
      admin { listen_address: "127.0.0.1:0" }
      stats_interval_ms: 0
      signers { name: "billing"
                keys { version: 1 key: "billing old" }
                keys { version: 2 key: "billing new" } }
      signers { name: "ops" keys { version: 1 key: "ops key" } })",
      FileSink(prefix + "_all", ""),
      FileSink(prefix + "_billing_only", R"(signers: "billing")"));
}

// The names of the counters a sink wrote, and how often each.
std::map<std::string, int> CounterNames(const std::string& sink) {
  std::map<std::string, int> names;
  for (const v1::Message& m :
       testing::ReadProtobufRecords(TempPath(sink + ".jsonl"))) {
    for (const v1::Field& field : m.fields()) {
      if (field.name() == "name") ++names[field.value_string(0)];
    }
  }
  return names;
}

size_t Lines(const std::string& sink) {
  return testing::ReadProtobufRecords(TempPath(sink + ".jsonl")).size();
}

void WaitForLines(const std::string& sink, size_t lines) {
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (Lines(sink) < lines && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
}

v1::InputStats InputStats(const RouterProcess& router) {
  auto stub = v1::Admin::NewStub(grpc::CreateChannel(
      router.admin_address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  v1::StatsResponse stats;
  EXPECT_TRUE(stub->Stats(&context, {}, &stats).ok());
  return stats.inputs_size() > 0 ? stats.inputs(0) : v1::InputStats();
}

uint64_t Rejected(const v1::InputStats& input, const std::string& reason) {
  const auto found = input.rejected().find(reason);
  return found == input.rejected().end() ? 0 : found->second;
}

// A real client of the router's ZeroMQ input, signing when `signer` is set.
std::unique_ptr<Client> MakeSigningClient(const RouterProcess& router,
                                          const std::string& signer,
                                          uint32_t key_version,
                                          const std::string& key) {
  v1::ClientConfig config;
  config.add_endpoints(router.endpoint());
  config.set_logger("signed_e2e");
  if (!signer.empty()) {
    config.mutable_signer()->set_name(signer);
    config.mutable_signer()->set_key_version(key_version);
    config.mutable_signer()->set_key(key);
  }
  auto client = MakeClient(config);
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? *std::move(client) : nullptr;
}

// One counter per packet: Flush sends what is queued before the next.
void SendOne(Client* client, const std::string& name) {
  client->Incr(name);
  ASSERT_TRUE(client->Flush(absl::Seconds(5)));
}

TEST(SignedPacketsTest, RequiredSignaturesRefuseBadSendersWhileGoodOnesFlow) {
  auto router = RouterProcess::Start("signed_required",
                                     Config("required", /*required=*/true));
  ASSERT_TRUE(router.ok()) << router.status();
  auto billing_v1 = MakeSigningClient(*router, "billing", 1, "billing old");
  auto billing_v2 = MakeSigningClient(*router, "billing", 2, "billing new");
  auto ops = MakeSigningClient(*router, "ops", 1, "ops key");
  auto unsigned_client = MakeSigningClient(*router, "", 0, "");
  auto stranger = MakeSigningClient(*router, "stranger", 1, "ops key");
  auto old_version = MakeSigningClient(*router, "ops", 7, "ops key");
  auto forger = MakeSigningClient(*router, "billing", 2, "guessed key");
  ASSERT_TRUE(billing_v1 && billing_v2 && ops && unsigned_client && stranger &&
              old_version && forger);

  constexpr int kRounds = 5;
  for (int round = 0; round < kRounds; ++round) {
    SendOne(billing_v1.get(), "billing.v1");
    SendOne(unsigned_client.get(), "unsigned");
    SendOne(billing_v2.get(), "billing.v2");
    SendOne(stranger.get(), "stranger");
    SendOne(ops.get(), "ops");
    SendOne(old_version.get(), "old_version");
    SendOne(forger.get(), "forger");
  }
  WaitForLines("required_all", 3 * kRounds);
  WaitForLines("required_billing_only", 2 * kRounds);
  v1::InputStats stats;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  do {
    stats = InputStats(*router);
  } while (stats.packets_received() < 7 * kRounds && absl::Now() < deadline);
  ASSERT_TRUE(router->Stop().ok());

  EXPECT_EQ(stats.packets_received(), 7u * kRounds);
  EXPECT_EQ(stats.messages_accepted(), 3u * kRounds);
  EXPECT_EQ(Rejected(stats, "unsigned_packet"), 1u * kRounds);
  EXPECT_EQ(Rejected(stats, "unknown_signer"), 2u * kRounds);
  EXPECT_EQ(Rejected(stats, "bad_signature"), 1u * kRounds);
  EXPECT_EQ(
      CounterNames("required_all"),
      (std::map<std::string, int>{
          {"billing.v1", kRounds}, {"billing.v2", kRounds}, {"ops", kRounds}}));
  EXPECT_EQ(CounterNames("required_billing_only"),
            (std::map<std::string, int>{{"billing.v1", kRounds},
                                        {"billing.v2", kRounds}}));
}

TEST(SignedPacketsTest, WithoutRequirementOnlyWrongHmacsAreRefused) {
  auto router = RouterProcess::Start("signed_optional",
                                     Config("optional", /*required=*/false));
  ASSERT_TRUE(router.ok()) << router.status();
  auto billing = MakeSigningClient(*router, "billing", 1, "billing old");
  auto unsigned_client = MakeSigningClient(*router, "", 0, "");
  auto stranger = MakeSigningClient(*router, "stranger", 1, "any");
  auto forger = MakeSigningClient(*router, "ops", 1, "guessed key");
  ASSERT_TRUE(billing && unsigned_client && stranger && forger);

  SendOne(unsigned_client.get(), "unsigned");
  SendOne(forger.get(), "forger");
  SendOne(stranger.get(), "stranger");
  SendOne(billing.get(), "billing");
  WaitForLines("optional_all", 3);
  WaitForLines("optional_billing_only", 1);
  v1::InputStats stats;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  do {
    stats = InputStats(*router);
  } while (stats.packets_received() < 4 && absl::Now() < deadline);
  ASSERT_TRUE(router->Stop().ok());

  EXPECT_EQ(stats.messages_accepted(), 3u);
  EXPECT_EQ(Rejected(stats, "bad_signature"), 1u);
  EXPECT_EQ(CounterNames("optional_all"),
            (std::map<std::string, int>{
                {"unsigned", 1}, {"stranger", 1}, {"billing", 1}}));
  // Unsigned and unknown-signer packets pass the input, but not a sink that
  // lists its signers.
  EXPECT_EQ(CounterNames("optional_billing_only"),
            (std::map<std::string, int>{{"billing", 1}}));
}

}  // namespace
}  // namespace metlog
