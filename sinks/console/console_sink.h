#ifndef METLOG_SINKS_CONSOLE_CONSOLE_SINK_H_
#define METLOG_SINKS_CONSOLE_CONSOLE_SINK_H_

#include <cstdio>
#include <memory>
#include <string>

#include "sinks/codecs/encoder.h"
#include "sinks/codecs/repaired_strings_log.h"
#include "sinks/console/console.pb.h"
#include "sinks/sink.h"

namespace metlog {

// Writes one record per message (options.encoding; a text line unless set)
// to stdout or stderr, flushed after each batch
// so a tail of the router's output is current.
class ConsoleSink : public Sink {
 public:
  explicit ConsoleSink(const sinks::ConsoleOptions& options);

  absl::Status Write(absl::Span<const MessageView> batch,
                     absl::Time deadline) override;
  // Encodes from the wire view: queues hold the packet's bytes, no parse.
  bool ReadsMessages() const override { return false; }
  absl::Status Flush() override;

 private:
  FILE* const out_;
  const std::unique_ptr<Encoder> encoder_;
  RepairedStringsLog repaired_log_{"console sink"};
  std::string records_;  // one batch's, reused
};

}  // namespace metlog

#endif  // METLOG_SINKS_CONSOLE_CONSOLE_SINK_H_
