#include "tools/bench_latency.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/metlog.h"
#include "client/senders.h"
#include "tools/bench_config.h"
#include "tools/bench_file_tail.h"
#include "tools/bench_router.h"

namespace metlog {
namespace {

constexpr absl::string_view kWarmUpName = "bench.warmup";
constexpr absl::string_view kTimedName = "bench.latency";

bool IsTimed(const v1::Message& message) {
  for (const v1::Field& field : message.fields()) {
    if (field.name() == "name" && field.value_string_size() > 0) {
      return field.value_string(0) == kTimedName;
    }
  }
  return false;
}

absl::Duration Percentile(const std::vector<int64_t>& sorted_ns,
                          double fraction) {
  if (sorted_ns.empty()) return absl::InfiniteDuration();
  const size_t rank = static_cast<size_t>(
      std::ceil(fraction * static_cast<double>(sorted_ns.size())));
  return absl::Nanoseconds(
      sorted_ns[std::clamp<size_t>(rank, 1, sorted_ns.size()) - 1]);
}

}  // namespace

absl::StatusOr<LatencyResult> MeasureEndToEndLatency(
    const BenchEnvironment& environment, const BatchingSettings& batching,
    double rate, absl::Duration duration) {
  static std::atomic<int> runs{0};
  const std::string path =
      absl::StrCat(environment.scratch_dir, "/latency", ++runs, ".records");
  BenchSink file;
  file.name = "file";
  file.queue =
      absl::StrCat("flush_interval_ms: ", batching.sink_flush_interval_ms);
  file.options = ProtobufFileSinkOptions(path);
  absl::StatusOr<std::unique_ptr<BenchRouter>> router =
      BenchRouter::Start(environment.router_binary, BenchRouterConfig({file}),
                         environment.scratch_dir);
  if (!router.ok()) return router.status();
  // The file sink creates its file when the router starts.
  absl::StatusOr<ProtobufFileTail> tail = ProtobufFileTail::Open(path);
  if (!tail.ok()) return tail.status();

  std::atomic<bool> stop_reading{false};
  std::atomic<uint64_t> received{0};
  std::vector<int64_t> latencies_ns;  // the reader's until it is joined
  absl::Status read_status;
  std::thread reader([&] {
    while (!stop_reading.load()) {
      absl::StatusOr<int> records =
          tail->ReadNew(absl::Milliseconds(50),
                        [&](const v1::Message& message, absl::Time read_at) {
                          if (!IsTimed(message)) return;
                          latencies_ns.push_back(absl::ToUnixNanos(read_at) -
                                                 message.timestamp());
                          ++received;
                        });
      if (!records.ok()) {
        read_status = records.status();
        return;
      }
    }
  });

  QueuedSender::Options options;
  options.linger = batching.client_linger;
  Client client(MakeZmqSender({(*router)->endpoint()}, options), "bench");
  // A steady schedule: message i is due at start + i / rate; a late
  // thread catches up rather than shifting the schedule.
  const absl::Duration interval = absl::Seconds(1) / rate;
  const absl::Time start = absl::Now();
  const absl::Time timed_from =
      start + std::min(duration / 5, absl::Seconds(1));
  const absl::Time end = timed_from + duration;
  uint64_t sent = 0;
  for (int64_t i = 0;; ++i) {
    const absl::Time due = start + i * interval;
    if (due >= end) break;
    const absl::Duration early = due - absl::Now();
    if (early > absl::ZeroDuration()) absl::SleepFor(early);
    if (due < timed_from) {
      client.Incr(kWarmUpName);
    } else {
      client.Incr(kTimedName);
      ++sent;
    }
  }
  // Whatever batching holds back arrives well within this.
  const absl::Time give_up = absl::Now() + absl::Seconds(5);
  while (received.load() < sent && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  stop_reading.store(true);
  reader.join();
  if (!read_status.ok()) return read_status;
  if (!client.status().ok()) return client.status();

  std::sort(latencies_ns.begin(), latencies_ns.end());
  LatencyResult result;
  result.sent = sent;
  result.received = received.load();
  result.p50 = Percentile(latencies_ns, 0.50);
  result.p99 = Percentile(latencies_ns, 0.99);
  result.p999 = Percentile(latencies_ns, 0.999);
  result.max = Percentile(latencies_ns, 1.0);
  return result;
}

}  // namespace metlog
