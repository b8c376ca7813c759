// The real back ends the sink tests talk to, each started on free loopback
// ports with its data under $TEST_TMPDIR and stopped when the handle goes:
// Etsy statsd (npm), Graphite's carbon-cache, Prometheus.
#ifndef METLOG_TOOLS_TESTING_PEERS_H_
#define METLOG_TOOLS_TESTING_PEERS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tools/testing/peer_process.h"

namespace metlog::testing {

// Etsy statsd with no backends and an hour-long flush interval, so nothing
// is reset while a test reads it through the management port.
class EtsyStatsd {
 public:
  static absl::StatusOr<EtsyStatsd> Start();

  int port() const { return port_; }
  // What statsd holds for `name` under `kind` ("counters", "timers",
  // "gauges") as statsd prints it ("5", "[ 12.5, 7 ]"), waiting up to 10 s
  // for it to appear; "" if it never does.
  std::string ValueOf(const std::string& kind, const std::string& name) const;

 private:
  EtsyStatsd() = default;
  int port_ = 0;
  int mgmt_port_ = 0;
  std::optional<PeerProcess> process_;
};

// carbon-cache with 1-second retention and whisper autoflush.
class CarbonCache {
 public:
  // Reuses `ports` (line, pickle, query) when given, to restart in place.
  static absl::StatusOr<CarbonCache> Start(std::vector<int> ports = {});

  int line_port() const { return ports_[0]; }
  const std::vector<int>& ports() const { return ports_; }
  absl::Status Stop();

  // Non-null values stored for `path` (dots, e.g. "shop.orders"), waiting up
  // to 20 s until at least `count` are there.
  std::vector<double> Values(const std::string& path, size_t count) const;

 private:
  CarbonCache() = default;
  std::vector<int> ports_;
  std::string dir_;
  std::optional<PeerProcess> process_;
};

// Prometheus scraping `target` (host:port) every second.
class Prometheus {
 public:
  static absl::StatusOr<Prometheus> Start(const std::string& target);

  // The value of the PromQL `query`'s first sample, waiting up to 30 s for
  // one to exist (Prometheus needs a few seconds before its first).
  std::optional<double> Query(const std::string& query) const;

 private:
  Prometheus() = default;
  int port_ = 0;
  std::optional<PeerProcess> process_;
};

}  // namespace metlog::testing

#endif  // METLOG_TOOLS_TESTING_PEERS_H_
