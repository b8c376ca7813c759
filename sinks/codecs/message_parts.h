// Pieces of a message that more than one encoder writes the same way: the
// timestamp as RFC 3339, the severity's name, a field's values in order.
#ifndef METLOG_SINKS_CODECS_MESSAGE_PARTS_H_
#define METLOG_SINKS_CODECS_MESSAGE_PARTS_H_

#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/string_view.h"
#include "sinks/message/wire_message.h"

namespace metlog {

// "EMERGENCY" … "DEBUG" for 0…7, "" otherwise (the walker refuses other
// severities, so only hand-made views have one).
absl::string_view SeverityName(int severity);

// Appends nanoseconds since the Unix epoch as RFC 3339 UTC with
// `fraction_digits` (1-9) digits of the second, truncated, e.g.
// "2026-11-25T15:45:00.123456789Z". Remembers the last second it formatted:
// consecutive messages mostly share it.
class Rfc3339Formatter {
 public:
  void Append(int64_t unix_nanos, int fraction_digits, std::string* out);

 private:
  int64_t cached_second_ = 0;
  bool cached_ = false;
  char date_time_[19] = {};  // "YYYY-MM-DDTHH:MM:SS"
};

// What one walk over a field's bytes tells: its representation ("" when it
// has none) and how many values of its value_type it holds.
struct FieldSummary {
  absl::string_view representation;
  size_t values = 0;
};
FieldSummary SummariseField(const FieldView& field);

// Calls visit(value) for each value of the field's value_type, in wire order
// (packed and unpacked alike), as FieldValue: `text` for STRING and BYTES,
// `integer`, `number` (DOUBLE) or `flag` (BOOL). Values of other types are
// ignored, as everywhere a field is read.
template <typename Visit>
void ForEachFieldValue(const FieldView& field, Visit visit) {
  const int wanted = 4 + static_cast<int>(field.value_type);
  const bool is_text = field.value_type == v1::Field::STRING ||
                       field.value_type == v1::Field::BYTES;
  const bool is_fixed64 = field.value_type == v1::Field::DOUBLE;
  auto scalar = [&](WireReader& in) {
    uint64_t raw = 0;
    if (!(is_fixed64 ? in.ReadFixed64(&raw) : in.ReadVarint(&raw))) {
      return false;
    }
    FieldValue value;
    value.integer = static_cast<int64_t>(raw);
    value.flag = raw != 0;
    static_assert(sizeof(value.number) == sizeof(raw), "");
    std::memcpy(&value.number, &raw, sizeof(raw));
    visit(value);
    return true;
  };
  WireReader in(field.bytes);
  int number = 0, wire_type = 0;
  while (in.ReadTag(&number, &wire_type)) {
    if (number != wanted) {
      if (!in.Skip(wire_type)) return;
      continue;
    }
    if (is_text || wire_type == WireReader::kLength) {
      absl::string_view view;
      if (!in.ReadView(&view)) return;
      if (is_text) {
        FieldValue value;
        value.text = view;
        visit(value);
        continue;
      }
      WireReader packed(view);
      while (!packed.at_end()) {
        if (!scalar(packed)) return;
      }
    } else if (!scalar(in)) {
      return;
    }
  }
}

}  // namespace metlog

#endif  // METLOG_SINKS_CODECS_MESSAGE_PARTS_H_
