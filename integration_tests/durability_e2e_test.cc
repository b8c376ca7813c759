// Overflow DISK with the real router binary: kill -9 under gRPC load loses
// no acknowledged message; a full or unusable disk buffer is a clear,
// counted error that leaves the router and its other sinks serving.
#include <signal.h>

#include <atomic>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "integration_tests/router_process.h"
#include "proto/admin.grpc.pb.h"

namespace metlog {
namespace {

using ::testing::HasSubstr;
using testing::RouterProcess;
using testing::TempPath;

constexpr char kInputs[] = R"(
  inputs { zmq { endpoint: "tcp://127.0.0.1:*" } }
  admin { listen_address: "127.0.0.1:0" }
  stats_interval_ms: 0
)";

// A file sink writing JSON lines to $TEST_TMPDIR/<name>.jsonl, whose queue
// is `queue`.
std::string FileSink(const std::string& name, const std::string& queue) {
  return absl::StrCat("sinks { name: \"", name, "\" queue { ", queue,
                      " } options { [type.googleapis.com/metlog.sinks."
                      "FileOptions] { path: \"",
                      TempPath(name + ".jsonl"), "\" } } }\n");
}

std::string DiskQueue(const std::string& dir, const std::string& extra) {
  return absl::StrCat(
      "capacity_messages: 1000 max_batch_messages: 100 flush_interval_ms: 10 "
      "overflow: DISK disk { dir: \"",
      dir, "\" ", extra, " }");
}

// How many times each payload appears in the file sink's output.
std::map<std::string, int> PayloadCounts(const std::string& name) {
  std::map<std::string, int> counts;
  std::ifstream file(TempPath(name + ".jsonl"));
  std::string line;
  while (std::getline(file, line)) {
    v1::Message m;
    if (google::protobuf::util::JsonStringToMessage(line, &m).ok()) {
      ++counts[m.payload()];
    }
  }
  return counts;
}

std::unique_ptr<v1::Admin::Stub> AdminStub(const RouterProcess& router) {
  return v1::Admin::NewStub(grpc::CreateChannel(
      router.admin_address(), grpc::InsecureChannelCredentials()));
}

const v1::SinkStats* SinkNamed(const v1::StatsResponse& stats,
                               const std::string& name) {
  for (const auto& sink : stats.sinks()) {
    if (sink.name() == name) return &sink;
  }
  return nullptr;
}

v1::StatsResponse Stats(const RouterProcess& router) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(5));
  v1::StatsResponse stats;
  EXPECT_TRUE(AdminStub(router)->Stats(&context, {}, &stats).ok());
  return stats;
}

// Publishes batches of `batch_size` numbered messages through gRPC until a
// call fails or `stop` is set; records the numbers acknowledged with
// nothing dropped.
struct Publisher {
  std::atomic<bool> stop{false};
  std::atomic<int> sent{0};
  std::vector<int> acknowledged;  // read after join

  void Run(const std::string& address, int batch_size) {
    auto stub = v1::Admin::NewStub(
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
    int next = 0;
    while (!stop.load()) {
      v1::Batch batch;
      for (int i = 0; i < batch_size; ++i) {
        batch.add_messages()->set_payload(absl::StrCat(next + i));
      }
      sent += batch_size;
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() +
                           std::chrono::seconds(5));
      v1::Ack ack;
      if (!stub->Publish(&context, batch, &ack).ok()) return;
      if (ack.accepted() == static_cast<uint64_t>(batch_size) &&
          ack.dropped() == 0) {
        for (int i = 0; i < batch_size; ++i) acknowledged.push_back(next + i);
      }
      next += batch_size;
    }
  }
};

TEST(DurabilityEndToEndTest, KillNineLosesNoAcknowledgedMessage) {
  const std::string config = absl::StrCat(
      kInputs,
      FileSink("kill9", DiskQueue(TempPath("kill9_buffer"),
                                  "write_through: true fsync: NEVER")));
  auto router = RouterProcess::Start("kill9_first", config);
  ASSERT_TRUE(router.ok()) << router.status();

  Publisher publisher;
  std::thread load(
      [&] { publisher.Run(router->admin_address(), /*batch_size=*/10); });
  // Let the load run, with deliveries going on, then kill the router
  // mid-stream.
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  while (PayloadCounts("kill9").size() < 2000 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_EQ(kill(router->pid(), SIGKILL), 0);
  load.join();  // its next call fails
  ASSERT_GT(publisher.acknowledged.size(), 0u);

  auto restarted = RouterProcess::Start("kill9_second", config);
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  const std::string last = absl::StrCat(publisher.acknowledged.back());
  std::map<std::string, int> counts;
  while (absl::Now() < give_up + absl::Seconds(20)) {
    counts = PayloadCounts("kill9");
    if (counts.count(last) > 0) {
      const v1::SinkStats* sink = SinkNamed(Stats(*restarted), "kill9");
      if (sink != nullptr && sink->queued() == 0 && sink->in_flight() == 0) {
        break;
      }
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  counts = PayloadCounts("kill9");
  size_t lost = 0;
  for (int n : publisher.acknowledged) {
    if (counts.count(absl::StrCat(n)) == 0) ++lost;
  }
  size_t duplicated = 0;
  size_t delivered = 0;
  for (const auto& [payload, count] : counts) {
    delivered += 1;
    duplicated += count - 1;
  }
  std::cout << "kill -9: sent " << publisher.sent.load() << ", acknowledged "
            << publisher.acknowledged.size() << ", delivered " << delivered
            << ", duplicated " << duplicated << ", lost " << lost << "\n";
  EXPECT_EQ(lost, 0u);
  EXPECT_LE(duplicated, 100u);  // at most one batch (max_batch_messages)
  EXPECT_THAT(restarted->Stderr(), HasSubstr("replaying"));
  const v1::SinkStats* sink = SinkNamed(Stats(*restarted), "kill9");
  ASSERT_NE(sink, nullptr);
  EXPECT_EQ(sink->disk().replayed(), sink->disk().pending_at_start());
  EXPECT_EQ(sink->received(), sink->delivered() + sink->queued() +
                                  sink->in_flight());  // nothing dropped
  EXPECT_EQ(restarted->Stop().value_or(-1), 0);
}

TEST(DurabilityEndToEndTest, AFullDiskBufferRefusesCountsAndKeepsServing) {
  // A tiny buffer stands in for a full disk (no tmpfs or loop device in the
  // sandbox): max_total_bytes of 8 KiB, full_action REFUSE_NEW, and a sink
  // whose directory does not exist (a transient error, retried), so nothing
  // leaves the buffer.
  const std::string config = absl::StrCat(
      kInputs,
      "sinks { name: \"full\" queue { capacity_messages: 1 "
      "max_retry_duration_ms: 600000 overflow: DISK disk { dir: \"",
      TempPath("full_buffer"),
      "\" max_segment_bytes: 4096 max_total_bytes: 8192 "
      "full_action: REFUSE_NEW } } options { "
      "[type.googleapis.com/metlog.sinks.FileOptions] { path: \"",
      TempPath("missing_dir/full_sink.jsonl"),
      "\" } } }\n"
      "sinks { name: \"other\" queue { flush_interval_ms: 10 } options { "
      "[type.googleapis.com/metlog.sinks.FileOptions] { path: \"",
      TempPath("full_other.jsonl"), "\" } } }\n");
  auto router = RouterProcess::Start("full", config);
  ASSERT_TRUE(router.ok()) << router.status();
  auto stub = AdminStub(*router);
  uint64_t acknowledged = 0;
  uint64_t dropped = 0;
  for (int i = 0; i < 50; ++i) {
    v1::Batch batch;
    for (int j = 0; j < 10; ++j) {
      batch.add_messages()->set_payload(std::string(200, 'x'));
    }
    grpc::ClientContext context;
    v1::Ack ack;
    ASSERT_TRUE(stub->Publish(&context, batch, &ack).ok());
    acknowledged += ack.accepted();
    dropped += ack.dropped();
  }
  const v1::StatsResponse stats = Stats(*router);
  const v1::SinkStats* full = SinkNamed(stats, "full");
  const v1::SinkStats* other = SinkNamed(stats, "other");
  ASSERT_NE(full, nullptr);
  ASSERT_NE(other, nullptr);
  std::cout << "full disk buffer: sent 500, acknowledged " << acknowledged
            << ", refused (Ack.dropped) " << dropped << ", disk_full "
            << full->dropped().at("disk_full") << ", other sink received "
            << other->received() << "\n";
  EXPECT_GT(dropped, 0u);
  EXPECT_EQ(full->dropped().at("disk_full"), dropped);
  EXPECT_EQ(full->received(),
            full->delivered() + full->queued() + full->in_flight() + dropped);
  EXPECT_EQ(other->received(), 500u);  // unaffected
  EXPECT_EQ(other->dropped_size(), 0);
  EXPECT_EQ(router->Stop().value_or(-1), 0);
}

TEST(DurabilityEndToEndTest, AnUnusableDataDirectoryIsAClearStartError) {
  const std::string file = TempPath("not_a_directory");
  std::ofstream(file) << "x";
  const std::string config = absl::StrCat(
      kInputs, FileSink("unusable", DiskQueue(file + "/buffer", "")));
  auto router = RouterProcess::Start("unusable", config);
  ASSERT_FALSE(router.ok());
  EXPECT_THAT(std::string(router.status().message()), HasSubstr("disk buffer"));
}

}  // namespace
}  // namespace metlog
