// Says in the router's log that an encoder replaced invalid UTF-8, so that
// a repair is never silent, without a line per message.
#ifndef METLOG_SINKS_CODECS_REPAIRED_STRINGS_LOG_H_
#define METLOG_SINKS_CODECS_REPAIRED_STRINGS_LOG_H_

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "sinks/codecs/encoder.h"

namespace metlog {

class RepairedStringsLog {
 public:
  explicit RepairedStringsLog(std::string sink) : sink_(std::move(sink)) {}

  // Logs a warning with the total repaired by `encoder` if it grew since the
  // last warning, at most once a minute.
  void Update(const Encoder& encoder);

 private:
  const std::string sink_;
  uint64_t logged_ = 0;
  absl::Time next_warning_ = absl::InfinitePast();
};

}  // namespace metlog

#endif  // METLOG_SINKS_CODECS_REPAIRED_STRINGS_LOG_H_
