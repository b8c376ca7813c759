#ifndef METLOG_SINKS_CONSOLE_CONSOLE_SINK_H_
#define METLOG_SINKS_CONSOLE_CONSOLE_SINK_H_

#include <cstdio>

#include "sinks/console/console.pb.h"
#include "sinks/sink.h"

namespace metlog {

// Writes one line per message to stdout or stderr, flushed after each batch
// so a tail of the router's output is current.
class ConsoleSink : public Sink {
 public:
  explicit ConsoleSink(const sinks::ConsoleOptions& options);

  absl::Status Write(absl::Span<const MessageRef> batch,
                     absl::Time deadline) override;
  absl::Status Flush() override;

 private:
  const sinks::ConsoleOptions options_;
  FILE* const out_;
};

}  // namespace metlog

#endif  // METLOG_SINKS_CONSOLE_CONSOLE_SINK_H_
