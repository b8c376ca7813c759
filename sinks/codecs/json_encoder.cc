#include "sinks/codecs/json_encoder.h"

#include <cmath>

#include "absl/hash/hash.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "sinks/codecs/utf8_repair.h"

namespace metlog {
namespace {

bool IsAscii(absl::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

void AppendHex(absl::string_view bytes, std::string* out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    out->push_back(kDigits[byte >> 4]);
    out->push_back(kDigits[byte & 15]);
  }
}

// Characters JSON strings hold as they are: ASCII but for the quote, the
// backslash and the control characters. Most strings are only these.
bool IsPlain(absl::string_view text) {
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x80 || c == '"' || c == '\\') return false;
  }
  return true;
}

void AppendRawString(absl::string_view text, std::string* out) {
  out->push_back('"');
  out->append(text.data(), text.size());
  out->push_back('"');
}

}  // namespace

JsonEncoder::JsonEncoder() : writer_(buffer_) {}

void JsonEncoder::AppendWriterOutput(std::string* out) {
  out->append(buffer_.GetString(), buffer_.GetSize());
  buffer_.Clear();
  writer_.Reset(buffer_);
}

void JsonEncoder::AppendString(absl::string_view text, std::string* out) {
  if (IsPlain(text)) {
    AppendRawString(text, out);
    return;
  }
  if (!IsAscii(text)) {
    scratch_.clear();
    if (AppendRepairedUtf8(text, &scratch_)) ++repaired_strings_;
    text = scratch_;
  }
  // RapidJSON escapes the quote, the backslash and control characters.
  writer_.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
  AppendWriterOutput(out);
}

void JsonEncoder::AppendValue(v1::Field::ValueType type,
                              const FieldValue& value, std::string* out) {
  switch (type) {
    case v1::Field::STRING:
      AppendString(value.text, out);
      return;
    case v1::Field::BYTES:
      absl::Base64Escape(value.text, &scratch_);
      AppendRawString(scratch_, out);
      return;
    case v1::Field::INTEGER:
      absl::StrAppend(out, value.integer);
      return;
    case v1::Field::DOUBLE:
      if (std::isnan(value.number)) {
        out->append("\"NaN\"");
      } else if (std::isinf(value.number)) {
        out->append(value.number > 0 ? "\"Infinity\"" : "\"-Infinity\"");
      } else {
        // Shortest digits that read back to the same double, and always a
        // fraction or exponent ("1.0", "-0.0"), so readers keep it a double.
        writer_.Double(value.number);
        AppendWriterOutput(out);
      }
      return;
    case v1::Field::BOOL:
      out->append(value.flag ? "true" : "false");
      return;
  }
}

void JsonEncoder::Summarise(absl::Span<const FieldView> fields) {
  summaries_.clear();
  // 256 one-bit buckets by name hash: names compare only on a bucket clash.
  uint64_t buckets[4] = {};
  has_duplicates_ = false;
  for (size_t i = 0; i < fields.size(); ++i) {
    Summary summary;
    static_cast<FieldSummary&>(summary) = SummariseField(fields[i]);
    summary.bucket =
        static_cast<uint8_t>(absl::Hash<absl::string_view>{}(fields[i].name));
    uint64_t& word = buckets[summary.bucket >> 6];
    const uint64_t bit = uint64_t{1} << (summary.bucket & 63);
    if ((word & bit) != 0) {
      for (size_t j = 0; j < i && !has_duplicates_; ++j) {
        has_duplicates_ = summaries_[j].bucket == summary.bucket &&
                          fields[j].name == fields[i].name;
      }
    }
    word |= bit;
    summaries_.push_back(summary);
  }
}

bool JsonEncoder::NamedBefore(absl::Span<const FieldView> fields,
                              size_t index) const {
  for (size_t j = 0; has_duplicates_ && j < index; ++j) {
    if (fields[j].name == fields[index].name) return true;
  }
  return false;
}

void JsonEncoder::AppendFields(absl::Span<const FieldView> fields,
                               std::string* out) {
  Summarise(fields);
  // Whether field j is written with field i: itself, or a later namesake.
  auto same_key = [&](size_t i, size_t j) {
    return j == i || (has_duplicates_ && fields[j].name == fields[i].name);
  };
  out->append(",\"fields\":{");
  bool first_key = true;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (NamedBefore(fields, i)) continue;  // written with the first
    if (!first_key) out->push_back(',');
    first_key = false;
    AppendString(fields[i].name, out);
    out->push_back(':');
    // Namesakes can only follow when some name repeats.
    const size_t end = has_duplicates_ ? fields.size() : i + 1;
    size_t values = 0;
    for (size_t j = i; j < end; ++j) {
      if (same_key(i, j)) values += summaries_[j].values;
    }
    if (values != 1) out->push_back('[');
    bool first_value = true;
    for (size_t j = i; j < end; ++j) {
      if (!same_key(i, j) || summaries_[j].values == 0) continue;
      const v1::Field::ValueType type = fields[j].value_type;
      ForEachFieldValue(fields[j], [&](const FieldValue& value) {
        if (!first_value) out->push_back(',');
        first_value = false;
        AppendValue(type, value, out);
      });
    }
    if (values != 1) out->push_back(']');
  }
  out->push_back('}');

  bool started = false;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (summaries_[i].representation.empty()) continue;
    bool named_before = false;  // a namesake's representation came first
    for (size_t j = 0; has_duplicates_ && j < i && !named_before; ++j) {
      named_before = fields[j].name == fields[i].name &&
                     !summaries_[j].representation.empty();
    }
    if (named_before) continue;
    out->append(started ? "," : ",\"representations\":{");
    started = true;
    AppendString(fields[i].name, out);
    out->push_back(':');
    AppendString(summaries_[i].representation, out);
  }
  if (started) out->push_back('}');
}

void JsonEncoder::Append(const WireMessage& message,
                         absl::Span<const FieldView> fields, std::string* out) {
  out->append("{\"uuid\":\"");
  const absl::string_view uuid = message.uuid();
  if (uuid.size() == 16) {
    AppendHex(uuid.substr(0, 4), out);
    for (size_t start : {4, 6, 8, 10}) {
      out->push_back('-');
      AppendHex(uuid.substr(start, start == 10 ? 6 : 2), out);
    }
  } else {
    AppendHex(uuid, out);  // only hand-made views; the walker refuses it
  }
  out->append("\",\"timestamp\":\"");
  time_.Append(message.timestamp, 9, out);
  out->append("\",\"type\":");
  AppendString(message.type, out);
  out->append(",\"logger\":");
  AppendString(message.logger, out);
  absl::StrAppend(out, ",\"severity\":", message.severity,
                  ",\"severity_name\":\"", SeverityName(message.severity),
                  "\",\"payload\":");
  AppendString(message.payload, out);
  out->append(",\"env_version\":");
  AppendString(message.env_version, out);
  absl::StrAppend(out, ",\"pid\":", message.pid, ",\"hostname\":");
  AppendString(message.hostname, out);
  AppendFields(fields, out);
  out->append("}\n");
}

}  // namespace metlog
