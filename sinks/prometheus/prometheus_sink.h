#ifndef METLOG_SINKS_PROMETHEUS_PROMETHEUS_SINK_H_
#define METLOG_SINKS_PROMETHEUS_PROMETHEUS_SINK_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "sinks/distinct_members.h"
#include "sinks/metric.h"
#include "sinks/prometheus/prometheus.pb.h"
#include "sinks/sink.h"

namespace httplib {
class Server;
}

namespace metlog {

// What the factory refuses before a PrometheusSink is made, so that the
// exposition stays valid: a listen address that is not host:port (port
// 0..65535); label fields named "le" (histograms' bucket label) or starting
// with "__" once made label-safe, or two that become the same label;
// bucket bounds that are negative, not finite or not increasing; max_series
// 0; an empty name template. Errors name the option.
absl::Status CheckPrometheusOptions(const sinks::PrometheusOptions& options);

// Keeps the latest state of every series in memory and serves it over HTTP
// (cpp-httplib) on its own thread. A gauge delta is added to the series'
// value (a series' first delta starts from 0). A set becomes a gauge NAME of
// the distinct members seen since the sink started, kept as hashes: at most
// DistinctMembers::kMaxMembers (10 000) per series and kMaxSetMembers in
// all; members beyond are not counted (the gauge stops growing) and are
// counted in metlog_prometheus_set_members_refused_total. State lives as long
// as the sink: a reload that changes this sink's config starts from zero, which
// Prometheus reads as a counter reset.
class PrometheusSink : public Sink {
 public:
  // Set members kept over all series: about 16 MB of hashes.
  static constexpr uint64_t kMaxSetMembers = 1000000;

  // `options` must pass CheckPrometheusOptions (the registry checks).
  explicit PrometheusSink(const sinks::PrometheusOptions& options);
  ~PrometheusSink() override;

  // Binds the listen address and starts serving.
  absl::Status Start() override;
  absl::Status Write(absl::Span<const MessageView> batch,
                     absl::Time deadline) override;
  // Metrics are read from the wire view (sinks/metric.h).
  bool ReadsMessages() const override { return false; }
  uint64_t TakeUnusable() override;
  void Stop() override;

  // The port bound by Start().
  int port() const { return port_; }
  // The exposition text served at /metrics.
  std::string Exposition() const;

 private:
  struct Series {
    std::string labels;                 // rendered: {a="1",b="2"} or empty
    double value = 0;                   // counter total or gauge value
    std::vector<double> bucket_counts;  // histogram, cumulative at render
    double sum = 0;
    double count = 0;
    DistinctMembers members;  // a set's
  };
  struct Family {
    Metric::Kind kind;
    std::map<std::string, Series> series;  // by rendered labels
  };

  // Applies one message; false when it is no metric.
  bool Apply(const MessageView& message) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string Labels(const MessageView& message) const;

  const sinks::PrometheusOptions options_;
  const std::vector<double> buckets_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  uint64_t unusable_ = 0;

  mutable absl::Mutex mu_;
  std::map<std::string, Family> families_ ABSL_GUARDED_BY(mu_);
  uint64_t series_count_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t series_refused_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t set_members_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t set_members_refused_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace metlog

#endif  // METLOG_SINKS_PROMETHEUS_PROMETHEUS_SINK_H_
