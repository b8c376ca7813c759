// What a client call costs the calling thread.
//   bazel run -c opt //client:client_benchmark
// BM_Incr_ZmqDraining: Incr() with a PULL socket draining on loopback.
// BM_Incr_NoRouter:    10 million Incr() with nothing listening.
// BM_IncrTwoFields_*:  Incr() with two fields ({"method", "GET"},
//                      {"status", 200}).
// BM_SendtoStatsdLine: one blocking sendto() of a statsd line per call,
//                      what classic statsd clients do; compare with the first.
// The *_Latency variants time each call and report p50/p99 in ns (the cost of
// reading the clock, also reported, already subtracted).
// BM_Exception_ZmqDraining_Latency: Exception() with its stack capture.
// BM_Packet_Direct / BM_Packet_ViaProtobuf: the sender thread's work per
// message, written straight into the packet (what it does) or built as
// v1::Messages of a v1::Batch and serialized (what it did before), for log
// lines (/0), counters with two tags (/1) and log messages with three
// fields (/2).
// BM_Log_ZmqDraining_Throughput: bursts of 100 000 Info() calls, then
// Flush(): messages per second through both threads, and the share dropped.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <thread>
#include <vector>

#include "benchmark/benchmark.h"
#include "client/message_writer.h"
#include "client/metlog.h"
#include "client/packet_builder.h"
#include "client/senders.h"
#include "zmq.hpp"

namespace metlog {
namespace {

// A PULL socket on loopback that drains everything sent to it.
class DrainingPull {
 public:
  DrainingPull() {
    socket_.bind("tcp://127.0.0.1:*");
    endpoint_ = socket_.get(zmq::sockopt::last_endpoint);
    socket_.set(zmq::sockopt::rcvtimeo, 50);
    thread_ = std::thread([this] {
      zmq::message_t frame;
      while (!stop_.load()) {
        if (socket_.recv(frame)) ++packets_;
      }
    });
  }
  ~DrainingPull() {
    stop_.store(true);
    thread_.join();
  }
  const std::string& endpoint() const { return endpoint_; }

 private:
  zmq::context_t context_{1};
  zmq::socket_t socket_{context_, zmq::socket_type::pull};
  std::string endpoint_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> packets_{0};
  std::thread thread_;
};

// A UDP socket on loopback, drained, standing in for a statsd server.
class DrainingUdp {
 public:
  DrainingUdp() : fd_(socket(AF_INET, SOCK_DGRAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    socklen_t length = sizeof(address);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    address_ = address;
    timeval timeout{0, 50000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    thread_ = std::thread([this] {
      char buffer[2048];
      while (!stop_.load()) recv(fd_, buffer, sizeof(buffer), 0);
    });
  }
  ~DrainingUdp() {
    stop_.store(true);
    thread_.join();
    close(fd_);
  }
  const sockaddr_in& address() const { return address_; }

 private:
  int fd_;
  sockaddr_in address_{};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::string DeadEndpoint() {
  zmq::context_t context;
  zmq::socket_t socket(context, zmq::socket_type::pull);
  socket.bind("tcp://127.0.0.1:*");
  return socket.get(zmq::sockopt::last_endpoint);
}

std::unique_ptr<Client> ZmqClient(const std::string& endpoint) {
  auto client = std::make_unique<Client>(MakeZmqSender({endpoint}), "bench");
  if (!client->status().ok()) std::abort();
  return client;
}

// `extra_calls` made outside the timed loop are included in the accounting.
void ReportSenderCounters(benchmark::State& state, Client& client,
                          uint64_t extra_calls = 0) {
  client.Flush(absl::Seconds(10));
  const ClientStats stats = client.Stats();
  const double calls = static_cast<double>(state.iterations() + extra_calls);
  state.counters["sent_share"] = stats.sent / calls;
  state.counters["dropped_share"] = stats.dropped() / calls;
  // Every call is sent, dropped (and counted) or still queued; anything
  // else would be a silent loss. Filtered and sampled-out calls are none
  // here.
  const uint64_t accounted = stats.sent + stats.dropped() + stats.queued;
  state.counters["unaccounted"] = calls - static_cast<double>(accounted);
}

// Times each call of `fn`; reports p50/p99 minus the clock's own cost.
// With a client, every `flush_every` calls it is flushed outside the timing,
// so the queue never fills and every call takes the enqueue path.
template <typename Fn>
void TimeEachCall(benchmark::State& state, Fn fn, Client* client = nullptr,
                  int flush_every = 4096) {
  using Clock = std::chrono::steady_clock;
  std::vector<int64_t> samples;
  samples.reserve(state.max_iterations);
  std::vector<int64_t> clock_cost;
  for (int i = 0; i < 10000; ++i) {
    const auto a = Clock::now();
    const auto b = Clock::now();
    clock_cost.push_back((b - a).count());
  }
  std::sort(clock_cost.begin(), clock_cost.end());
  const int64_t overhead = clock_cost[clock_cost.size() / 2];
  int calls = 0;
  for (auto _ : state) {
    const auto start = Clock::now();
    fn();
    samples.push_back((Clock::now() - start).count() - overhead);
    if (client != nullptr && ++calls % flush_every == 0) {
      state.PauseTiming();
      client->Flush(absl::Seconds(10));
      state.ResumeTiming();
    }
  }
  std::sort(samples.begin(), samples.end());
  state.counters["p50_ns"] = samples[samples.size() / 2];
  state.counters["p99_ns"] = samples[samples.size() * 99 / 100];
  state.counters["clock_ns"] = overhead;
}

void BM_Incr_ZmqDraining(benchmark::State& state) {
  DrainingPull pull;
  auto client = ZmqClient(pull.endpoint());
  for (auto _ : state) client->Incr("bench.counter");
  ReportSenderCounters(state, *client);
}
BENCHMARK(BM_Incr_ZmqDraining);

void BM_Incr_ZmqDraining_Latency(benchmark::State& state) {
  DrainingPull pull;
  auto client = ZmqClient(pull.endpoint());
  TimeEachCall(
      state, [&] { client->Incr("bench.counter"); }, client.get());
  ReportSenderCounters(state, *client);
}
BENCHMARK(BM_Incr_ZmqDraining_Latency)->Iterations(2000000);

// The same with two fields (tags) on each call.
void BM_IncrTwoFields_ZmqDraining_Latency(benchmark::State& state) {
  DrainingPull pull;
  auto client = ZmqClient(pull.endpoint());
  TimeEachCall(
      state,
      [&] {
        client->Incr("bench.counter", 1, {{"method", "GET"}, {"status", 200}});
      },
      client.get());
  ReportSenderCounters(state, *client);
}
BENCHMARK(BM_IncrTwoFields_ZmqDraining_Latency)->Iterations(2000000);

void BM_Exception_ZmqDraining_Latency(benchmark::State& state) {
  DrainingPull pull;
  auto client = ZmqClient(pull.endpoint());
  const std::runtime_error error("disk full");
  TimeEachCall(
      state, [&] { client->Exception(error); }, client.get(), 256);
  ReportSenderCounters(state, *client);
}
BENCHMARK(BM_Exception_ZmqDraining_Latency)->Iterations(20000);

const Origin kBenchOrigin{"bench", "web-1", 4242, 6};

// A pending message as the client queues it, of kind `kind`: 0 a log line,
// 1 a counter with two tags, 2 a log message with three fields.
PendingMessage BenchMessage(int64_t kind) {
  PendingMessage pending;
  pending.origin = &kBenchOrigin;
  pending.timestamp_ns = 1795640450234078150;
  switch (kind) {
    case 0:
      pending.kind = PendingMessage::Kind::kLog;
      pending.severity = 6;
      pending.text = "hello from metlog_send";
      break;
    case 1: {
      pending.kind = PendingMessage::Kind::kCounter;
      pending.text = "bench.counter";
      pending.count = 1;
      pending.extras = std::make_unique<MetricExtras>();
      const Tag tags[] = {{"method", "GET"}, {"status", 200}};
      pending.extras->SetFields(tags);
      break;
    }
    default: {
      auto message = std::make_unique<v1::Message>();
      message->set_type("log");
      message->set_payload("order 1234 shipped to the warehouse");
      *message->add_fields() = MakeField("order", 1234);
      *message->add_fields() = MakeField("warehouse", "north");
      *message->add_fields() = MakeField("elapsed", 12.5, "ms");
      pending.message = std::move(message);
      break;
    }
  }
  return pending;
}

constexpr int kPacketMessages = 1000;

void FillPending(int64_t kind, std::vector<PendingMessage>& pending) {
  pending.clear();
  for (int i = 0; i < kPacketMessages; ++i) {
    pending.push_back(BenchMessage(kind));
  }
}

void BM_Packet_Direct(benchmark::State& state) {
  std::vector<PendingMessage> pending;
  PacketBuilder packet(1 << 20, nullptr);
  MessageWriter writer;
  absl::InsecureBitGen random;
  size_t bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    FillPending(state.range(0), pending);
    state.ResumeTiming();
    packet.Clear();
    for (PendingMessage& message : pending) {
      packet.Append(writer, writer.Prepare(message, random));
    }
    bytes = packet.Finish().size();
    benchmark::DoNotOptimize(bytes);
  }
  state.SetItemsProcessed(state.iterations() * kPacketMessages);
  state.counters["bytes_per_message"] = bytes / kPacketMessages;
}
BENCHMARK(BM_Packet_Direct)->DenseRange(0, 2);

void BM_Packet_ViaProtobuf(benchmark::State& state) {
  std::vector<PendingMessage> pending;
  v1::Batch batch;  // reused, as the sender reused it
  absl::InsecureBitGen random;
  size_t bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    FillPending(state.range(0), pending);
    state.ResumeTiming();
    batch.Clear();
    for (PendingMessage& message : pending) {
      v1::Message* built = batch.add_messages();
      Materialize(message, random, built);
      benchmark::DoNotOptimize(built->ByteSizeLong());
    }
    v1::Packet packet;
    batch.SerializeToString(packet.mutable_batch());
    bytes = packet.SerializeAsString().size();
    benchmark::DoNotOptimize(bytes);
  }
  state.SetItemsProcessed(state.iterations() * kPacketMessages);
  state.counters["bytes_per_message"] = bytes / kPacketMessages;
}
BENCHMARK(BM_Packet_ViaProtobuf)->DenseRange(0, 2);

void BM_Log_ZmqDraining_Throughput(benchmark::State& state) {
  DrainingPull pull;
  auto client = ZmqClient(pull.endpoint());
  constexpr int kBurst = 100000;
  for (auto _ : state) {
    for (int i = 0; i < kBurst; ++i) client->Info("hello from metlog_send");
    client->Flush(absl::Seconds(30));
  }
  state.SetItemsProcessed(state.iterations() * kBurst);
  ReportSenderCounters(state, *client, state.iterations() * (kBurst - 1));
}
BENCHMARK(BM_Log_ZmqDraining_Throughput)->Iterations(10)->UseRealTime();

double ResidentMiB() {
  long pages = 0, resident = 0;
  FILE* statm = std::fopen("/proc/self/statm", "r");
  if (statm == nullptr) return 0;
  if (std::fscanf(statm, "%ld %ld", &pages, &resident) != 2) resident = 0;
  std::fclose(statm);
  return resident * sysconf(_SC_PAGESIZE) / (1024.0 * 1024.0);
}

void BM_Incr_NoRouter(benchmark::State& state) {
  auto client = ZmqClient(DeadEndpoint());
  // Warm up first, so the growth below is what the timed calls add. It
  // levels off (about 15 MiB here, the same after 10 or 40 million calls):
  // the queue, its swap buffer and the reused batch reach their bounds.
  constexpr uint64_t kWarmUp = 1000000;
  for (uint64_t i = 0; i < kWarmUp; ++i) client->Incr("bench.counter");
  const double rss_before = ResidentMiB();
  for (auto _ : state) client->Incr("bench.counter");
  state.counters["rss_growth_mib"] = ResidentMiB() - rss_before;
  ReportSenderCounters(state, *client, kWarmUp);
}
BENCHMARK(BM_Incr_NoRouter)->Iterations(10000000);

void BM_Incr_NoRouter_Latency(benchmark::State& state) {
  auto client = ZmqClient(DeadEndpoint());
  TimeEachCall(state, [&] { client->Incr("bench.counter"); });
  ReportSenderCounters(state, *client);
}
BENCHMARK(BM_Incr_NoRouter_Latency)->Iterations(2000000);

void BM_IncrTwoFields_NoRouter_Latency(benchmark::State& state) {
  auto client = ZmqClient(DeadEndpoint());
  TimeEachCall(state, [&] {
    client->Incr("bench.counter", 1, {{"method", "GET"}, {"status", 200}});
  });
  ReportSenderCounters(state, *client);
}
BENCHMARK(BM_IncrTwoFields_NoRouter_Latency)->Iterations(2000000);

void BM_SendtoStatsdLine(benchmark::State& state) {
  DrainingUdp statsd;
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  static constexpr char kLine[] = "bench.counter:1|c";
  for (auto _ : state) {
    sendto(fd, kLine, sizeof(kLine) - 1, 0,
           reinterpret_cast<const sockaddr*>(&statsd.address()),
           sizeof(sockaddr_in));
  }
  close(fd);
}
BENCHMARK(BM_SendtoStatsdLine);

void BM_SendtoStatsdLine_Latency(benchmark::State& state) {
  DrainingUdp statsd;
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  static constexpr char kLine[] = "bench.counter:1|c";
  TimeEachCall(state, [&] {
    sendto(fd, kLine, sizeof(kLine) - 1, 0,
           reinterpret_cast<const sockaddr*>(&statsd.address()),
           sizeof(sockaddr_in));
  });
  close(fd);
}
BENCHMARK(BM_SendtoStatsdLine_Latency)->Iterations(500000);

}  // namespace
}  // namespace metlog
