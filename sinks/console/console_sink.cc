#include "sinks/console/console_sink.h"

#include <cerrno>

#include "absl/strings/str_cat.h"

namespace metlog {
namespace {

sinks::EncodingOptions::Codec CodecOf(const sinks::ConsoleOptions& options) {
  if (options.encoding().has_codec()) return options.encoding().codec();
  return options.format() == sinks::ConsoleOptions::JSON
             ? sinks::EncodingOptions::JSON
             : sinks::EncodingOptions::TEXT;
}

// A stream whose reader has gone (EPIPE: `router | head`) never takes
// writes again, so that is permanent; other errors may pass.
absl::Status StreamError(FILE* stream, absl::string_view what) {
  const int error = errno;
  clearerr(stream);
  if (error == EPIPE) {
    return absl::FailedPreconditionError(
        absl::StrCat("console: ", what, ": the stream's reader has gone"));
  }
  return ErrnoError(error, absl::StrCat("console: ", what));
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
    return StreamError(out_, "write");
  }
  return Flush();
}

absl::Status ConsoleSink::Flush() {
  if (fflush(out_) != 0) return StreamError(out_, "flush");
  return absl::OkStatus();
}

namespace {
const SinkRegistrationOf<sinks::ConsoleOptions, ConsoleSink> kRegistration;
}  // namespace

}  // namespace metlog
