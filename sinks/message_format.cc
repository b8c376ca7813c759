#include "sinks/message_format.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"

namespace metlog {
namespace {

std::string Quoted(absl::string_view text) {
  return absl::StrCat("\"", absl::CHexEscape(text), "\"");
}

// Field names and representations are written bare when they hold only
// these, and quoted and C-escaped otherwise, so that neither can break the
// line or pass for another key=value.
bool IsBareWord(absl::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!absl::ascii_isalnum(c) && !absl::StrContains("_.-:/%", c)) {
      return false;
    }
  }
  return true;
}

std::string Word(absl::string_view text) {
  return IsBareWord(text) ? std::string(text) : Quoted(text);
}

std::string FieldValues(const v1::Field& field) {
  switch (field.value_type()) {
    case v1::Field::STRING:
      return absl::StrJoin(field.value_string(), ",",
                           [](std::string* out, const std::string& v) {
                             out->append(Quoted(v));
                           });
    case v1::Field::BYTES:
      return absl::StrJoin(
          field.value_bytes(), ",", [](std::string* out, const std::string& v) {
            absl::StrAppend(out, "0x", absl::BytesToHexString(v));
          });
    case v1::Field::INTEGER:
      return absl::StrJoin(field.value_integer(), ",");
    case v1::Field::DOUBLE:
      return absl::StrJoin(field.value_double(), ",");
    case v1::Field::BOOL:
      return absl::StrJoin(
          field.value_bool(), ",",
          [](std::string* out, bool v) { out->append(v ? "true" : "false"); });
  }
  return "";
}

}  // namespace

std::string SeverityName(int severity) {
  static constexpr const char* kNames[] = {"EMERGENCY", "ALERT",   "CRITICAL",
                                           "ERROR",     "WARNING", "NOTICE",
                                           "INFO",      "DEBUG"};
  if (severity >= 0 && severity <= 7) return kNames[severity];
  return absl::StrCat("SEVERITY(", severity, ")");
}

std::string FormatText(const v1::Message& message) {
  std::string line = absl::StrCat(
      absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ",
                       absl::FromUnixNanos(message.timestamp()),
                       absl::UTCTimeZone()),
      " ", SeverityName(message.severity()), "(", message.severity(), ")",
      " type=", Quoted(message.type()), " logger=", Quoted(message.logger()),
      " host=", Quoted(message.hostname()), " pid=", message.pid(),
      " payload=", Quoted(message.payload()));
  for (const v1::Field& field : message.fields()) {
    absl::StrAppend(&line, " ", Word(field.name()), "=", FieldValues(field));
    if (!field.representation().empty()) {
      absl::StrAppend(&line, "[", Word(field.representation()), "]");
    }
  }
  return line;
}

std::string FormatJson(const v1::Message& message) {
  std::string json;
  // Serializing a valid message cannot fail; the status is only for parsing.
  (void)google::protobuf::util::MessageToJsonString(message, &json);
  return json;
}

}  // namespace metlog
