// The archive sink in the real router, queried with DuckDB (npm
// @duckdb/node-api in $METLOG_PEERS_DIR, installed by
// tools/bootstrap.sh --peers) as Hive would: messages of several types over
// two days, the router SIGKILLed once mid-run with files open and restarted,
// then every message delivered is in the archive, counted per dt and type,
// and no partial file is ever visible to the query.
#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/admin.grpc.pb.h"
#include "rapidjson/document.h"
#include "tools/testing/router_process.h"

namespace metlog {
namespace {

using testing::RouterProcess;
using testing::Runfile;
using testing::TempPath;

constexpr int kBatchSize = 500;
// The issue's 1 M messages by default (about 12 s here); fewer with
// --test_env=METLOG_ARCHIVE_E2E_BATCHES=N.
const int kBatches = [] {
  const char* batches = std::getenv("METLOG_ARCHIVE_E2E_BATCHES");
  return batches != nullptr ? std::atoi(batches) : 2000;
}();
constexpr const char* kTypes[] = {"log", "timer", "counter", "exception"};
// 2026-11-25T23:00:00Z: messages spread over the hour before and after
// midnight, so two dt partitions.
constexpr int64_t kStartNs = int64_t{1795647600} * 1000000000;

using Counts = std::map<std::pair<std::string, std::string>, int64_t>;

std::string Config(const std::string& root) {
  return absl::StrCat(R"(
    inputs { options { [type.googleapis.com/metlog.v1.ZmqInputConfig] { endpoint: "tcp://127.0.0.1:*" } } }
    inputs { options { [type.googleapis.com/metlog.v1.GrpcPublishInputConfig] {} } }
    admin { listen_address: "127.0.0.1:0" }
    stats_interval_ms: 0
    sinks { name: "archive" match: "TRUE"
      queue { flush_interval_ms: 10 overflow: BLOCK }
      options { [type.googleapis.com/metlog.sinks.ArchiveOptions] {
        root: ")",
                      root, R"(" router: "e2e" max_file_bytes: 200000
        max_file_age_ms: 600000 } } })");
}

std::unique_ptr<v1::Admin::Stub> Admin(const RouterProcess& router) {
  return v1::Admin::NewStub(grpc::CreateChannel(
      router.admin_address(), grpc::InsecureChannelCredentials()));
}

// Publishes batches [first, last) and adds what was accepted to *sent.
void Publish(const RouterProcess& router, int first, int last, Counts* sent) {
  auto admin = Admin(router);
  for (int b = first; b < last; ++b) {
    v1::Batch batch;
    Counts in_batch;
    for (int i = 0; i < kBatchSize; ++i) {
      const int n = b * kBatchSize + i;
      v1::Message* message = batch.add_messages();
      message->set_type(kTypes[n % 4]);
      // Two hours over kBatches batches: 23:xx on the 25th, 00:xx on the 26th.
      const int64_t ns = kStartNs + int64_t{7200} * 1000000000 * b / kBatches;
      message->set_timestamp(ns + i);
      message->set_payload(absl::StrCat("message ", n));
      ++in_batch[{b * 2 < kBatches ? "2026-11-25" : "2026-11-26",
                  kTypes[n % 4]}];
    }
    grpc::ClientContext context;
    v1::Ack ack;
    ASSERT_TRUE(admin->Publish(&context, batch, &ack).ok());
    ASSERT_EQ(ack.accepted(), static_cast<uint64_t>(kBatchSize));
    ASSERT_EQ(ack.dropped(), 0u);
    for (const auto& [key, n] : in_batch) (*sent)[key] += n;
  }
}

uint64_t Delivered(const RouterProcess& router) {
  grpc::ClientContext context;
  v1::StatsResponse stats;
  if (!Admin(router)->Stats(&context, {}, &stats).ok()) return 0;
  for (const auto& sink : stats.sinks()) {
    if (sink.name() == "archive") return sink.delivered();
  }
  return 0;
}

// What DuckDB reads from the archive; fails the test if it cannot read it
// (a partial gzip file would fail the query).
Counts Query(const std::string& root) {
  const std::string command = absl::StrCat(
      "node ", Runfile("integration_tests/archive_duckdb_query.js"), " '", root,
      "' 2>&1");
  FILE* pipe = popen(command.c_str(), "r");
  std::string output;
  char buffer[4096];
  size_t got;
  while ((got = fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
    output.append(buffer, got);
  }
  const int status = pclose(pipe);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << output;
  rapidjson::Document rows;
  rows.Parse(output.c_str());
  Counts counts;
  if (rows.HasParseError() || !rows.IsArray()) {
    ADD_FAILURE() << "DuckDB said: " << output;
    return counts;
  }
  for (const auto& row : rows.GetArray()) {
    counts[{row["dt"].GetString(), row["type"].GetString()}] =
        row["n"].GetInt64();
  }
  return counts;
}

size_t TemporaryFiles(const std::string& root) {
  size_t files = 0;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(root)) {
    if (entry.path().extension() == ".tmp") ++files;
  }
  return files;
}

TEST(ArchiveEndToEndTest, SurvivesSigkillAndDuckDbCountsEveryMessage) {
  const std::string root = TempPath("archive");
  std::filesystem::create_directories(root);
  Counts sent;

  auto router = RouterProcess::Start("archive1", Config(root));
  ASSERT_TRUE(router.ok()) << router.status();
  Publish(*router, 0, kBatches / 2, &sent);
  const uint64_t first_half = static_cast<uint64_t>(kBatches) / 2 * kBatchSize;
  const absl::Time deadline = absl::Now() + absl::Seconds(120);
  while (Delivered(*router) < first_half && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_EQ(Delivered(*router), first_half);
  ASSERT_GT(kBatches, 1);
  // Files still open (max_file_age_ms is long): killed, they stay temporary.
  ASSERT_GT(TemporaryFiles(root), 0u);
  ASSERT_EQ(kill(router->pid(), SIGKILL), 0);
  (void)router->Stop(absl::Seconds(5));  // reaps it

  // Only published files are visible, and each reads whole.
  Counts before_restart = Query(root);
  int64_t visible = 0;
  for (const auto& [key, n] : before_restart) visible += n;
  EXPECT_LT(visible, static_cast<int64_t>(first_half));

  router = RouterProcess::Start("archive2", Config(root));
  ASSERT_TRUE(router.ok()) << router.status();
  EXPECT_NE(router->Stderr().find("after a crash"), std::string::npos)
      << router->Stderr();
  Publish(*router, kBatches / 2, kBatches, &sent);
  ASSERT_TRUE(router->Stop(absl::Seconds(30)).ok());

  EXPECT_EQ(TemporaryFiles(root), 0u);
  EXPECT_EQ(Query(root), sent);
  EXPECT_EQ(sent.size(), 8u);  // 2 days × 4 types
}

}  // namespace
}  // namespace metlog
