#include "sinks/codecs/repaired_strings_log.h"

#include "absl/time/clock.h"
#include "glog/logging.h"

namespace metlog {

void RepairedStringsLog::Update(const Encoder& encoder) {
  const uint64_t repaired = encoder.repaired_strings();
  if (repaired == logged_) return;
  const absl::Time now = absl::Now();
  if (now < next_warning_) return;
  LOG(WARNING) << sink_ << ": " << repaired - logged_
               << " more strings were not valid UTF-8 and had bytes replaced "
                  "by U+FFFD ("
               << repaired << " since start)";
  logged_ = repaired;
  next_warning_ = now + absl::Minutes(1);
}

}  // namespace metlog
