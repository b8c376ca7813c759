#include "sinks/console/console_sink.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "sinks/message_format.h"

namespace metlog {

ConsoleSink::ConsoleSink(const sinks::ConsoleOptions& options)
    : options_(options),
      out_(options.stream() == sinks::ConsoleOptions::STDERR ? stderr
                                                             : stdout) {}

// stdout is the operator's to read; a write to it takes no deadline.
absl::Status ConsoleSink::Write(absl::Span<const MessageRef> batch,
                                absl::Time /*deadline*/) {
  std::string text;
  for (const MessageRef& message : batch) {
    absl::StrAppend(&text,
                    options_.format() == sinks::ConsoleOptions::JSON
                        ? FormatJson(*message)
                        : FormatText(*message),
                    "\n");
  }
  if (fwrite(text.data(), 1, text.size(), out_) != text.size()) {
    return TransientError("console: short write");
  }
  return Flush();
}

absl::Status ConsoleSink::Flush() {
  if (fflush(out_) != 0) return TransientError("console: flush failed");
  return absl::OkStatus();
}

namespace {
const SinkRegistrationOf<sinks::ConsoleOptions, ConsoleSink> kRegistration;
}  // namespace

}  // namespace metlog
