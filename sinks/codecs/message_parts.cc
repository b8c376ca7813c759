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
      "EMERGENCY", "ALERT", "CRITICAL", "ERROR",
      "WARNING",   "NOTICE", "INFO",    "DEBUG"};
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

absl::string_view FieldRepresentation(const FieldView& field) {
  absl::string_view representation;
  WireReader in(field.bytes);
  int number = 0, wire_type = 0;
  while (in.ReadTag(&number, &wire_type)) {
    if (number == 3 && wire_type == WireReader::kLength) {
      // The last one wins, as when protobuf parses the field.
      if (!in.ReadView(&representation)) break;
    } else if (!in.Skip(wire_type)) {
      break;
    }
  }
  return representation;
}

}  // namespace metlog
