// Reads DESIGN.md's metric conventions out of a message, for the sinks that
// speak metrics (statsd, carbon, prometheus):
//   counter: type "counter", payload = count, fields "name", "rate";
//   timer:   type "timer", payload = milliseconds, fields "name", "rate";
//   histogram: type "histogram", payload = a value in any unit, fields
//            "name", "rate": a distribution like a timer's, not of
//            durations (statsd's "h"; the back ends store it as they store
//            timers);
//   gauge:   type "gauge", payload = value, field "name"; with the bool
//            field "delta" = true (a text "true" is read the same) the
//            payload is a signed change to the gauge's current value
//            (statsd's "g" with an explicit +/-), not a new value;
//   set:     type "set", payload = a member (any non-empty text), field
//            "name": the back end counts the distinct members it sees
//            (statsd's "s").
// Everything here reads the message's wire view: a metric sink never makes
// the router parse a message.
#ifndef METLOG_SINKS_METRIC_H_
#define METLOG_SINKS_METRIC_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "sinks/message/message_view.h"

namespace metlog {

struct Metric {
  enum class Kind { kCounter, kTimer, kHistogram, kGauge, kSet };
  Kind kind;
  std::string name;    // the "name" field, or the rendered template
  double value = 0;    // the payload as a number; 0 for a set
  double rate = 1.0;   // sampling rate, 1 when absent
  bool delta = false;  // a gauge whose value is a change, not a new value
  std::string member;  // a set's member (its payload)
};

// The metric a message carries, or nullopt when it is not a counter, timer,
// histogram, gauge or set, has no name, or its payload is not a finite number
// (for a set: is empty).
std::optional<Metric> ReadMetric(const MessageView& message);

// The first value of field `name` as text (numbers formatted), or nullopt.
std::optional<std::string> FieldText(const MessageView& message,
                                     absl::string_view name);

// Expands {name}, {type}, {logger}, {hostname} and {fields.KEY} in
// `name_template` from the message; an absent part expands to "". Returns
// nullopt when {name} is used and the message has no name.
std::optional<std::string> RenderName(absl::string_view name_template,
                                      const MessageView& message);

// `value` as the shortest text that reads back as the same double ("0.1",
// "1e+21"), whole numbers below 1e15 in full ("1000000"); -0 is "0".
// absl::StrCat keeps only six significant digits, which back ends that add
// values up (statsd gauges, counter totals) would accumulate as error.
std::string MetricNumber(double value);

}  // namespace metlog

#endif  // METLOG_SINKS_METRIC_H_
