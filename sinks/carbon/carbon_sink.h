#ifndef METLOG_SINKS_CARBON_CARBON_SINK_H_
#define METLOG_SINKS_CARBON_CARBON_SINK_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "sinks/carbon/carbon.pb.h"
#include "sinks/distinct_members.h"
#include "sinks/metric.h"
#include "sinks/sink.h"

namespace metlog {

// Graphite plaintext over TCP. Whisper keeps one value per path and second,
// so the sink sends per (path, second) the running total of counters, the
// mean of timers and of histograms, the last gauge and the number of distinct
// set members, across batches: two counters in the same second are stored as
// their sum instead of the second overwriting the first. Gauge deltas need the
// gauge's current value, which carbon cannot tell us: the sink keeps each gauge
// path's latest value and applies a delta to it. Memory stays bounded as for
// the slots: a gauge path not written for an hour (by message timestamps) is
// forgotten, and a delta to it then starts from 0, as Etsy statsd does for a
// gauge it does not know. A set's slot keeps at most
// DistinctMembers::kMaxMembers (10 000) members (as hashes): beyond that the
// stored count stays at 10 000. A dropped connection is a transient error: the
// runner retries the whole batch after backoff and the sink reconnects, so a
// batch is never lost to a carbon restart (carbon keeps one value per
// timestamp, so a batch sent twice stores the same points). Bytes already
// in the kernel when carbon dies are beyond reach: plaintext has no acks.
// A carbon that accepts but stops reading cannot hold a write past the
// deadline the runner gives: the send times out (transient) instead.
class CarbonSink : public Sink {
 public:
  explicit CarbonSink(const sinks::CarbonOptions& options);
  ~CarbonSink() override;

  absl::Status Start() override;
  absl::Status Write(absl::Span<const MessageView> batch,
                     absl::Time deadline) override;
  // Shuts the connection down, which ends a send or connect in progress.
  void Cancel() override;
  // Metrics are read from the wire view (sinks/metric.h).
  bool ReadsMessages() const override { return false; }
  uint64_t TakeUnusable() override;
  void Stop() override;

  // The metric path for a message, or nullopt when it is no metric.
  std::optional<std::string> Path(const MessageView& message) const;

 private:
  // What one path has received in one second.
  struct Slot {
    Metric::Kind kind;
    double value = 0;         // counter total, timer sum, or last gauge
    double count = 0;         // timer (or histogram) samples
    DistinctMembers members;  // a set's
    double Stored() const {
      if (kind == Metric::Kind::kSet) return members.count();
      return count > 0 ? value / count : value;
    }
  };
  // A gauge path's latest value, and the second it was set.
  struct GaugeValue {
    double value = 0;
    int64_t second = 0;
  };
  using SlotKey = std::pair<std::string, int64_t>;  // path, unix second

  // Connects, giving up at the connect timeout or `deadline`, if nearer.
  absl::Status Connect(absl::Time deadline);
  // Sends all of `text` by `deadline`.
  absl::Status Send(absl::string_view text, absl::Time deadline);
  void Disconnect();
  // Keeps `touched` gauges' values for later deltas, within
  // max_gauge_paths, and forgets paths not written for an hour.
  void RememberGauges(const std::map<std::string, GaugeValue>& touched,
                      int64_t newest);
  // False when carbon has closed its end (it never sends anything, so a
  // readable socket means end of stream or an error).
  bool ConnectionAlive() const;

  const sinks::CarbonOptions options_;
  // Recent slots, so a later batch in the same second adds to them; entries
  // older than a minute are forgotten. Changed only once a batch is sent, so
  // a retried batch is not counted twice.
  std::map<SlotKey, Slot> slots_;
  // Each gauge path's latest value, for deltas; entries not written for an
  // hour are forgotten, at most max_gauge_paths kept. Changed, like slots_,
  // only once a batch is sent.
  std::map<std::string, GaugeValue> gauges_;
  int64_t last_gauge_prune_ = 0;  // message time of gauges_' last pruning
  // Changed only on the runner's thread, under fd_mu_ so that Cancel, from
  // another thread, never shuts down a descriptor already reused.
  absl::Mutex fd_mu_;
  int fd_ = -1;
  uint64_t unusable_ = 0;
};

// What the factory refuses before a CarbonSink is made: an address that is
// not host:port, a connect timeout outside 1..60000 ms, an empty name
// template. Errors name the option.
absl::Status CheckCarbonOptions(const sinks::CarbonOptions& options);

}  // namespace metlog

#endif  // METLOG_SINKS_CARBON_CARBON_SINK_H_
