// Messages as one JSON object per line, in a schema log tools read as is
// (the README shows it with an example line):
//   uuid           "8-4-4-4-12" lower-case hex
//   timestamp      RFC 3339 UTC with nanoseconds,
//   "2026-11-25T15:45:00.123456789Z" type, logger, payload, env_version,
//   hostname   strings severity       number; severity_name "EMERGENCY" …
//   "DEBUG" pid            number fields         object, name → a scalar for
//   one value, an array otherwise
//                  (so an empty field is []): strings, base64 bytes (RFC 4648
//                  standard alphabet, padded), integers, doubles, booleans
//   representations  object, name → representation; only when a field has one
// Every key but representations is always written, empty or zero when the
// message left it out.
//
// Rules that keep any input valid JSON that reads back to the same values:
// - Fields sharing a name are one key, its values those of each such field in
//   message order; its representation is the first non-empty one.
// - Strings that are not valid UTF-8 (field names, representations and every
//   string value included) get U+FFFD for each byte that does not start a
//   valid sequence; the rest is kept. Each such string is counted
//   (repaired_strings()), and the sinks log the count.
// - Doubles are written shortest-first so that they parse back to the same
//   bits (RapidJSON's Grisu2); NaN and ±infinity, which JSON has no numbers
//   for, are the strings "NaN", "Infinity" and "-Infinity".
// - Integers are JSON numbers: exact for Python, Go, DuckDB; tools that read
//   numbers as doubles (jq 1.6, JavaScript) round those past 2^53.
#ifndef METLOG_SINKS_CODECS_JSON_ENCODER_H_
#define METLOG_SINKS_CODECS_JSON_ENCODER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "sinks/codecs/encoder.h"
#include "sinks/codecs/message_parts.h"

namespace metlog {

class JsonEncoder : public Encoder {
 public:
  JsonEncoder();

  using Encoder::Append;
  void Append(const WireMessage& message, absl::Span<const FieldView> fields,
              std::string* out) override;
  uint64_t repaired_strings() const override { return repaired_strings_; }

 private:
  // Appends `text` as a JSON string, repairing invalid UTF-8.
  void AppendString(absl::string_view text, std::string* out);
  void AppendValue(v1::Field::ValueType type, const FieldValue& value,
                   std::string* out);
  // Appends "fields" and, when a field has one, "representations".
  void AppendFields(absl::Span<const FieldView> fields, std::string* out);
  // Fills summaries_ and has_duplicates_ for the message's fields.
  void Summarise(absl::Span<const FieldView> fields);
  // Whether a field before `index` has its name.
  bool NamedBefore(absl::Span<const FieldView> fields, size_t index) const;
  // Moves what writer_ wrote (one escaped string or one double) to *out.
  void AppendWriterOutput(std::string* out);

  // The fixed structure is appended directly; RapidJSON escapes the strings
  // that need it and formats doubles (measured: writing every plain string
  // through its Writer cost more than the rest of the encoding).
  rapidjson::StringBuffer buffer_;
  rapidjson::Writer<rapidjson::StringBuffer> writer_;
  std::string scratch_;  // repaired strings, base64, the timestamp
  struct Summary : FieldSummary {
    uint8_t bucket = 0;  // of the name's hash
  };
  std::vector<Summary> summaries_;  // one per field of the message
  bool has_duplicates_ = false;     // two fields share a name
  Rfc3339Formatter time_;
  uint64_t repaired_strings_ = 0;
};

}  // namespace metlog

#endif  // METLOG_SINKS_CODECS_JSON_ENCODER_H_
