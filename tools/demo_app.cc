// A pretend web service for the demo (tools/demo/): each simulated request
// sends what a real one would through the Metlog client.
//   bazel run //tools:demo_app -- --rate=50 --duration_s=60
// Per request: counter "requests" with fields endpoint and status, timer
// "request_latency" with field endpoint (log-normal body, Pareto tail).
// Every second: gauges "inflight" and "queue_depth", and an info line. Slow
// requests log a warning, 5xx an error, and some of those an exception.
// Stops after --duration_s, or on SIGINT/SIGTERM.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/metlog.h"
#include "client/senders.h"

ABSL_FLAG(std::string, endpoint, "",
          "Router endpoint; default $METLOG_ENDPOINT, else "
          "tcp://127.0.0.1:5565.");
ABSL_FLAG(std::string, logger, "demo_app", "Logger (service name).");
ABSL_FLAG(double, rate, 20, "Simulated requests per second.");
ABSL_FLAG(int, duration_s, 0, "Seconds to run; 0 runs until SIGINT/SIGTERM.");
ABSL_FLAG(uint32_t, seed, 0, "Random seed; 0 seeds from the clock.");

namespace {

std::atomic<bool> stop_requested{false};

void RequestStop(int) { stop_requested.store(true); }

// One route of the pretend service: how often it is hit, how fast it
// usually is, and how often it fails.
struct Route {
  const char* name;
  double weight;
  double median_ms;
  double server_error_probability;
};

constexpr Route kRoutes[] = {
    {"home", 0.40, 8, 0.002},
    {"items", 0.35, 25, 0.01},
    {"checkout", 0.15, 120, 0.04},
    {"login", 0.10, 40, 0.01},
};

class DemoService {
 public:
  DemoService(metlog::Client& metlog, uint32_t seed)
      : metlog_(metlog), random_(seed) {}

  void ServeOneRequest() {
    const Route& route = PickRoute();
    const double latency_ms = Latency(route);
    const int status = Status(route);
    metlog_.Incr("requests", 1, {{"endpoint", route.name}, {"status", status}});
    metlog_.TimerSend("request_latency", latency_ms,
                      {{"endpoint", route.name}});
    if (latency_ms > 1000) {
      metlog_.Warn("slow request: %s took %.0f ms", route.name, latency_ms);
    }
    if (status >= 500) {
      ++errors_this_second_;
      metlog_.Error("%s failed with %d", route.name, status);
      if (Chance(0.3)) {
        metlog_.Exception(std::runtime_error(
            std::string("database timeout while serving ") + route.name));
      }
    } else if (status == 404) {
      metlog_.Debug("%s: not found", route.name);
    }
    ++requests_this_second_;
  }

  // Once a second: the gauges and a summary line.
  void ReportSecond() {
    const double inflight = std::poisson_distribution<int>(4)(random_);
    queue_depth_ = std::max(0.0, queue_depth_ + Normal(0, 3));
    metlog_.Gauge("inflight", inflight);
    metlog_.Gauge("queue_depth", queue_depth_);
    metlog_.Info("served %d requests in the last second, %d errors",
                 requests_this_second_, errors_this_second_);
    requests_this_second_ = 0;
    errors_this_second_ = 0;
  }

 private:
  const Route& PickRoute() {
    double pick = std::uniform_real_distribution<double>(0, 1)(random_);
    for (const Route& route : kRoutes) {
      if (pick < route.weight) return route;
      pick -= route.weight;
    }
    return kRoutes[0];
  }

  // Log-normal around the route's median, with a Pareto tail for 2% of
  // requests (cache misses, lock waits, GC): what real latencies look like.
  double Latency(const Route& route) {
    double ms = route.median_ms * std::exp(Normal(0, 0.5));
    if (Chance(0.02)) {
      const double u = std::uniform_real_distribution<double>(0.01, 1)(random_);
      ms += route.median_ms * 5 / std::pow(u, 1 / 1.5);
    }
    return ms;
  }

  int Status(const Route& route) {
    if (Chance(route.server_error_probability)) return Chance(0.8) ? 500 : 503;
    if (Chance(0.03)) return 404;
    return 200;
  }

  bool Chance(double probability) {
    return std::bernoulli_distribution(probability)(random_);
  }
  double Normal(double mean, double stddev) {
    return std::normal_distribution<double>(mean, stddev)(random_);
  }

  metlog::Client& metlog_;
  std::mt19937 random_;
  double queue_depth_ = 10;
  int requests_this_second_ = 0;
  int errors_this_second_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "A pretend web service sending metrics, logs and exceptions.\n"
      "  demo_app [--endpoint=tcp://...] [--rate=20] [--duration_s=60]");
  absl::ParseCommandLine(argc, argv);
  const double rate = absl::GetFlag(FLAGS_rate);
  if (!(rate > 0 && rate <= 1e6)) {
    std::cerr << "demo_app: --rate must be in (0, 1e6]\n";
    return 2;
  }
  std::string endpoint = absl::GetFlag(FLAGS_endpoint);
  if (endpoint.empty()) {
    const char* from_env = std::getenv("METLOG_ENDPOINT");
    endpoint = from_env != nullptr ? from_env : "tcp://127.0.0.1:5565";
  }
  metlog::Client metlog(metlog::MakeZmqSender({endpoint}),
                        absl::GetFlag(FLAGS_logger));
  if (!metlog.status().ok()) {
    std::cerr << "demo_app: " << metlog.status().message() << "\n";
    return 2;
  }
  std::signal(SIGINT, RequestStop);
  std::signal(SIGTERM, RequestStop);

  uint32_t seed = absl::GetFlag(FLAGS_seed);
  if (seed == 0) seed = static_cast<uint32_t>(absl::ToUnixNanos(absl::Now()));
  DemoService service(metlog, seed);
  const int duration_s = absl::GetFlag(FLAGS_duration_s);
  const absl::Time start = absl::Now();
  const absl::Time end = duration_s > 0 ? start + absl::Seconds(duration_s)
                                        : absl::InfiniteFuture();
  const absl::Duration interval = absl::Seconds(1 / rate);
  absl::Time next_request = start;
  absl::Time next_report = start + absl::Seconds(1);
  std::cout << "demo_app: " << rate << " requests/s to " << endpoint
            << std::endl;
  while (!stop_requested.load() && absl::Now() < end) {
    service.ServeOneRequest();
    next_request += interval;
    if (absl::Now() >= next_report) {
      service.ReportSecond();
      next_report += absl::Seconds(1);
    }
    absl::SleepFor(next_request - absl::Now());
  }
  metlog.Flush(absl::Seconds(2));
  const metlog::ClientStats stats = metlog.Stats();
  std::cout << "demo_app: sent " << stats.sent << ", dropped "
            << stats.dropped() << std::endl;
  return 0;
}
