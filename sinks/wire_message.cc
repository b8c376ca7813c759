#include "sinks/wire_message.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"

namespace metlog {
namespace {

using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedInputStream;

constexpr auto kVarint = WireFormatLite::WIRETYPE_VARINT;
constexpr auto kFixed64 = WireFormatLite::WIRETYPE_FIXED64;
constexpr auto kLength = WireFormatLite::WIRETYPE_LENGTH_DELIMITED;

CodedInputStream StreamOver(absl::string_view bytes) {
  return CodedInputStream(reinterpret_cast<const uint8_t*>(bytes.data()),
                          static_cast<int>(bytes.size()));
}

// Reads a length-delimited payload as a view into the stream's buffer; the
// length is checked against what remains.
bool ReadView(CodedInputStream& in, absl::string_view* out) {
  uint32_t length = 0;
  if (!in.ReadVarint32(&length)) return false;
  if (length == 0) {
    *out = absl::string_view();
    return true;
  }
  const void* data = nullptr;
  int available = 0;
  if (!in.GetDirectBufferPointer(&data, &available) ||
      length > static_cast<uint32_t>(available)) {
    return false;
  }
  *out = absl::string_view(static_cast<const char*>(data), length);
  return in.Skip(static_cast<int>(length));
}

// Whether `packed` is a whole number of values of the wire type.
bool PackedWellFormed(absl::string_view packed,
                      WireFormatLite::WireType element) {
  if (element == kFixed64) return packed.size() % 8 == 0;
  CodedInputStream in = StreamOver(packed);
  uint64_t ignored = 0;
  while (in.CurrentPosition() < static_cast<int>(packed.size())) {
    if (!in.ReadVarint64(&ignored)) return false;
  }
  return true;
}

// The wire type each known field must have; an unpacked repeated scalar
// may also arrive packed (kLength).
WireFormatLite::WireType MessageFieldType(int number) {
  switch (number) {
    case 2:
    case 5:
    case 8:
      return kVarint;
    default:
      return kLength;  // 1, 3, 4, 6, 7, 9, 10
  }
}

WireFormatLite::WireType FieldElementType(int number) {
  switch (number) {
    case 2:
    case 6:
    case 8:
      return kVarint;
    case 7:
      return kFixed64;
    default:
      return kLength;  // 1, 3, 4, 5
  }
}

WireProblem Malformed(std::string* error, std::string text) {
  *error = std::move(text);
  return WireProblem::kMalformed;
}

WireProblem Invalid(std::string* error, std::string text) {
  *error = std::move(text);
  return WireProblem::kInvalid;
}

WireProblem ReadField(absl::string_view bytes, FieldView* field,
                      std::string* error) {
  field->bytes = bytes;
  CodedInputStream in = StreamOver(bytes);
  bool named = false;
  for (uint32_t tag = in.ReadTag(); tag != 0; tag = in.ReadTag()) {
    const int number = WireFormatLite::GetTagFieldNumber(tag);
    const auto wire_type = WireFormatLite::GetTagWireType(tag);
    if (number < 1 || number > 8) {
      if (!WireFormatLite::SkipField(&in, tag)) {
        return Malformed(error, absl::StrCat("field: cannot skip ", number));
      }
      continue;
    }
    const auto element = FieldElementType(number);
    if (wire_type != element && !(number >= 6 && wire_type == kLength)) {
      return Malformed(error, absl::StrCat("field: member ", number,
                                           " has wire type ", wire_type));
    }
    if (wire_type == kLength) {
      absl::string_view view;
      if (!ReadView(in, &view)) {
        return Malformed(
            error, absl::StrCat("field: member ", number, " is truncated"));
      }
      if (number == 1) {
        field->name = view;
        named = true;
      } else if (number >= 6 && !PackedWellFormed(view, element)) {
        return Malformed(error, absl::StrCat("field: packed member ", number,
                                             " is truncated"));
      }
      continue;
    }
    uint64_t value = 0;
    if (element == kFixed64 ? !in.ReadLittleEndian64(&value)
                            : !in.ReadVarint64(&value)) {
      return Malformed(error,
                       absl::StrCat("field: member ", number, " is truncated"));
    }
    if (number == 2) {
      const int type = static_cast<int32_t>(value);
      if (!v1::Field::ValueType_IsValid(type)) {
        return Invalid(error,
                       absl::StrCat("field has unknown value_type ", type));
      }
      field->value_type = static_cast<v1::Field::ValueType>(type);
    }
  }
  if (!in.ConsumedEntireMessage() ||
      in.CurrentPosition() != static_cast<int>(bytes.size())) {
    return Malformed(error, "field: invalid tag");
  }
  if (!named || field->name.empty()) {
    return Invalid(error, "a field has no name");
  }
  return WireProblem::kNone;
}

}  // namespace

WireProblem ReadWireMessage(absl::string_view bytes, WireMessage* message,
                            std::vector<FieldView>* fields,
                            std::string* error) {
  *message = WireMessage();
  message->bytes = bytes;
  message->first_field = static_cast<uint32_t>(fields->size());
  CodedInputStream in = StreamOver(bytes);
  for (uint32_t tag = in.ReadTag(); tag != 0; tag = in.ReadTag()) {
    const int number = WireFormatLite::GetTagFieldNumber(tag);
    if (number < 1 || number > 10) {
      if (!WireFormatLite::SkipField(&in, tag)) {
        return Malformed(error, absl::StrCat("cannot skip field ", number));
      }
      continue;
    }
    if (WireFormatLite::GetTagWireType(tag) != MessageFieldType(number)) {
      return Malformed(error,
                       absl::StrCat("field ", number, " has wire type ",
                                    WireFormatLite::GetTagWireType(tag)));
    }
    if (MessageFieldType(number) == kVarint) {
      uint64_t value = 0;
      if (!in.ReadVarint64(&value)) {
        return Malformed(error,
                         absl::StrCat("field ", number, " is truncated"));
      }
      if (number == 2) {
        message->timestamp = static_cast<int64_t>(value);
        message->has_timestamp = true;
      } else if (number == 5) {
        message->severity = static_cast<int32_t>(value);
      } else {
        message->pid = static_cast<int32_t>(value);
      }
      continue;
    }
    absl::string_view view;
    if (!ReadView(in, &view)) {
      return Malformed(error, absl::StrCat("field ", number, " claims more ",
                                           "bytes than remain"));
    }
    switch (number) {
      case 1:
        message->sent_uuid = view;
        message->has_uuid = true;
        break;
      case 3:
        message->type = view;
        break;
      case 4:
        message->logger = view;
        break;
      case 6:
        message->payload = view;
        break;
      case 7:
        message->env_version = view;
        break;
      case 9:
        message->hostname = view;
        break;
      case 10: {
        FieldView field;
        if (WireProblem problem = ReadField(view, &field, error);
            problem != WireProblem::kNone) {
          return problem;
        }
        fields->push_back(field);
        break;
      }
    }
  }
  if (!in.ConsumedEntireMessage() ||
      in.CurrentPosition() != static_cast<int>(bytes.size())) {
    return Malformed(error, "invalid tag");
  }
  message->field_count =
      static_cast<uint32_t>(fields->size()) - message->first_field;
  if (message->severity < 0 || message->severity > 7) {
    return Invalid(
        error, absl::StrCat("severity ", message->severity, " outside 0..7"));
  }
  if (message->has_uuid && message->sent_uuid.size() != 16) {
    return Invalid(error, absl::StrCat("uuid of ", message->sent_uuid.size(),
                                       " bytes, want 16"));
  }
  return WireProblem::kNone;
}

bool ReadFieldValue(const FieldView& field, int index, FieldValue* value) {
  if (index < 0) return false;
  const int wanted = 4 + static_cast<int>(field.value_type);
  const auto element = FieldElementType(wanted);
  int seen = 0;
  // One scalar from `in`, stored into *value when it is the one wanted.
  auto take_scalar = [&](CodedInputStream& in) {
    uint64_t raw = 0;
    if (element == kFixed64 ? !in.ReadLittleEndian64(&raw)
                            : !in.ReadVarint64(&raw)) {
      return false;
    }
    if (seen++ == index) {
      value->integer = static_cast<int64_t>(raw);
      value->flag = raw != 0;
      value->number = WireFormatLite::DecodeDouble(raw);
    }
    return true;
  };
  CodedInputStream in = StreamOver(field.bytes);
  for (uint32_t tag = in.ReadTag(); tag != 0 && seen <= index;
       tag = in.ReadTag()) {
    const int number = WireFormatLite::GetTagFieldNumber(tag);
    const auto wire_type = WireFormatLite::GetTagWireType(tag);
    if (number != wanted) {
      if (!WireFormatLite::SkipField(&in, tag)) return false;
      continue;
    }
    if (wire_type != kLength || element == kLength) {
      if (element == kLength) {
        absl::string_view text;
        if (!ReadView(in, &text)) return false;
        if (seen++ == index) value->text = text;
      } else if (!take_scalar(in)) {
        return false;
      }
      continue;
    }
    absl::string_view packed;
    if (!ReadView(in, &packed)) return false;
    CodedInputStream values = StreamOver(packed);
    while (values.CurrentPosition() < static_cast<int>(packed.size())) {
      if (!take_scalar(values)) return false;
    }
  }
  return seen > index;
}

}  // namespace metlog
