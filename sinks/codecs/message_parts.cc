#include "sinks/codecs/message_parts.h"

#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace metlog {
namespace {

constexpr int64_t kNanosPerSecond = 1000000000;

void PutDigits(int64_t value, int digits, char* out) {
  for (int i = digits - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

}  // namespace

absl::string_view SeverityName(int severity) {
  static constexpr absl::string_view kNames[] = {
      "EMERGENCY", "ALERT",  "CRITICAL", "ERROR",
      "WARNING",   "NOTICE", "INFO",     "DEBUG"};
  if (severity >= 0 && severity <= 7) return kNames[severity];
  return "";
}

void Rfc3339Formatter::Append(int64_t unix_nanos, int fraction_digits,
                              std::string* out) {
  // Floor division: a time before 1970 still has a fraction in [0, 1 s).
  int64_t second = unix_nanos / kNanosPerSecond;
  int64_t nanos = unix_nanos % kNanosPerSecond;
  if (nanos < 0) {
    nanos += kNanosPerSecond;
    --second;
  }
  if (!cached_ || second != cached_second_) {
    const absl::CivilSecond civil =
        absl::ToCivilSecond(absl::FromUnixSeconds(second), absl::UTCTimeZone());
    // int64 nanoseconds span the years 1677 to 2262: always four digits.
    PutDigits(civil.year(), 4, date_time_);
    date_time_[4] = '-';
    PutDigits(civil.month(), 2, date_time_ + 5);
    date_time_[7] = '-';
    PutDigits(civil.day(), 2, date_time_ + 8);
    date_time_[10] = 'T';
    PutDigits(civil.hour(), 2, date_time_ + 11);
    date_time_[13] = ':';
    PutDigits(civil.minute(), 2, date_time_ + 14);
    date_time_[16] = ':';
    PutDigits(civil.second(), 2, date_time_ + 17);
    cached_second_ = second;
    cached_ = true;
  }
  char fraction[11];
  fraction[0] = '.';
  for (int i = fraction_digits; i < 9; ++i) nanos /= 10;
  PutDigits(nanos, fraction_digits, fraction + 1);
  fraction[fraction_digits + 1] = 'Z';
  out->append(date_time_, sizeof(date_time_));
  out->append(fraction, fraction_digits + 2);
}

FieldSummary SummariseField(const FieldView& field) {
  FieldSummary summary;
  const int wanted = 4 + static_cast<int>(field.value_type);
  WireReader in(field.bytes);
  int number = 0, wire_type = 0;
  while (in.ReadTag(&number, &wire_type)) {
    if (wire_type != WireReader::kLength || (number != 3 && number != wanted)) {
      if (!in.Skip(wire_type)) break;
      if (number == wanted) ++summary.values;  // one unpacked scalar
      continue;
    }
    absl::string_view view;
    if (!in.ReadView(&view)) break;
    if (number == 3) {
      summary.representation = view;  // the last wins, as when parsed
    } else if (field.value_type == v1::Field::STRING ||
               field.value_type == v1::Field::BYTES) {
      ++summary.values;
    } else if (field.value_type == v1::Field::DOUBLE) {
      summary.values += view.size() / 8;  // packed fixed64
    } else {
      for (char c : view) {  // packed varints: one final byte each
        if (static_cast<unsigned char>(c) < 0x80) ++summary.values;
      }
    }
  }
  return summary;
}

}  // namespace metlog
