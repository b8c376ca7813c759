#include "sinks/codecs/text_encoder.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace metlog {
namespace {

// Whether CHexEscape would leave `text` as it is: the common case, written
// without the copy CHexEscape makes.
bool NeedsNoEscape(absl::string_view text) {
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7f || c == '"' || c == '\'' || c == '\\') {
      return false;
    }
  }
  return true;
}

void AppendQuoted(absl::string_view text, std::string* out) {
  out->push_back('"');
  if (NeedsNoEscape(text)) {
    out->append(text.data(), text.size());
  } else {
    out->append(absl::CHexEscape(text));
  }
  out->push_back('"');
}

bool IsBareWord(absl::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!absl::ascii_isalnum(c) && !absl::StrContains("_.-:/%", c)) {
      return false;
    }
  }
  return true;
}

void AppendWord(absl::string_view text, std::string* out) {
  if (IsBareWord(text)) {
    out->append(text.data(), text.size());
  } else {
    AppendQuoted(text, out);
  }
}

void AppendValue(v1::Field::ValueType type, const FieldValue& value,
                 std::string* out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  switch (type) {
    case v1::Field::STRING:
      AppendQuoted(value.text, out);
      return;
    case v1::Field::BYTES:
      out->append("0x");
      for (char c : value.text) {
        const auto byte = static_cast<unsigned char>(c);
        out->push_back(kDigits[byte >> 4]);
        out->push_back(kDigits[byte & 15]);
      }
      return;
    case v1::Field::INTEGER:
      absl::StrAppend(out, value.integer);
      return;
    case v1::Field::DOUBLE:
      absl::StrAppend(out, value.number);
      return;
    case v1::Field::BOOL:
      out->append(value.flag ? "true" : "false");
      return;
  }
}

}  // namespace

void TextEncoder::Append(const WireMessage& message,
                         absl::Span<const FieldView> fields, std::string* out) {
  time_.Append(message.timestamp, 6, out);
  const absl::string_view severity_name = SeverityName(message.severity);
  if (severity_name.empty()) {
    absl::StrAppend(out, " SEVERITY(", message.severity, ")(", message.severity,
                    ")");
  } else {
    absl::StrAppend(out, " ", severity_name, "(", message.severity, ")");
  }
  out->append(" type=");
  AppendQuoted(message.type, out);
  out->append(" logger=");
  AppendQuoted(message.logger, out);
  out->append(" host=");
  AppendQuoted(message.hostname, out);
  absl::StrAppend(out, " pid=", message.pid, " payload=");
  AppendQuoted(message.payload, out);
  for (const FieldView& field : fields) {
    out->push_back(' ');
    AppendWord(field.name, out);
    out->push_back('=');
    bool first = true;
    ForEachFieldValue(field, [&](const FieldValue& value) {
      if (!first) out->push_back(',');
      first = false;
      AppendValue(field.value_type, value, out);
    });
    const absl::string_view representation =
        SummariseField(field).representation;
    if (!representation.empty()) {
      out->push_back('[');
      AppendWord(representation, out);
      out->push_back(']');
    }
  }
  out->push_back('\n');
}

}  // namespace metlog
