// Overflow DISK with the real router binary: kill -9 under gRPC load loses
// no acknowledged message; a full or unusable disk buffer is a clear,
// counted error that leaves the router and its other sinks serving.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/admin.grpc.pb.h"
#include "rapidjson/document.h"
#include "tools/testing/router_process.h"

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
std::string FileSink(const std::string& name, const std::string& queue,
                     const std::string& options = "") {
  return absl::StrCat("sinks { name: \"", name, "\" queue { ", queue,
                      " } options { [type.googleapis.com/metlog.sinks."
                      "FileOptions] { path: \"",
                      TempPath(name + ".jsonl"), "\" ", options, " } } }\n");
}

std::string DiskQueue(const std::string& dir, const std::string& extra,
                      int max_batch_messages = 100) {
  return absl::StrCat(
      "capacity_messages: 1000 max_batch_messages: ", max_batch_messages,
      " flush_interval_ms: 10 overflow: DISK disk { dir: \"", dir, "\" ", extra,
      " }");
}

// How many times each payload appears in the file sink's output.
std::map<std::string, int> PayloadCounts(const std::string& name) {
  std::map<std::string, int> counts;
  std::ifstream file(TempPath(name + ".jsonl"));
  std::string line;
  while (std::getline(file, line)) {
    rapidjson::Document json;
    json.Parse(line.data(), line.size());
    if (!json.HasParseError() && json.IsObject() && json.HasMember("payload") &&
        json["payload"].IsString()) {
      ++counts[json["payload"].GetString()];
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
      absl::SleepFor(absl::Milliseconds(1));  // a steady rate
    }
  }
};

// A carbon stand-in that records the lines it reads and can go away (its
// listener closed, its connections shut so the sink sees them closed, yet
// read to the end so nothing sent before is lost) and come back on the same
// port.
class LineServer {
 public:
  LineServer() {
    Listen(0);
    thread_ = std::thread([this] { Serve(); });
  }
  ~LineServer() {
    stop_ = true;
    thread_.join();
    absl::MutexLock lock(&mu_);
    if (listener_ >= 0) close(listener_);
    for (const auto& [fd, partial] : connections_) close(fd);
  }

  int port() const { return port_; }

  void GoAway() {
    absl::MutexLock lock(&mu_);
    close(listener_);
    listener_ = -1;
    for (const auto& [fd, partial] : connections_) shutdown(fd, SHUT_WR);
  }

  void ComeBack() {
    absl::MutexLock lock(&mu_);
    Listen(port_);
  }

  // How many times each metric name arrived.
  std::map<std::string, int> Counts() {
    absl::MutexLock lock(&mu_);
    return counts_;
  }

 private:
  void Listen(int port) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    listener_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<uint16_t>(port));
    EXPECT_EQ(
        bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof(address)),
        0);
    EXPECT_EQ(listen(listener_, 16), 0);
    socklen_t size = sizeof(address);
    getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size);
    port_ = ntohs(address.sin_port);
  }

  void Serve() {
    while (!stop_) {
      std::vector<pollfd> fds;
      {
        absl::MutexLock lock(&mu_);
        if (listener_ >= 0) fds.push_back({listener_, POLLIN, 0});
        for (const auto& [fd, partial] : connections_) {
          fds.push_back({fd, POLLIN, 0});
        }
      }
      if (poll(fds.data(), fds.size(), 10) <= 0) continue;
      absl::MutexLock lock(&mu_);
      for (const pollfd& p : fds) {
        if ((p.revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        if (p.fd == listener_) {
          const int fd = accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
          if (fd >= 0) connections_[fd] = "";
          continue;
        }
        auto it = connections_.find(p.fd);
        if (it == connections_.end()) continue;
        char buffer[65536];
        const ssize_t n = read(p.fd, buffer, sizeof(buffer));
        if (n <= 0) {
          close(p.fd);
          connections_.erase(it);
          continue;
        }
        std::string& partial = it->second;
        partial.append(buffer, static_cast<size_t>(n));
        size_t line_end;
        while ((line_end = partial.find('\n')) != std::string::npos) {
          const std::string line = partial.substr(0, line_end);
          partial.erase(0, line_end + 1);
          ++counts_[line.substr(0, line.find(' '))];
        }
      }
    }
  }

  std::atomic<bool> stop_{false};
  absl::Mutex mu_;
  int listener_ ABSL_GUARDED_BY(mu_) = -1;
  int port_ = 0;
  std::map<int, std::string> connections_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int> counts_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

std::string CarbonSink(const std::string& name, const std::string& queue,
                       int port) {
  return absl::StrCat("sinks { name: \"", name, "\" queue { ", queue,
                      " } options { [type.googleapis.com/metlog.sinks."
                      "CarbonOptions] { address: \"127.0.0.1:",
                      port, "\" prefix: \"", name, ".\" } } }\n");
}

// Waits (bounded) until the sink has nothing queued or in flight.
void AwaitDrained(const RouterProcess& router, const std::string& name,
                  absl::Duration timeout) {
  const absl::Time give_up = absl::Now() + timeout;
  while (absl::Now() < give_up) {
    const v1::SinkStats* sink = nullptr;
    const v1::StatsResponse stats = Stats(router);
    sink = SinkNamed(stats, name);
    if (sink != nullptr && sink->queued() == 0 && sink->in_flight() == 0) {
      return;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
}

// Waits (bounded) until the server has read as many distinct `prefix`
// metrics as the sink reports delivered: a write the sink finished may not
// have been read yet.
std::map<std::string, int> AwaitLines(LineServer& server,
                                      const std::string& prefix,
                                      uint64_t delivered) {
  const absl::Time give_up = absl::Now() + absl::Seconds(10);
  std::map<std::string, int> counts;
  for (;;) {
    counts = server.Counts();
    uint64_t seen = 0;
    for (const auto& [name, n] : counts) {
      if (name.rfind(prefix, 0) == 0) ++seen;
    }
    if (seen >= delivered || absl::Now() > give_up) return counts;
    absl::SleepFor(absl::Milliseconds(10));
  }
}

TEST(DurabilityEndToEndTest, ABackEndGoneForSecondsLosesNothingWithDisk) {
  LineServer carbon;
  const std::string config = absl::StrCat(
      kInputs,
      CarbonSink("disk", DiskQueue(TempPath("gone_buffer"), "fsync: NEVER"),
                 carbon.port()),
      CarbonSink("drop",
                 "capacity_messages: 1000 max_batch_messages: 100 "
                 "flush_interval_ms: 10",
                 carbon.port()));
  auto router = RouterProcess::Start("gone", config);
  ASSERT_TRUE(router.ok()) << router.status();
  auto stub = AdminStub(*router);
  int sent = 0;
  int acknowledged = 0;
  // About 2000 messages a second: 1 s up, 3 s gone, 1 s back.
  auto publish_for = [&](absl::Duration how_long) {
    const absl::Time until = absl::Now() + how_long;
    while (absl::Now() < until) {
      v1::Batch batch;
      for (int i = 0; i < 10; ++i) {
        v1::Message* m = batch.add_messages();
        m->set_type("counter");
        m->set_payload("1");
        v1::Field* name = m->add_fields();
        name->set_name("name");
        name->add_value_string(absl::StrCat("m", sent + i));
      }
      grpc::ClientContext context;
      v1::Ack ack;
      ASSERT_TRUE(stub->Publish(&context, batch, &ack).ok());
      sent += 10;
      acknowledged += static_cast<int>(ack.accepted());
      absl::SleepFor(absl::Milliseconds(5));
    }
  };
  publish_for(absl::Seconds(1));
  carbon.GoAway();
  publish_for(absl::Seconds(3));
  carbon.ComeBack();
  publish_for(absl::Seconds(1));
  AwaitDrained(*router, "disk", absl::Seconds(60));
  AwaitDrained(*router, "drop", absl::Seconds(60));

  const v1::StatsResponse stats = Stats(*router);
  for (const std::string name : {"disk", "drop"}) {
    const v1::SinkStats* sink = SinkNamed(stats, name);
    ASSERT_NE(sink, nullptr);
    const std::map<std::string, int> counts =
        AwaitLines(carbon, name + ".", sink->delivered());
    int unique = 0;
    int duplicated = 0;
    for (int i = 0; i < sent; ++i) {
      auto it = counts.find(absl::StrCat(name, ".m", i));
      if (it == counts.end()) continue;
      ++unique;
      duplicated += it->second - 1;
    }
    uint64_t dropped = 0;
    for (const auto& [reason, n] : sink->dropped()) dropped += n;
    std::cout << "back end gone 3 s, " << name << ": sent " << sent
              << ", acknowledged " << acknowledged << ", delivered " << unique
              << ", duplicated " << duplicated << ", lost " << (sent - unique)
              << ", counted dropped " << dropped << "\n";
    EXPECT_EQ(sink->queued() + sink->in_flight(), 0u);
    EXPECT_EQ(sink->received(), static_cast<uint64_t>(sent));
    EXPECT_EQ(sink->received(), sink->delivered() + dropped);
    // What did not arrive is exactly what was counted dropped.
    EXPECT_EQ(static_cast<uint64_t>(sent - unique), dropped) << name;
    // The DROP sink, with the same memory queue, shows that memory
    // overflowed; DISK kept it all.
    if (name == "disk") EXPECT_EQ(unique, sent);
  }
  EXPECT_EQ(router->Stop().value_or(-1), 0);
}

TEST(DurabilityEndToEndTest, ABlockSinkPushesBackOnTheCallerWhileOthersFlow) {
  LineServer carbon;
  carbon.GoAway();  // down from the start: the BLOCK queue fills
  const std::string config =
      absl::StrCat(kInputs,
                   CarbonSink("blocked",
                              "capacity_messages: 50 max_batch_messages: 10 "
                              "flush_interval_ms: 10 overflow: BLOCK",
                              carbon.port()),
                   FileSink("flowing", "flush_interval_ms: 10"));
  auto router = RouterProcess::Start("block", config);
  ASSERT_TRUE(router.ok()) << router.status();
  auto stub = AdminStub(*router);
  int sent = 0;
  int acknowledged = 0;
  int timed_out = 0;
  for (int call = 0; call < 20 && timed_out == 0; ++call) {
    v1::Batch batch;
    for (int i = 0; i < 10; ++i) {
      v1::Message* m = batch.add_messages();
      m->set_type("counter");
      m->set_payload("1");
      v1::Field* name = m->add_fields();
      name->set_name("name");
      name->add_value_string(absl::StrCat("m", sent + i));
    }
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::milliseconds(500));
    v1::Ack ack;
    const grpc::Status status = stub->Publish(&context, batch, &ack);
    sent += 10;
    if (status.ok()) {
      acknowledged += static_cast<int>(ack.accepted());
      EXPECT_EQ(ack.dropped(), 0u);
    } else {
      EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
      ++timed_out;
    }
  }
  // The caller felt the back-pressure: a call that waited for room.
  EXPECT_EQ(timed_out, 1);
  {
    const v1::StatsResponse stats = Stats(*router);
    const v1::SinkStats* flowing = SinkNamed(stats, "flowing");
    ASSERT_NE(flowing, nullptr);
    // The other sink has everything the caller got acknowledged, delivered.
    EXPECT_GE(flowing->delivered(), static_cast<uint64_t>(acknowledged));
    EXPECT_EQ(flowing->dropped_size(), 0);
  }
  carbon.ComeBack();
  AwaitDrained(*router, "blocked", absl::Seconds(60));
  const v1::StatsResponse stats = Stats(*router);
  const v1::SinkStats* blocked = SinkNamed(stats, "blocked");
  ASSERT_NE(blocked, nullptr);
  const std::map<std::string, int> counts =
      AwaitLines(carbon, "blocked.", blocked->delivered());
  int delivered = 0;
  int duplicated = 0;
  for (int i = 0; i < sent; ++i) {
    auto it = counts.find(absl::StrCat("blocked.m", i));
    if (it == counts.end()) continue;
    ++delivered;
    duplicated += it->second - 1;
  }
  std::cout << "BLOCK, back end down: sent " << sent << ", acknowledged "
            << acknowledged << ", calls timed out " << timed_out
            << ", delivered " << delivered << ", duplicated " << duplicated
            << ", lost " << (sent - delivered) << "\n";
  // Even the batch whose call timed out was taken once room came.
  EXPECT_EQ(delivered, sent);
  EXPECT_EQ(blocked->dropped_size(), 0);
  EXPECT_EQ(router->Stop().value_or(-1), 0);
}

TEST(DurabilityEndToEndTest, KillNineLosesNoAcknowledgedMessage) {
  const std::string config = absl::StrCat(
      kInputs,
      // A file fsynced every 20 messages is slower than the publisher, so
      // a backlog waits on disk when the router is killed.
      FileSink("kill9",
               DiskQueue(TempPath("kill9_buffer"),
                         "write_through: true fsync: NEVER",
                         /*max_batch_messages=*/20),
               "sync: EVERY_BATCH"));
  auto router = RouterProcess::Start("kill9_first", config);
  ASSERT_TRUE(router.ok()) << router.status();

  Publisher publisher;
  std::thread load(
      [&] { publisher.Run(router->admin_address(), /*batch_size=*/10); });
  // Let the load run, with deliveries going on, then kill the router
  // mid-stream.
  absl::SleepFor(absl::Seconds(2));
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  {
    const v1::StatsResponse stats1 = Stats(*router);
    const v1::SinkStats* sink = SinkNamed(stats1, "kill9");
    ASSERT_NE(sink, nullptr);
    std::cout << "before kill -9: " << sink->ShortDebugString() << "\n";
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
      const v1::StatsResponse stats2 = Stats(*restarted);
      const v1::SinkStats* sink = SinkNamed(stats2, "kill9");
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
  EXPECT_LE(duplicated, 20u);  // at most one batch (max_batch_messages)
  EXPECT_THAT(restarted->Stderr(), HasSubstr("replaying"));
  const v1::StatsResponse stats3 = Stats(*restarted);
  const v1::SinkStats* sink = SinkNamed(stats3, "kill9");
  ASSERT_NE(sink, nullptr);
  EXPECT_EQ(sink->disk().replayed(), sink->disk().pending_at_start());
  EXPECT_EQ(sink->received(), sink->delivered() + sink->queued() +
                                  sink->in_flight());  // nothing dropped
  EXPECT_EQ(restarted->Stop().value_or(-1), 0);
}

TEST(DurabilityEndToEndTest, AFullDiskBufferRefusesCountsAndKeepsServing) {
  // A tiny buffer stands in for a full disk (no tmpfs or loop device in the
  // sandbox): max_total_bytes of 8 KiB, full_action REFUSE_NEW, and a carbon
  // that is down (a transient error, retried), so nothing leaves the buffer.
  LineServer carbon;
  carbon.GoAway();
  const std::string config = absl::StrCat(
      kInputs,
      CarbonSink("full",
                 absl::StrCat("capacity_messages: 1 max_retry_duration_ms: "
                              "600000 overflow: DISK disk { dir: \"",
                              TempPath("full_buffer"),
                              "\" max_segment_bytes: 4096 max_total_bytes: "
                              "8192 full_action: REFUSE_NEW }"),
                 carbon.port()),
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
      v1::Message* m = batch.add_messages();
      m->set_type("counter");
      m->set_payload("1");
      v1::Field* name = m->add_fields();
      name->set_name("name");
      name->add_value_string(std::string(200, 'x'));
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
