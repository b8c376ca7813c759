#ifndef METLOG_SINKS_CARBON_CARBON_SINK_H_
#define METLOG_SINKS_CARBON_CARBON_SINK_H_

#include <cstdint>
#include <optional>
#include <string>

#include "sinks/carbon/carbon.pb.h"
#include "sinks/sink.h"

namespace metlog {

// Graphite plaintext over TCP. A dropped connection is a transient error:
// the runner retries the whole batch after backoff and the sink reconnects,
// so a batch is never lost to a carbon restart (carbon keeps one value per
// timestamp, so a batch sent twice stores the same points). Bytes already
// in the kernel when carbon dies are beyond reach: plaintext has no acks.
class CarbonSink : public Sink {
 public:
  explicit CarbonSink(const sinks::CarbonOptions& options);
  ~CarbonSink() override;

  absl::Status Start() override;
  absl::Status Write(absl::Span<const MessagePtr> batch) override;
  uint64_t TakeUnusable() override;
  void Stop() override;

  // "path value timestamp\n", or nullopt when the message is no metric.
  std::optional<std::string> Line(const v1::Message& message) const;

 private:
  absl::Status Connect();
  // False when carbon has closed its end (it never sends anything, so a
  // readable socket means end of stream or an error).
  bool ConnectionAlive() const;

  const sinks::CarbonOptions options_;
  int fd_ = -1;
  uint64_t unusable_ = 0;
};

}  // namespace metlog

#endif  // METLOG_SINKS_CARBON_CARBON_SINK_H_
