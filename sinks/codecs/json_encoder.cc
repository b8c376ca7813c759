#include "sinks/codecs/json_encoder.h"

#include <cmath>

#include "absl/strings/escaping.h"
#include "rapidjson/encodings.h"

namespace metlog {
namespace {

// A bounded input stream for RapidJSON's UTF-8 validator (its own
// StringStream reads up to a NUL, and ours have none).
class ByteStream {
 public:
  using Ch = char;
  ByteStream(const char* begin, const char* end) : next_(begin), end_(end) {}
  Ch Peek() const { return next_ != end_ ? *next_ : '\0'; }
  Ch Take() { return next_ != end_ ? *next_++ : '\0'; }
  size_t Tell() const { return 0; }
  const char* next() const { return next_; }

 private:
  const char* next_;
  const char* end_;
};

// Collects what the validator copies, into the encoder's scratch string.
struct AppendStream {
  using Ch = char;
  std::string* out;
  void Put(Ch c) { out->push_back(c); }
};

bool IsAscii(absl::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

constexpr char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD

void AppendHex(absl::string_view bytes, std::string* out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    out->push_back(kDigits[byte >> 4]);
    out->push_back(kDigits[byte & 15]);
  }
}

}  // namespace

JsonEncoder::JsonEncoder() : writer_(buffer_) {}

void JsonEncoder::WriteString(absl::string_view text) {
  if (IsAscii(text)) {
    writer_.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
    return;
  }
  // Copies valid sequences and replaces each byte that starts none, using
  // RapidJSON's validator (which also refuses overlong forms and
  // surrogates).
  scratch_.clear();
  bool repaired = false;
  const char* next = text.data();
  const char* const end = text.data() + text.size();
  AppendStream copy{&scratch_};
  while (next != end) {
    ByteStream in(next, end);
    const size_t before = scratch_.size();
    if (rapidjson::UTF8<>::Validate(in, copy)) {
      next = in.next();
    } else {
      scratch_.resize(before);
      scratch_.append(kReplacement);
      repaired = true;
      ++next;
    }
  }
  if (repaired) ++repaired_strings_;
  writer_.String(scratch_.data(),
                 static_cast<rapidjson::SizeType>(scratch_.size()));
}

void JsonEncoder::WriteValue(v1::Field::ValueType type,
                             const FieldValue& value) {
  switch (type) {
    case v1::Field::STRING:
      WriteString(value.text);
      return;
    case v1::Field::BYTES:
      absl::Base64Escape(value.text, &scratch_);
      writer_.String(scratch_.data(),
                     static_cast<rapidjson::SizeType>(scratch_.size()));
      return;
    case v1::Field::INTEGER:
      writer_.Int64(value.integer);
      return;
    case v1::Field::DOUBLE:
      if (std::isnan(value.number)) {
        writer_.String("NaN");
      } else if (std::isinf(value.number)) {
        writer_.String(value.number > 0 ? "Infinity" : "-Infinity");
      } else {
        writer_.Double(value.number);
      }
      return;
    case v1::Field::BOOL:
      writer_.Bool(value.flag);
      return;
  }
}

namespace {

// Whether a field before `index` has the same name (and so was written with
// that one).
bool NameSeenBefore(absl::Span<const FieldView> fields, size_t index) {
  for (size_t i = 0; i < index; ++i) {
    if (fields[i].name == fields[index].name) return true;
  }
  return false;
}

}  // namespace

void JsonEncoder::WriteFields(absl::Span<const FieldView> fields) {
  writer_.Key("fields");
  writer_.StartObject();
  for (size_t i = 0; i < fields.size(); ++i) {
    if (NameSeenBefore(fields, i)) continue;
    WriteString(fields[i].name);
    size_t values = 0;
    for (size_t j = i; j < fields.size() && values < 2; ++j) {
      if (fields[j].name != fields[i].name) continue;
      ForEachFieldValue(fields[j], [&](const FieldValue&) { ++values; });
    }
    if (values != 1) writer_.StartArray();
    for (size_t j = i; j < fields.size(); ++j) {
      if (fields[j].name != fields[i].name) continue;
      const v1::Field::ValueType type = fields[j].value_type;
      ForEachFieldValue(fields[j],
                        [&](const FieldValue& value) { WriteValue(type, value); });
    }
    if (values != 1) writer_.EndArray();
  }
  writer_.EndObject();
}

void JsonEncoder::WriteRepresentations(absl::Span<const FieldView> fields) {
  bool started = false;
  for (size_t i = 0; i < fields.size(); ++i) {
    const absl::string_view representation = FieldRepresentation(fields[i]);
    if (representation.empty()) continue;
    bool named_before = false;  // a same-named field's came first
    for (size_t j = 0; j < i && !named_before; ++j) {
      named_before = fields[j].name == fields[i].name &&
                     !FieldRepresentation(fields[j]).empty();
    }
    if (named_before) continue;
    if (!started) {
      writer_.Key("representations");
      writer_.StartObject();
      started = true;
    }
    WriteString(fields[i].name);
    WriteString(representation);
  }
  if (started) writer_.EndObject();
}

void JsonEncoder::Append(const WireMessage& message,
                         absl::Span<const FieldView> fields, std::string* out) {
  buffer_.Clear();
  writer_.Reset(buffer_);
  writer_.StartObject();

  writer_.Key("uuid");
  const absl::string_view uuid = message.uuid();
  scratch_.clear();
  if (uuid.size() == 16) {
    AppendHex(uuid.substr(0, 4), &scratch_);
    for (size_t start : {4, 6, 8, 10}) {
      scratch_.push_back('-');
      AppendHex(uuid.substr(start, start == 10 ? 6 : 2), &scratch_);
    }
  } else {
    AppendHex(uuid, &scratch_);  // only hand-made views; the walker refuses it
  }
  writer_.String(scratch_.data(),
                 static_cast<rapidjson::SizeType>(scratch_.size()));

  writer_.Key("timestamp");
  scratch_.clear();
  time_.Append(message.timestamp, 9, &scratch_);
  writer_.String(scratch_.data(),
                 static_cast<rapidjson::SizeType>(scratch_.size()));

  writer_.Key("type");
  WriteString(message.type);
  writer_.Key("logger");
  WriteString(message.logger);
  writer_.Key("severity");
  writer_.Int(message.severity);
  writer_.Key("severity_name");
  const absl::string_view severity_name = SeverityName(message.severity);
  writer_.String(severity_name.data(),
                 static_cast<rapidjson::SizeType>(severity_name.size()));
  writer_.Key("payload");
  WriteString(message.payload);
  writer_.Key("env_version");
  WriteString(message.env_version);
  writer_.Key("pid");
  writer_.Int(message.pid);
  writer_.Key("hostname");
  WriteString(message.hostname);
  WriteFields(fields);
  WriteRepresentations(fields);
  writer_.EndObject();

  out->append(buffer_.GetString(), buffer_.GetSize());
  out->push_back('\n');
}

}  // namespace metlog
