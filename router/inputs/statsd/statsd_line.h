// The statsd line protocol as Etsy statsd reads it, with DogStatsD tags:
//   name:value|type[|@rate][|#tag:value,tag...]
// type is c (counter), ms or h (timer), g (gauge; a leading + or - makes
// the value a delta), s (set). Several `value|type...` may follow one name,
// separated by ':' (`a:1|c:2|c`), as in Etsy's stats.js; a line without a
// value and type is refused, as Etsy counts it a bad line.
#ifndef METLOG_ROUTER_INPUTS_STATSD_STATSD_LINE_H_
#define METLOG_ROUTER_INPUTS_STATSD_STATSD_LINE_H_

#include <string>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace metlog {

// Longest metric name and most tags a line may carry; longer is refused.
inline constexpr size_t kMaxStatsdNameBytes = 1024;
inline constexpr size_t kMaxStatsdTags = 64;

struct StatsdSample {
  enum class Kind { kCounter, kTimer, kGauge, kSet };
  Kind kind = Kind::kCounter;
  absl::string_view name;
  // The value as sent, without a gauge delta's leading '+'; a number,
  // except for sets.
  absl::string_view value;
  double rate = 1.0;
  // A gauge's value is a change, not the new value.
  bool delta = false;
  // DogStatsD tags; a tag without ':' has an empty value.
  absl::InlinedVector<std::pair<absl::string_view, absl::string_view>, 4> tags;
};

// Parses one line (no newline) into one sample per value. Views point into
// `line`. On error `samples` holds nothing from this line.
absl::Status ParseStatsdLine(absl::string_view line,
                             absl::InlinedVector<StatsdSample, 1>* samples);

// The protobuf name of a sample's Metlog message type: "counter", "timer",
// "gauge" or "set".
absl::string_view StatsdMessageType(StatsdSample::Kind kind);

}  // namespace metlog

#endif  // METLOG_ROUTER_INPUTS_STATSD_STATSD_LINE_H_
