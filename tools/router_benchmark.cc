// Router throughput, side by side with raw ZeroMQ, in one run:
//   bazel run -c opt //tools:router_benchmark [-- --seconds=3]
// 1. raw libzmq PUSH → PULL of frames the size of a one-message packet;
// 2. the router (ZeroMQ input → 3 matchers → 3 null sinks, BLOCK overflow so
//    nothing is dropped) fed packets of 1 and of 100 messages.
// Rates are messages fully delivered (counted by the sinks' runners).
#include <atomic>
#include <cstdio>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "router/router.h"
#include "tools/benchmark_workload.h"
#include "zmq.hpp"

ABSL_FLAG(double, seconds, 3, "How long each measurement sends.");
ABSL_FLAG(int, decode_threads, 1, "The ZeroMQ input's decode_threads.");
ABSL_FLAG(bool, sinks_read_messages, false,
          "Have the null sinks parse every message they get, as sinks that "
          "use their messages would.");
ABSL_FLAG(int, only_messages_per_packet, 0,
          "Measure only the router, with this many messages per packet "
          "(for profiling); 0 runs the whole comparison.");

namespace metlog {
namespace {

// Pushes `packet` to `endpoint` until `stop`; returns packets sent.
uint64_t PushUntil(const std::string& endpoint, const std::string& packet,
                   const std::atomic<bool>& stop) {
  zmq::context_t context(1);
  zmq::socket_t push(context, zmq::socket_type::push);
  push.set(zmq::sockopt::linger, 0);
  push.set(zmq::sockopt::sndtimeo, 100);
  push.connect(endpoint);
  uint64_t sent = 0;
  while (!stop.load(std::memory_order_relaxed)) {
    if (push.send(zmq::buffer(packet))) ++sent;
  }
  return sent;
}

double RawZmqFramesPerSecond(size_t frame_bytes, absl::Duration duration) {
  zmq::context_t context(1);
  zmq::socket_t pull(context, zmq::socket_type::pull);
  pull.bind("tcp://127.0.0.1:*");
  pull.set(zmq::sockopt::rcvtimeo, 100);
  const std::string endpoint = pull.get(zmq::sockopt::last_endpoint);
  std::atomic<bool> stop{false};
  std::thread sender(
      [&] { PushUntil(endpoint, std::string(frame_bytes, 'x'), stop); });
  zmq::message_t frame;
  while (!pull.recv(frame)) {
  }  // connected
  uint64_t received = 0;
  const absl::Time start = absl::Now();
  while (absl::Now() - start < duration) {
    if (pull.recv(frame)) ++received;
  }
  const double rate = received / absl::ToDoubleSeconds(absl::Now() - start);
  stop.store(true);
  sender.join();
  return rate;
}

uint64_t Delivered(Router& router) {
  uint64_t total = 0;
  const v1::StatsResponse stats = router.Stats();
  for (const v1::SinkStats& sink : stats.sinks()) {
    if (sink.name() == "all") total = sink.delivered();
  }
  return total;
}

// Messages per second delivered by the router's "all" sink.
double RouterMessagesPerSecond(int messages_per_packet,
                               absl::Duration duration) {
  const v1::RouterConfig config =
      BenchmarkRouterConfig(absl::GetFlag(FLAGS_decode_threads),
                            absl::GetFlag(FLAGS_sinks_read_messages));
  auto router = Router::Create(config);
  if (!router.ok()) std::abort();
  (*router)->Start();
  const std::string address = (*router)->InputAddresses()[0];
  const std::string endpoint = address.substr(address.find(' ') + 1);
  std::atomic<bool> stop{false};
  const std::string packet = BenchmarkPacket(messages_per_packet);
  std::thread sender([&] { PushUntil(endpoint, packet, stop); });
  absl::SleepFor(absl::Milliseconds(300));  // warm up
  const uint64_t before = Delivered(**router);
  const absl::Time start = absl::Now();
  absl::SleepFor(duration);
  const uint64_t after = Delivered(**router);
  const double rate =
      (after - before) / absl::ToDoubleSeconds(absl::Now() - start);
  stop.store(true);
  sender.join();
  (*router)->Stop();
  return rate;
}

int Run() {
  const absl::Duration duration = absl::Seconds(absl::GetFlag(FLAGS_seconds));
  if (const int n = absl::GetFlag(FLAGS_only_messages_per_packet); n > 0) {
    std::printf("router, %d messages per packet: %.0f msg/s\n", n,
                RouterMessagesPerSecond(n, duration));
    return 0;
  }
  const size_t one_message_packet = BenchmarkPacket(1).size();
  std::printf("frame sizes: 1-message packet %zu B, 100-message packet %zu B\n",
              one_message_packet, BenchmarkPacket(100).size());
  const double raw = RawZmqFramesPerSecond(one_message_packet, duration);
  std::printf("raw libzmq PUSH/PULL, %zu B frames:       %12.0f frames/s\n",
              one_message_packet, raw);
  const double single = RouterMessagesPerSecond(1, duration);
  std::printf(
      "router, 1 message per packet:            %12.0f msg/s  (%.0f%% of "
      "raw)\n",
      single, 100 * single / raw);
  const double batched = RouterMessagesPerSecond(100, duration);
  std::printf("router, 100 messages per packet:         %12.0f msg/s\n",
              batched);
  return 0;
}

}  // namespace
}  // namespace metlog

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  // Debian builds Abseil with its debug checks on; their deadlock detector
  // takes a global lock on every Mutex acquisition.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  return metlog::Run();
}
