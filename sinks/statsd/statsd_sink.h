#ifndef METLOG_SINKS_STATSD_STATSD_SINK_H_
#define METLOG_SINKS_STATSD_STATSD_SINK_H_

#include <cstdint>
#include <string>
#include <vector>

#include "sinks/sink.h"
#include "sinks/statsd/statsd.pb.h"

namespace metlog {

// Turns metric messages into statsd lines ("name:1|c|@0.1", "name:12.5|ms",
// "name:7|g", a gauge delta "name:+2|g" or "name:-2|g", a set member
// "name:user-17|s"; a histogram goes as a timer, "name:0.5|ms") and sends them
// packed into UDP datagrams. A failed send is classified by its errno
// (sinks/sink.h): a refused or full socket is transient and the runner retries
// the whole batch, so after a statsd outage a batch may be counted twice rather
// than lost; an error no retry can cure is permanent. A metric whose line no
// UDP datagram can carry is left out and counted as unusable.
class StatsdSink : public Sink {
 public:
  explicit StatsdSink(const sinks::StatsdOptions& options);
  ~StatsdSink() override;

  absl::Status Start() override;
  absl::Status Write(absl::Span<const MessageView> batch,
                     absl::Time deadline) override;
  // Metrics are read from the wire view (sinks/metric.h).
  bool ReadsMessages() const override { return false; }
  uint64_t TakeUnusable() override;
  void Stop() override;

  // The statsd lines for one message (a negative absolute gauge takes two,
  // "0" then "-5", since statsd reads "-5" alone as a decrement); empty when
  // it is no metric. A set member's ':', '|' and newlines become '_'.
  std::vector<std::string> Lines(const MessageView& message) const;

 private:
  absl::Status SendDatagram(const std::string& datagram, absl::Time deadline);

  const sinks::StatsdOptions options_;
  int fd_ = -1;
  uint64_t unusable_ = 0;
};

// What the factory refuses before a StatsdSink is made: an address that is
// not host:port, a datagram bound outside 1..65507 (UDP's largest payload),
// an empty name template. Errors name the option.
absl::Status CheckStatsdOptions(const sinks::StatsdOptions& options);

}  // namespace metlog

#endif  // METLOG_SINKS_STATSD_STATSD_SINK_H_
