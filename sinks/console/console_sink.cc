#include "sinks/console/console_sink.h"

namespace metlog {
namespace {

sinks::EncodingOptions::Codec CodecOf(const sinks::ConsoleOptions& options) {
  if (options.encoding().has_codec()) return options.encoding().codec();
  return options.format() == sinks::ConsoleOptions::JSON
             ? sinks::EncodingOptions::JSON
             : sinks::EncodingOptions::TEXT;
}

}  // namespace

ConsoleSink::ConsoleSink(const sinks::ConsoleOptions& options)
    : out_(options.stream() == sinks::ConsoleOptions::STDERR ? stderr : stdout),
      encoder_(MakeEncoder(CodecOf(options))) {}

// stdout is the operator's to read; a write to it takes no deadline.
absl::Status ConsoleSink::Write(absl::Span<const MessageView> batch,
                                absl::Time /*deadline*/) {
  records_.clear();
  for (const MessageView& message : batch) encoder_->Append(message, &records_);
  repaired_log_.Update(*encoder_);
  if (fwrite(records_.data(), 1, records_.size(), out_) != records_.size()) {
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
