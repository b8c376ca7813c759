// Issue 14's fault tests, with the real router binary: kill -9 under gRPC
// load loses no acknowledged message; a back end gone for 30 s loses nothing
// with DISK and exactly the counted drops without; BLOCK pushes back on gRPC
// callers and ZeroMQ clients while other sinks flow; a full disk (a real
// ENOSPC) or an unusable data directory is a clear, counted error that
// leaves the router and its other sinks serving, and data flows once fixed.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "client/metlog.h"
#include "client/senders.h"
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
  inputs { options { [type.googleapis.com/metlog.v1.ZmqInputConfig] { endpoint: "tcp://127.0.0.1:*" } } }
  inputs { options { [type.googleapis.com/metlog.v1.GrpcPublishInputConfig] {} } }
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

// Messages the sink counted dropped for `reason` (0 when none).
uint64_t Dropped(const v1::SinkStats& sink, const std::string& reason) {
  const auto it = sink.dropped().find(reason);
  return it == sink.dropped().end() ? 0 : it->second;
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
    if (placeholder_ >= 0) close(placeholder_);
    for (const auto& [fd, partial] : connections_) close(fd);
  }

  int port() const { return port_; }

  void GoAway() {
    absl::MutexLock lock(&mu_);
    // Shut, the listener refuses connections yet keeps the port bound, so
    // no other test's server gets it meanwhile and takes the sinks' writes.
    shutdown(listener_, SHUT_RD);
    placeholder_ = listener_;
    listener_ = -1;
    for (const auto& [fd, partial] : connections_) shutdown(fd, SHUT_WR);
  }

  void ComeBack() {
    absl::MutexLock lock(&mu_);
    close(placeholder_);
    placeholder_ = -1;
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
  int placeholder_ ABSL_GUARDED_BY(mu_) = -1;  // holds the port while away
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

// A counter named `name`, as a client's Incr sends it.
void AddCounter(v1::Batch* batch, const std::string& name) {
  v1::Message* m = batch->add_messages();
  m->set_type("counter");
  m->set_payload("1");
  v1::Field* field = m->add_fields();
  field->set_name("name");
  field->add_value_string(name);
}

// Of the metrics <sink>.m0 .. <sink>.m<sent - 1>, how many arrived, and how
// many arrived more than once (extra copies).
struct Arrivals {
  int delivered = 0;
  int duplicated = 0;
  std::vector<int> missing;  // the first few numbers that did not arrive
};
Arrivals CountArrivals(const std::map<std::string, int>& counts,
                       const std::string& sink, int sent) {
  Arrivals arrivals;
  for (int i = 0; i < sent; ++i) {
    auto it = counts.find(absl::StrCat(sink, ".m", i));
    if (it == counts.end()) {
      if (arrivals.missing.size() < 5) arrivals.missing.push_back(i);
      continue;
    }
    ++arrivals.delivered;
    arrivals.duplicated += it->second - 1;
  }
  return arrivals;
}

// The issue's outage: 30 s, shared by one sink of each policy.
TEST(DurabilityEndToEndTest, ABackEndGoneFor30SecondsLosesNothingWithDisk) {
  constexpr absl::Duration kOutage = absl::Seconds(30);
  LineServer carbon;
  constexpr char kMemoryQueue[] =
      "capacity_messages: 1000 max_batch_messages: 100 flush_interval_ms: 10";
  const std::string config = absl::StrCat(
      kInputs,
      CarbonSink("disk", DiskQueue(TempPath("gone_buffer"), "fsync: NEVER"),
                 carbon.port()),
      CarbonSink("newest", absl::StrCat(kMemoryQueue, " overflow: DROP_NEWEST"),
                 carbon.port()),
      CarbonSink("oldest", absl::StrCat(kMemoryQueue, " overflow: DROP_OLDEST"),
                 carbon.port()));
  auto router = RouterProcess::Start("gone", config);
  ASSERT_TRUE(router.ok()) << router.status();
  auto stub = AdminStub(*router);
  int sent = 0;
  int acknowledged = 0;
  // About 2000 messages a second: 1 s up, 30 s gone, 1 s back.
  auto publish_for = [&](absl::Duration how_long) {
    const absl::Time until = absl::Now() + how_long;
    while (absl::Now() < until) {
      v1::Batch batch;
      for (int i = 0; i < 10; ++i)
        AddCounter(&batch, absl::StrCat("m", sent + i));
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
  publish_for(kOutage);
  carbon.ComeBack();
  publish_for(absl::Seconds(1));
  // A retry's backoff may have grown to 30 s during the outage.
  for (const std::string name : {"disk", "newest", "oldest"}) {
    AwaitDrained(*router, name, absl::Seconds(120));
  }

  const v1::StatsResponse stats = Stats(*router);
  for (const std::string name : {"disk", "newest", "oldest"}) {
    const v1::SinkStats* sink = SinkNamed(stats, name);
    ASSERT_NE(sink, nullptr);
    const Arrivals arrivals = CountArrivals(
        AwaitLines(carbon, name + ".", sink->delivered()), name, sent);
    uint64_t dropped = 0;
    for (const auto& [reason, n] : sink->dropped()) dropped += n;
    std::cout << "back end gone 30 s, " << name << ": sent " << sent
              << ", acknowledged " << acknowledged << ", delivered "
              << arrivals.delivered << ", duplicated " << arrivals.duplicated
              << ", lost " << (sent - arrivals.delivered)
              << ", counted dropped " << dropped << "\n";
    if (dropped == 0 && !arrivals.missing.empty()) {
      std::cout << "  first missing: m"
                << absl::StrJoin(arrivals.missing, ", m")
                << "; the sink's stats: " << sink->ShortDebugString() << "\n";
    }
    EXPECT_EQ(sink->queued() + sink->in_flight(), 0u);
    EXPECT_EQ(sink->received(), static_cast<uint64_t>(sent));
    EXPECT_EQ(sink->received(), sink->delivered() + dropped);
    // What did not arrive is exactly what was counted dropped.
    EXPECT_EQ(static_cast<uint64_t>(sent - arrivals.delivered), dropped)
        << name;
    EXPECT_EQ(arrivals.duplicated, 0) << name;
    if (name == "disk") {
      EXPECT_EQ(arrivals.delivered, sent);
    } else {
      // The same memory queue overflowed: the outage was long enough.
      EXPECT_GT(dropped, 0u) << name;
    }
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

TEST(DurabilityEndToEndTest, ABlockSinkPushesBackOnZeroMqClients) {
  LineServer carbon;
  carbon.GoAway();  // down from the start: the BLOCK queue fills
  // A small ZeroMQ receive buffer, so the blocked input's backlog reaches
  // the client soon.
  const std::string config = absl::StrCat(
      "inputs { options { [type.googleapis.com/metlog.v1.ZmqInputConfig] {\n"
      "  endpoint: \"tcp://127.0.0.1:*\" receive_hwm: 2 } } }\n"
      "admin { listen_address: \"127.0.0.1:0\" }\n"
      "stats_interval_ms: 0\n",
      CarbonSink("blocked",
                 "capacity_messages: 50 max_batch_messages: 10 "
                 "flush_interval_ms: 10 overflow: BLOCK",
                 carbon.port()),
      FileSink("zmq_flowing", "flush_interval_ms: 10"));
  auto router = RouterProcess::Start("block_zmq", config);
  ASSERT_TRUE(router.ok()) << router.status();
  QueuedSender::Options options;
  options.max_packet_bytes = 8 << 10;
  Client client(MakeZmqSender({router->endpoint()}, options), "durability");
  ASSERT_TRUE(client.status().ok()) << client.status();

  // A few first, fewer than the BLOCK queue holds, until they arrive: the
  // client connects in the background and refuses what it sends before.
  int called = 0;
  const absl::Time connected_by = absl::Now() + absl::Seconds(30);
  while (absl::Now() < connected_by) {
    for (int i = 0; i < 10 && called < 40; ++i) {
      client.Incr(absl::StrCat("m", called++));
    }
    client.Flush(absl::Seconds(1));
    const v1::StatsResponse stats = Stats(*router);
    const v1::SinkStats* flowing = SinkNamed(stats, "zmq_flowing");
    if (flowing != nullptr && flowing->delivered() > 0) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  // Then sends until the client has refused a good many (bounded).
  const absl::Time give_up = absl::Now() + absl::Seconds(120);
  while (client.Stats().dropped() < 10000 && called < 5000000 &&
         absl::Now() < give_up) {
    for (int i = 0; i < 1000; ++i) client.Incr(absl::StrCat("m", called++));
    absl::SleepFor(absl::Milliseconds(1));
  }
  client.Flush(absl::Seconds(10));
  const ClientStats pushed_back = client.Stats();
  // The back-pressure reached the client: it refused and counted.
  EXPECT_GE(pushed_back.dropped(), 10000u);
  EXPECT_EQ(pushed_back.sent + pushed_back.dropped(),
            static_cast<uint64_t>(called));
  // The other sink, with its own queue, delivered all it was given.
  AwaitDrained(*router, "zmq_flowing", absl::Seconds(60));
  {
    const v1::StatsResponse stats = Stats(*router);
    const v1::SinkStats* flowing = SinkNamed(stats, "zmq_flowing");
    const v1::SinkStats* blocked = SinkNamed(stats, "blocked");
    ASSERT_NE(flowing, nullptr);
    ASSERT_NE(blocked, nullptr);
    EXPECT_GT(flowing->delivered(), 0u);
    EXPECT_EQ(flowing->delivered(), flowing->received());
    EXPECT_EQ(flowing->dropped_size(), 0);
    EXPECT_EQ(blocked->delivered(), 0u);  // still down
  }

  // Back: everything the client handed to ZeroMQ arrives, once.
  carbon.ComeBack();
  const absl::Time drained_by = absl::Now() + absl::Seconds(180);
  const v1::SinkStats* blocked = nullptr;
  v1::StatsResponse stats;
  while (absl::Now() < drained_by) {
    stats = Stats(*router);
    blocked = SinkNamed(stats, "blocked");
    if (blocked != nullptr && blocked->received() >= pushed_back.sent &&
        blocked->queued() + blocked->in_flight() == 0) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_NE(blocked, nullptr);
  const Arrivals arrivals = CountArrivals(
      AwaitLines(carbon, "blocked.", blocked->delivered()), "blocked", called);
  std::cout << "BLOCK, ZeroMQ client: called " << called
            << ", sent (handed to ZeroMQ) " << pushed_back.sent
            << ", refused by the client (dropped_unsent "
            << pushed_back.dropped_unsent << ", dropped_queue_full "
            << pushed_back.dropped_queue_full << "), delivered "
            << arrivals.delivered << ", duplicated " << arrivals.duplicated
            << ", lost " << (pushed_back.sent - arrivals.delivered) << "\n";
  EXPECT_EQ(blocked->received(), pushed_back.sent);
  EXPECT_EQ(static_cast<uint64_t>(arrivals.delivered), pushed_back.sent);
  EXPECT_EQ(arrivals.duplicated, 0);
  EXPECT_EQ(blocked->dropped_size(), 0);
  const v1::SinkStats* flowing = SinkNamed(stats, "zmq_flowing");
  ASSERT_NE(flowing, nullptr);
  EXPECT_EQ(flowing->received(), pushed_back.sent);
  client.Shutdown(absl::Seconds(1));
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
  // The buffer's own limit (a real ENOSPC is the next test):
  // max_total_bytes of 8 KiB, full_action REFUSE_NEW, and a carbon that is
  // down (a transient error, retried), so nothing leaves the buffer.
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

// Publishes `batches` batches of 10 counters <sink>.m<next>..., adding the
// numbers acknowledged with nothing dropped to `kept`; returns the number of
// messages the Acks said were dropped.
uint64_t PublishCounters(v1::Admin::Stub& stub, int batches, int* next,
                         std::vector<int>* kept) {
  uint64_t dropped = 0;
  for (int b = 0; b < batches; ++b) {
    v1::Batch batch;
    for (int i = 0; i < 10; ++i)
      AddCounter(&batch, absl::StrCat("m", *next + i));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    v1::Ack ack;
    EXPECT_TRUE(stub.Publish(&context, batch, &ack).ok());
    dropped += ack.dropped();
    if (ack.accepted() == 10 && ack.dropped() == 0) {
      for (int i = 0; i < 10; ++i) kept->push_back(*next + i);
    }
    *next += 10;
  }
  return dropped;
}

// Waits (bounded) until `predicate` holds for the sink's stats.
template <typename Predicate>
v1::SinkStats AwaitSink(const RouterProcess& router, const std::string& name,
                        Predicate predicate) {
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  v1::SinkStats sink;
  while (absl::Now() < give_up) {
    const v1::StatsResponse stats = Stats(router);
    if (const v1::SinkStats* found = SinkNamed(stats, name)) {
      sink = *found;
      if (predicate(sink)) break;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  return sink;
}

// Whether this machine lets the test make a user and mount namespace and
// mount a tmpfs in it, without real privileges.
bool CanMountTmpfs(const std::string& mount_point, std::string* why_not) {
  auto probe = testing::PeerProcess::Start(
      "enospc_probe", {"/usr/bin/unshare", "-Urm", "/bin/sh", "-c",
                       absl::StrCat("mount -t tmpfs -o size=4k tmpfs '",
                                    mount_point, "' && echo mounted")});
  if (!probe.ok()) {
    *why_not = probe.status().ToString();
    return false;
  }
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  while (probe->Running() && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  *why_not = probe->Stderr();
  return probe->Stdout().find("mounted") != std::string::npos;
}

// The router in its own user and mount namespace (unshare -Urm) with a
// 1 MiB tmpfs on `mount_point`.
absl::StatusOr<RouterProcess> StartWithTmpfs(const std::string& name,
                                             const std::string& config,
                                             const std::string& mount_point) {
  return RouterProcess::Start(
      name, config,
      {"/usr/bin/unshare", "-Urm", "/bin/sh", "-c",
       absl::StrCat("mount -t tmpfs -o size=1m tmpfs '", mount_point,
                    "' && exec \"$0\" \"$@\"")});
}

// Fills the file system of `filler` (a new file) until ENOSPC, then gives
// back `leave` bytes.
void FillUp(const std::string& filler, off_t leave) {
  const int fd = open(filler.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0) << filler;
  const std::string chunk(4096, 'f');
  while (write(fd, chunk.data(), chunk.size()) > 0) {
  }
  EXPECT_EQ(errno, ENOSPC);
  const off_t size = lseek(fd, 0, SEEK_END);
  ASSERT_EQ(ftruncate(fd, size - leave), 0);
  close(fd);
}

// A real ENOSPC: the router runs with a 1 MiB tmpfs over the buffer's
// parent directory, which the test fills through /proc/<router>/root.
// full_action REFUSE_NEW: what the file system refuses is dropped, counted.
TEST(DurabilityEndToEndTest, ARealDiskFullIsCountedAndDataFlowsOnceFreed) {
  const std::string mount_point = TempPath("enospc_mnt");
  std::filesystem::create_directories(mount_point);
  std::string why_not;
  if (!CanMountTmpfs(mount_point, &why_not)) {
    GTEST_SKIP() << "no user+mount namespace with tmpfs here: " << why_not;
  }
  LineServer carbon;
  carbon.GoAway();  // nothing leaves the buffer until the space is freed
  const std::string config = absl::StrCat(
      kInputs,
      CarbonSink("enospc",
                 absl::StrCat("capacity_messages: 1000 max_batch_messages: 100 "
                              "flush_interval_ms: 10 overflow: DISK disk { "
                              "dir: \"",
                              mount_point,
                              "/buffer\" write_through: true fsync: NEVER "
                              "max_segment_bytes: 65536 full_action: "
                              "REFUSE_NEW }"),
                 carbon.port()),
      FileSink("enospc_other", "flush_interval_ms: 10"));
  auto router = StartWithTmpfs("enospc", config, mount_point);
  ASSERT_TRUE(router.ok()) << router.status();
  // The tmpfs as the router sees it.
  const std::string seen =
      absl::StrCat("/proc/", router->pid(), "/root", mount_point);
  ASSERT_TRUE(std::filesystem::exists(seen + "/buffer/lock"));
  const std::string filler = seen + "/filler";
  // One page left, so that a write is cut short midway.
  FillUp(filler, 4096);
  auto stub = AdminStub(*router);
  int next = 0;
  std::vector<int> kept;
  const uint64_t refused = PublishCounters(*stub, 20, &next, &kept);
  const int sent_while_full = next;
  v1::SinkStats full =
      AwaitSink(*router, "enospc", [](const auto&) { return true; });
  const v1::SinkStats other_then =
      AwaitSink(*router, "enospc_other", [&](const v1::SinkStats& sink) {
        return sink.delivered() >= static_cast<uint64_t>(next);
      });
  std::cout << "disk full (ENOSPC): sent " << sent_while_full
            << ", refused (Ack.dropped) " << refused << ", counted disk_full "
            << Dropped(full, "disk_full") << ", buffer errors "
            << full.disk().errors() << ", other sink delivered "
            << other_then.delivered() << "\n";
  EXPECT_GT(refused, 0u);
  EXPECT_LT(refused, static_cast<uint64_t>(sent_while_full));  // one page
  EXPECT_EQ(Dropped(full, "disk_full"), refused);
  EXPECT_GT(full.disk().errors(), 0u);
  // A write cut short left nothing behind in the segment files.
  uint64_t file_bytes = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(seen + "/buffer")) {
    if (entry.path().filename().string().rfind("segment-", 0) == 0) {
      file_bytes += entry.file_size();
    }
  }
  EXPECT_EQ(file_bytes, full.disk().bytes());
  EXPECT_THAT(router->Stderr(), HasSubstr("No space left on device"));
  // The other sink had everything, the router kept serving.
  EXPECT_EQ(other_then.delivered(), static_cast<uint64_t>(sent_while_full));
  EXPECT_EQ(other_then.dropped_size(), 0);

  // Space freed and the back end back: everything accepted arrives, what
  // was written before the disk filled too.
  ASSERT_EQ(unlink(filler.c_str()), 0);
  carbon.ComeBack();
  const uint64_t refused_after = PublishCounters(*stub, 20, &next, &kept);
  full = AwaitSink(*router, "enospc", [](const v1::SinkStats& sink) {
    return sink.queued() + sink.in_flight() == 0;
  });
  const Arrivals arrivals = CountArrivals(
      AwaitLines(carbon, "enospc.", full.delivered()), "enospc", next);
  const std::map<std::string, int> counts = carbon.Counts();
  size_t lost = 0;
  for (int n : kept) lost += counts.count(absl::StrCat("enospc.m", n)) == 0;
  std::cout << "after freeing space: sent " << (next - sent_while_full)
            << ", acknowledged with nothing dropped (both phases) "
            << kept.size() << ", refused " << refused_after << ", delivered "
            << arrivals.delivered << ", duplicated " << arrivals.duplicated
            << ", lost (acknowledged, not delivered) " << lost << "\n";
  EXPECT_EQ(refused_after, 0u);
  EXPECT_EQ(lost, 0u);
  EXPECT_EQ(static_cast<size_t>(arrivals.delivered), kept.size());
  EXPECT_EQ(arrivals.duplicated, 0);
  EXPECT_EQ(full.received(), full.delivered() + refused);
  EXPECT_EQ(router->Stop().value_or(-1), 0);
}

// The same ENOSPC with full_action BLOCK: the input waits for space (the
// gRPC caller feels it), nothing is dropped, and once space is freed every
// message arrives, the one whose call gave up waiting included.
TEST(DurabilityEndToEndTest, ARealDiskFullBlocksWithBlockAndLosesNothing) {
  const std::string mount_point = TempPath("enospc_block_mnt");
  std::filesystem::create_directories(mount_point);
  std::string why_not;
  if (!CanMountTmpfs(mount_point, &why_not)) {
    GTEST_SKIP() << "no user+mount namespace with tmpfs here: " << why_not;
  }
  LineServer carbon;
  carbon.GoAway();
  const std::string config = absl::StrCat(
      kInputs,
      // First, so it is given each batch before the blocked sink waits.
      FileSink("enospc_block_other", "flush_interval_ms: 10"),
      CarbonSink("enospc_block",
                 absl::StrCat("capacity_messages: 1000 max_batch_messages: 100 "
                              "flush_interval_ms: 10 overflow: DISK disk { "
                              "dir: \"",
                              mount_point,
                              "/buffer\" write_through: true fsync: NEVER "
                              "max_segment_bytes: 65536 full_action: BLOCK }"),
                 carbon.port()));
  auto router = StartWithTmpfs("enospc_block", config, mount_point);
  ASSERT_TRUE(router.ok()) << router.status();
  const std::string seen =
      absl::StrCat("/proc/", router->pid(), "/root", mount_point);
  ASSERT_TRUE(std::filesystem::exists(seen + "/buffer/lock"));
  FillUp(seen + "/filler", 0);
  auto stub = AdminStub(*router);
  v1::Batch batch;
  for (int i = 0; i < 10; ++i) AddCounter(&batch, absl::StrCat("m", i));
  {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(2));
    v1::Ack ack;
    EXPECT_EQ(stub->Publish(&context, batch, &ack).error_code(),
              grpc::StatusCode::DEADLINE_EXCEEDED);
  }
  const v1::SinkStats waiting = AwaitSink(
      *router, "enospc_block",
      [](const v1::SinkStats& sink) { return sink.disk().errors() > 0; });
  EXPECT_GT(waiting.disk().errors(), 0u);
  EXPECT_EQ(waiting.dropped_size(), 0);
  EXPECT_THAT(router->Stderr(), HasSubstr("No space left on device"));
  EXPECT_THAT(router->Stderr(), HasSubstr("waiting for space"));
  const v1::SinkStats other = AwaitSink(
      *router, "enospc_block_other",
      [](const v1::SinkStats& sink) { return sink.delivered() >= 10; });
  EXPECT_EQ(other.delivered(), 10u);

  ASSERT_EQ(unlink((seen + "/filler").c_str()), 0);
  carbon.ComeBack();
  int next = 10;
  std::vector<int> kept;
  const uint64_t refused = PublishCounters(*stub, 20, &next, &kept);
  const v1::SinkStats drained =
      AwaitSink(*router, "enospc_block", [&](const v1::SinkStats& sink) {
        return sink.received() >= static_cast<uint64_t>(next) &&
               sink.queued() + sink.in_flight() == 0;
      });
  const Arrivals arrivals =
      CountArrivals(AwaitLines(carbon, "enospc_block.", drained.delivered()),
                    "enospc_block", next);
  std::cout << "disk full (ENOSPC), BLOCK: sent " << next << ", acknowledged "
            << kept.size() << " (+10 whose call timed out waiting), refused "
            << refused << ", delivered " << arrivals.delivered
            << ", duplicated " << arrivals.duplicated << ", lost "
            << (next - arrivals.delivered) << "\n";
  EXPECT_EQ(refused, 0u);
  EXPECT_EQ(arrivals.delivered, next);
  EXPECT_EQ(arrivals.duplicated, 0);
  EXPECT_EQ(drained.dropped_size(), 0);
  EXPECT_EQ(router->Stop().value_or(-1), 0);
}

// A data directory the router cannot use (here its parent is a file) stops
// neither the router nor the other sinks; once it is usable, the sink
// buffers and delivers again.
TEST(DurabilityEndToEndTest, AnUnusableDataDirectoryIsRetriedWhileOthersFlow) {
  const std::string parent = TempPath("not_a_directory");
  std::ofstream(parent) << "x";
  LineServer carbon;
  const std::string config = absl::StrCat(
      kInputs,
      CarbonSink("unusable",
                 DiskQueue(parent + "/buffer", "write_through: true"),
                 carbon.port()),
      FileSink("usable", "flush_interval_ms: 10"));
  auto router = RouterProcess::Start("unusable", config);
  ASSERT_TRUE(router.ok()) << router.status();
  auto stub = AdminStub(*router);
  int next = 0;
  std::vector<int> kept;
  const uint64_t refused = PublishCounters(*stub, 20, &next, &kept);
  const int sent_while_unusable = next;
  const v1::SinkStats unusable =
      AwaitSink(*router, "unusable", [](const auto&) { return true; });
  const v1::SinkStats usable =
      AwaitSink(*router, "usable", [&](const v1::SinkStats& sink) {
        return sink.delivered() >= static_cast<uint64_t>(next);
      });
  std::cout << "unusable data directory: sent " << sent_while_unusable
            << ", refused (Ack.dropped) " << refused
            << ", counted disk_unavailable "
            << Dropped(unusable, "disk_unavailable")
            << ", other sink delivered " << usable.delivered() << "\n";
  // write_through: every message needed the disk, so each was refused.
  EXPECT_EQ(refused, static_cast<uint64_t>(sent_while_unusable));
  EXPECT_EQ(Dropped(unusable, "disk_unavailable"), refused);
  EXPECT_THAT(unusable.disk().unavailable(), HasSubstr("Not a directory"));
  EXPECT_THAT(router->Stderr(), HasSubstr("Not a directory"));
  EXPECT_EQ(usable.delivered(), static_cast<uint64_t>(sent_while_unusable));
  EXPECT_EQ(usable.dropped_size(), 0);

  // Made usable: the sink opens it by itself.
  std::filesystem::remove(parent);
  std::filesystem::create_directory(parent);
  const v1::SinkStats opened =
      AwaitSink(*router, "unusable", [](const v1::SinkStats& sink) {
        return sink.disk().unavailable().empty();
      });
  ASSERT_TRUE(opened.disk().unavailable().empty());
  EXPECT_THAT(router->Stderr(), HasSubstr("disk buffer opened"));
  const uint64_t refused_after = PublishCounters(*stub, 20, &next, &kept);
  const v1::SinkStats drained =
      AwaitSink(*router, "unusable", [](const v1::SinkStats& sink) {
        return sink.queued() + sink.in_flight() == 0;
      });
  const Arrivals arrivals = CountArrivals(
      AwaitLines(carbon, "unusable.", drained.delivered()), "unusable", next);
  std::cout << "after the directory became usable: sent "
            << (next - sent_while_unusable) << ", acknowledged " << kept.size()
            << ", refused " << refused_after << ", delivered "
            << arrivals.delivered << ", duplicated " << arrivals.duplicated
            << ", lost " << (kept.size() - arrivals.delivered) << "\n";
  EXPECT_EQ(refused_after, 0u);
  EXPECT_EQ(static_cast<size_t>(arrivals.delivered), kept.size());
  EXPECT_EQ(arrivals.duplicated, 0);
  EXPECT_EQ(drained.received(), drained.delivered() + refused);
  EXPECT_EQ(router->Stop().value_or(-1), 0);
}

// A reload that changes a DISK sink: the new instance takes the directory
// over once the old one has closed it, and replays what it left.
TEST(DurabilityEndToEndTest, AReloadHandsADiskBufferOverToTheNewInstance) {
  LineServer carbon;
  carbon.GoAway();  // what is published stays on disk
  auto config = [&](int max_batch_messages) {
    return absl::StrCat(kInputs, CarbonSink("reloaded",
                                            DiskQueue(TempPath("reload_buffer"),
                                                      "write_through: true",
                                                      max_batch_messages),
                                            carbon.port()));
  };
  auto router = RouterProcess::Start("reload", config(100));
  ASSERT_TRUE(router.ok()) << router.status();
  auto stub = AdminStub(*router);
  int next = 0;
  std::vector<int> kept;
  EXPECT_EQ(PublishCounters(*stub, 10, &next, &kept), 0u);

  std::ofstream(TempPath("reload.textproto"), std::ios::trunc) << config(50);
  {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(30));
    v1::ReloadResponse response;
    ASSERT_TRUE(stub->Reload(&context, {}, &response).ok());
    EXPECT_EQ(response.error(), "");
  }
  const v1::SinkStats taken_over =
      AwaitSink(*router, "reloaded", [](const v1::SinkStats& sink) {
        return sink.has_disk() && sink.disk().unavailable().empty() &&
               sink.disk().pending_at_start() > 0;
      });
  EXPECT_EQ(taken_over.disk().pending_at_start(), kept.size());
  carbon.ComeBack();
  EXPECT_EQ(PublishCounters(*stub, 10, &next, &kept), 0u);
  const v1::SinkStats drained =
      AwaitSink(*router, "reloaded", [](const v1::SinkStats& sink) {
        return sink.queued() + sink.in_flight() == 0;
      });
  const Arrivals arrivals = CountArrivals(
      AwaitLines(carbon, "reloaded.", drained.delivered()), "reloaded", next);
  std::cout << "reload of a DISK sink: sent " << next << ", acknowledged "
            << kept.size() << ", left on disk by the old instance "
            << taken_over.disk().pending_at_start() << ", delivered "
            << arrivals.delivered << ", duplicated " << arrivals.duplicated
            << ", lost " << (kept.size() - arrivals.delivered) << "\n";
  EXPECT_EQ(static_cast<size_t>(arrivals.delivered), kept.size());
  EXPECT_EQ(arrivals.duplicated, 0);
  EXPECT_EQ(router->Stop().value_or(-1), 0);
}

}  // namespace
}  // namespace metlog
