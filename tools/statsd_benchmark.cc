// The router's statsd input beside Etsy statsd, fed by the same load
// generator in one run (issue 13):
//   bazel run -c opt //tools:statsd_benchmark
// For 1 and 20 lines per datagram, each side gets rising rates (lines per
// second, 1.25x a step, paced with sendmmsg) until it loses 0.1 % or more; loss
// is counted from each side's own stats: the router's input counters (and its
// null sink's, which must agree), Etsy's statsd.packets_received and
// statsd.metrics_received from its management port. The router's ladder
// starts at the rate Etsy held. Both ladders are run --runs times and the
// summary gives the medians: the machine is shared.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "proto/text_proto.h"
#include "router/router.h"

ABSL_FLAG(std::string, etsy_statsd, "/opt/metlog-peers/node_modules/statsd",
          "Etsy statsd's directory (holding stats.js).");
ABSL_FLAG(double, seconds, 2, "How long each rate is sent.");
ABSL_FLAG(double, start_rate, 5000, "First rate, lines per second.");
ABSL_FLAG(double, max_rate, 4000000, "Highest rate tried, lines per second.");
ABSL_FLAG(double, max_loss, 0.001, "Loss at which a side's ladder stops.");
ABSL_FLAG(bool, router, true, "Measure the router.");
ABSL_FLAG(int, runs, 5,
          "Rounds of both ladders; the summary gives their medians (the "
          "machine is shared, so one run says little).");
ABSL_FLAG(int, reader_threads, 1,
          "The router's statsd input's reader_threads.");
ABSL_FLAG(bool, etsy, true, "Measure Etsy statsd.");

namespace metlog {
namespace {

constexpr double kStep = 1.25;

// Datagrams of `lines` statsd lines: counters, timers and gauges over a
// hundred names, cycled by the sender.
std::vector<std::string> Datagrams(int lines) {
  std::vector<std::string> datagrams;
  int n = 0;
  for (int d = 0; d < 64; ++d) {
    std::string datagram;
    for (int l = 0; l < lines; ++l, ++n) {
      if (l > 0) datagram += '\n';
      switch (n % 3) {
        case 0:
          absl::StrAppend(&datagram, "bench.hits.", n % 100, ":1|c");
          break;
        case 1:
          absl::StrAppend(&datagram, "bench.latency.", n % 100, ":", n % 500,
                          ".5|ms");
          break;
        default:
          absl::StrAppend(&datagram, "bench.depth.", n % 100, ":", n % 70,
                          "|g");
      }
    }
    datagrams.push_back(std::move(datagram));
  }
  return datagrams;
}

// The load generator: sends `datagrams` (cycled) to 127.0.0.1:`port` at
// `rate` per second for `duration`, in sendmmsg bursts each millisecond.
// Returns datagrams sent.
uint64_t SendAt(int port, const std::vector<std::string>& datagrams,
                double rate, absl::Duration duration) {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  constexpr int kBurst = 64;
  std::vector<iovec> iov(kBurst);
  std::vector<mmsghdr> headers(kBurst);
  uint64_t sent = 0;
  const absl::Time start = absl::Now();
  const absl::Time end = start + duration;
  for (absl::Time now = start; now < end; now = absl::Now()) {
    const uint64_t due =
        static_cast<uint64_t>(absl::ToDoubleSeconds(now - start) * rate);
    if (sent >= due) {
      absl::SleepFor(absl::Microseconds(200));
      continue;
    }
    const int burst = static_cast<int>(std::min<uint64_t>(due - sent, kBurst));
    for (int i = 0; i < burst; ++i) {
      const std::string& d = datagrams[(sent + i) % datagrams.size()];
      iov[i] = {const_cast<char*>(d.data()), d.size()};
      headers[i] = {};
      headers[i].msg_hdr.msg_name = &to;
      headers[i].msg_hdr.msg_namelen = sizeof(to);
      headers[i].msg_hdr.msg_iov = &iov[i];
      headers[i].msg_hdr.msg_iovlen = 1;
    }
    const int n = sendmmsg(fd, headers.data(), burst, 0);
    if (n > 0) sent += n;
  }
  close(fd);
  return sent;
}

struct Received {
  uint64_t datagrams = 0;
  uint64_t lines = 0;
};

// One side under test: where it listens and what it says it received.
struct Side {
  std::string name;
  int port;
  std::function<Received()> received;
};

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

int FreePort(int type) {
  const int fd = socket(AF_INET, type, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

// Asks Etsy statsd's management port for its counters.
std::string EtsyCommand(int mgmt_port, const std::string& command) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(mgmt_port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string reply;
  if (connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) == 0) {
    const std::string line = command + "\n";
    write(fd, line.data(), line.size());
    char buffer[4096];
    while (reply.find("END") == std::string::npos) {
      const ssize_t n = read(fd, buffer, sizeof(buffer));
      if (n <= 0) break;
      reply.append(buffer, n);
    }
  }
  close(fd);
  return reply;
}

uint64_t EtsyCounter(const std::string& counters, const std::string& name) {
  const std::string key = absl::StrCat("'", name, "': ");
  const size_t at = counters.find(key);
  if (at == std::string::npos) return 0;
  uint64_t value = 0;
  const std::string digits = counters.substr(
      at + key.size(),
      counters.find_first_not_of("0123456789", at + key.size()) - at -
          key.size());
  absl::SimpleAtoi(digits, &value);
  return value;
}

// Etsy statsd watches its config file: it must stay until the end.
pid_t StartEtsy(int port, int mgmt_port, const std::string& config) {
  std::ofstream(config) << "{ port: " << port << ", mgmt_port: " << mgmt_port
                        << ", address: '127.0.0.1', mgmt_address: "
                           "'127.0.0.1', backends: [], flushInterval: "
                           "3600000 }\n";
  const std::string stats_js = absl::GetFlag(FLAGS_etsy_statsd) + "/stats.js";
  const pid_t pid = fork();
  if (pid == 0) {
    freopen("/dev/null", "w", stdout);
    execlp("node", "node", stats_js.c_str(), config.c_str(), nullptr);
    _exit(127);
  }
  for (int i = 0; i < 200; ++i) {
    if (EtsyCommand(mgmt_port, "counters").find("END") != std::string::npos) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  return pid;
}

// Sends to `side` at `rate` datagrams per second for --seconds and prints
// what it received; returns the loss, and the rate actually sent.
struct Attempt {
  double loss = 1;
  double sent_rate = 0;
};

Attempt Try(const Side& side, const std::vector<std::string>& datagrams,
            int lines, double rate) {
  const Received before = side.received();
  const absl::Time start = absl::Now();
  const uint64_t sent = SendAt(side.port, datagrams, rate,
                               absl::Seconds(absl::GetFlag(FLAGS_seconds)));
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  // Let the receiver catch up, until its counters stop moving (a loaded
  // machine can hold it back for a while): otherwise what it reads late
  // would count as this attempt's loss and the next one's gain.
  Received after = side.received();
  for (int i = 0; i < 50; ++i) {
    absl::SleepFor(absl::Milliseconds(200));
    const Received now = side.received();
    if (now.lines == after.lines) break;
    after = now;
  }
  const uint64_t got = after.datagrams - before.datagrams;
  const uint64_t got_lines = after.lines - before.lines;
  Attempt attempt;
  attempt.loss = 1.0 - static_cast<double>(got_lines) / (sent * lines);
  attempt.sent_rate = sent / seconds;
  std::printf(
      "%-6s %2d lines/datagram  asked %9.0f dgr/s  sent %9.0f dgr/s  "
      "received %9llu dgr %10llu lines  loss %7.3f %%\n",
      side.name.c_str(), lines, rate, attempt.sent_rate,
      static_cast<unsigned long long>(got),
      static_cast<unsigned long long>(got_lines), 100 * attempt.loss);
  std::fflush(stdout);
  return attempt;
}

// Rising rates until the side loses max_loss or more; returns the highest
// rate (lines per second) received with less.
double Ladder(const Side& side, int lines, double start_rate) {
  const std::vector<std::string> datagrams = Datagrams(lines);
  const double max_loss = absl::GetFlag(FLAGS_max_loss);
  double best = 0;
  for (double line_rate = start_rate;
       line_rate <= absl::GetFlag(FLAGS_max_rate); line_rate *= kStep) {
    const double rate = line_rate / lines;
    // The machine is shared: a step fails only if a second try fails too,
    // by losing or by the load generator falling behind the rate asked.
    bool held = false, lost = false;
    for (int attempt = 0; attempt < 2 && !held; ++attempt) {
      const Attempt result = Try(side, datagrams, lines, rate);
      lost = result.loss >= max_loss;
      if (!lost) best = std::max(best, result.sent_rate * lines);
      held = !lost && result.sent_rate >= 0.95 * rate;
    }
    if (held) continue;
    if (!lost) {
      std::printf("%-6s the load generator is the limit here\n",
                  side.name.c_str());
    }
    break;
  }
  return best;
}

int Run() {
  const std::string config_text = absl::StrFormat(
      R"pb(
        inputs {
          options {
            [type.googleapis.com/metlog.v1.StatsdInputConfig] {
              address: "127.0.0.1:0"
              reader_threads: %d
            }
          }
        }
        stats_interval_ms: 0
        sinks {
          name: "null"
          queue { overflow: BLOCK }
          options {
            [type.googleapis.com/metlog.sinks.NullOptions] {}
          }
        }
      )pb",
      absl::GetFlag(FLAGS_reader_threads));
  v1::RouterConfig config;
  if (!ParseTextProto(config_text, "benchmark", &config).ok()) return 1;
  auto router = Router::Create(config);
  if (!router.ok()) {
    std::fprintf(stderr, "%s\n", router.status().ToString().c_str());
    return 1;
  }
  (*router)->Start();
  const std::string address = (*router)->InputAddresses()[0];
  int router_port = 0;
  absl::SimpleAtoi(address.substr(address.rfind(':') + 1), &router_port);
  Router* const r = router->get();
  Side metlog{"router", router_port, [r] {
                const v1::StatsResponse stats = r->Stats();
                return Received{stats.inputs(0).packets_received(),
                                stats.inputs(0).messages_accepted()};
              }};

  const int etsy_port = FreePort(SOCK_DGRAM);
  const int mgmt_port = FreePort(SOCK_STREAM);
  const std::string etsy_config =
      absl::StrCat("/tmp/statsd_benchmark_", getpid(), ".js");
  const pid_t etsy = StartEtsy(etsy_port, mgmt_port, etsy_config);
  Side etsy_side{
      "etsy", etsy_port, [mgmt_port] {
        const std::string counters = EtsyCommand(mgmt_port, "counters");
        return Received{EtsyCounter(counters, "statsd.packets_received"),
                        EtsyCounter(counters, "statsd.metrics_received")};
      }};
  std::string rmem_max;
  std::ifstream("/proc/sys/net/core/rmem_max") >> rmem_max;
  std::printf(
      "net.core.rmem_max %s (caps the router's 4 MiB SO_RCVBUF; "
      "Etsy keeps Node's default)\n",
      rmem_max.c_str());
  // Per lines per datagram: each run's rates, Etsy's and the router's.
  std::map<int, std::vector<std::pair<double, double>>> rates;
  const int runs = absl::GetFlag(FLAGS_runs);
  for (int run = 1; run <= runs; ++run) {
    for (int lines : {1, 20}) {
      const double start_rate = absl::GetFlag(FLAGS_start_rate);
      const double etsy_rate =
          absl::GetFlag(FLAGS_etsy) ? Ladder(etsy_side, lines, start_rate) : 0;
      const double router_rate =
          absl::GetFlag(FLAGS_router)
              ? Ladder(metlog, lines, std::max(start_rate, etsy_rate))
              : 0;
      rates[lines].emplace_back(etsy_rate, router_rate);
      std::printf(
          "run %d/%d, %2d lines/datagram: etsy %9.0f lines/s, router %9.0f "
          "lines/s (%.1fx)\n",
          run, runs, lines, etsy_rate, router_rate,
          etsy_rate > 0 ? router_rate / etsy_rate : 0);
    }
  }
  kill(etsy, SIGTERM);
  waitpid(etsy, nullptr, 0);
  unlink(etsy_config.c_str());
  (*router)->Stop();
  const v1::StatsResponse stats = (*router)->Stats();
  std::printf(
      "router: input accepted %llu, null sink received %llu\n",
      static_cast<unsigned long long>(stats.inputs(0).messages_accepted()),
      static_cast<unsigned long long>(stats.sinks(0).received()));
  std::printf("medians of %d runs, each rate the highest below %.1f %% loss:\n",
              runs, 100 * absl::GetFlag(FLAGS_max_loss));
  for (const auto& [lines, pairs] : rates) {
    std::vector<double> etsy, router, ratio;
    for (const auto& [e, r] : pairs) {
      etsy.push_back(e);
      router.push_back(r);
      ratio.push_back(e > 0 ? r / e : 0);
    }
    std::printf(
        "%2d lines/datagram: etsy %9.0f lines/s (%7.0f dgr/s), router %9.0f "
        "lines/s (%7.0f dgr/s), router/etsy %.1fx (per-run ratios from "
        "%.1fx to %.1fx)\n",
        lines, Median(etsy), Median(etsy) / lines, Median(router),
        Median(router) / lines, Median(ratio),
        *std::min_element(ratio.begin(), ratio.end()),
        *std::max_element(ratio.begin(), ratio.end()));
  }
  return 0;
}

}  // namespace
}  // namespace metlog

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return metlog::Run();
}
