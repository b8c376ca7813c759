#include "sinks/message/wire_message.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"

namespace metlog {
namespace {

constexpr int kVarint = WireReader::kVarint;
constexpr int kFixed64 = WireReader::kFixed64;
constexpr int kLength = WireReader::kLength;

// Whether `packed` is a whole number of values of the element wire type.
bool PackedWellFormed(absl::string_view packed, int element) {
  if (element == kFixed64) return packed.size() % 8 == 0;
  WireReader in(packed);
  uint64_t ignored = 0;
  while (!in.at_end()) {
    if (!in.ReadVarint(&ignored)) return false;
  }
  return true;
}

// The wire type of each Message field.
int MessageFieldType(int number) {
  switch (number) {
    case 2:
    case 5:
    case 8:
      return kVarint;
    default:
      return kLength;  // 1, 3, 4, 6, 7, 9, 10
  }
}

// The wire type of each Field member (one element of the repeated ones,
// which may also arrive packed).
int FieldElementType(int number) {
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

bool IsPackable(int field_member) { return field_member >= 6; }

// What protobuf 3.21 allocates as it parses (parse_cost): a string is an
// arena std::string and its destructor's cleanup entry, its characters on
// the heap (all of them together no more than the message's bytes, which
// the cost counts once); a repeated field's array is a header and room for
// 4 elements at first, then doubles, so it holds at most kRepeatedArray
// plus two 8-byte slots per element.
constexpr uint32_t kStringCost = sizeof(std::string) + 16;
constexpr uint32_t kRepeatedArray = sizeof(void*) + 4 * sizeof(void*);
constexpr uint32_t kRepeatedSlot = 2 * sizeof(void*);
constexpr uint32_t kMessageCost = sizeof(v1::Message);
constexpr uint32_t kFieldCost = sizeof(v1::Field) + kRepeatedSlot;
// A string value and its slot; a number (at most 8 bytes) and its slot.
constexpr uint32_t kTextValueCost = kStringCost + kRepeatedSlot;
constexpr uint32_t kNumberValueCost = kRepeatedSlot;
// A uuid the router generates: its string and 16 characters on the heap.
constexpr uint32_t kGeneratedUuidCost = kStringCost + 32;
// A field protobuf does not know goes to the message's UnknownFieldSet: a
// slot in its vector (which doubles), and a heap string for its bytes.
constexpr uint32_t kUnknownFieldCost = 2 * 16 + kStringCost + 16;

WireProblem Malformed(std::string* error, std::string text) {
  *error = std::move(text);
  return WireProblem::kMalformed;
}

WireProblem Invalid(std::string* error, std::string text) {
  *error = std::move(text);
  return WireProblem::kInvalid;
}

// Reads a scalar of the wire type.
bool ReadScalar(WireReader& in, int wire_type, uint64_t* value) {
  return wire_type == kFixed64 ? in.ReadFixed64(value) : in.ReadVarint(value);
}

WireProblem ReadField(absl::string_view bytes, FieldView* field,
                      uint64_t* parse_cost, std::string* error) {
  field->bytes = bytes;
  // Summed here and added once: updating *parse_cost per member showed in
  // the decoder's benchmark.
  uint64_t cost = kFieldCost;
  // The members seen: each value member (4 to 8) has its own array.
  uint32_t members = 0;
  WireReader in(bytes);
  int number = 0, wire_type = 0;
  while (in.ReadTag(&number, &wire_type)) {
    if (number > 8) {
      cost += kUnknownFieldCost;
      if (!in.Skip(wire_type)) {
        return Malformed(error, absl::StrCat("field: cannot skip ", number));
      }
      continue;
    }
    const int element = FieldElementType(number);
    const bool packed = wire_type == kLength && IsPackable(number);
    if (wire_type != element && !packed) {
      return Malformed(error, absl::StrCat("field: member ", number,
                                           " has wire type ", wire_type));
    }
    members |= 1u << number;
    if (wire_type == kLength) {
      absl::string_view view;
      if (!in.ReadView(&view)) {
        return Malformed(
            error, absl::StrCat("field: member ", number, " is truncated"));
      }
      if (number == 1) {
        field->name = view;
      } else if (packed && !PackedWellFormed(view, element)) {
        return Malformed(error, absl::StrCat("field: packed member ", number,
                                             " is truncated"));
      }
      // Each packed value takes at least one byte.
      cost += packed ? view.size() * kNumberValueCost : kTextValueCost;
      continue;
    }
    cost += kNumberValueCost;
    uint64_t value = 0;
    if (!ReadScalar(in, element, &value)) {
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
  if (!in.at_end()) return Malformed(error, "field: invalid tag");
  if (field->name.empty()) return Invalid(error, "a field has no name");
  // How many of the value members 4 to 8 were seen (a table: this build
  // has no popcount instruction).
  constexpr uint8_t kBitsIn[32] = {0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2,
                                   3, 2, 3, 3, 4, 1, 2, 2, 3, 2, 3,
                                   3, 4, 2, 3, 3, 4, 3, 4, 4, 5};
  *parse_cost += cost + kRepeatedArray * kBitsIn[(members >> 4) & 0x1f];
  return WireProblem::kNone;
}

}  // namespace

WireProblem ReadWireMessage(absl::string_view bytes, WireMessage* message,
                            FieldList* fields, std::string* error) {
  message->bytes = bytes;
  message->first_field = static_cast<uint32_t>(fields->size());
  uint64_t parse_cost = kMessageCost + bytes.size();
  WireReader in(bytes);
  int number = 0, wire_type = 0;
  while (in.ReadTag(&number, &wire_type)) {
    if (number > 10) {
      parse_cost += kUnknownFieldCost;
      if (!in.Skip(wire_type)) {
        return Malformed(error, absl::StrCat("cannot skip field ", number));
      }
      continue;
    }
    if (wire_type != MessageFieldType(number)) {
      return Malformed(
          error, absl::StrCat("field ", number, " has wire type ", wire_type));
    }
    if (wire_type == kVarint) {
      uint64_t value = 0;
      if (!in.ReadVarint(&value)) {
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
    if (!in.ReadView(&view)) {
      return Malformed(error, absl::StrCat("field ", number,
                                           " claims more bytes than remain"));
    }
    if (number != 10) parse_cost += kStringCost;
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
        if (message->first_field == fields->size()) {
          parse_cost += kRepeatedArray;  // the message's first field
        }
        FieldView field;
        if (WireProblem problem = ReadField(view, &field, &parse_cost, error);
            problem != WireProblem::kNone) {
          return problem;
        }
        fields->push_back(field);
        break;
      }
    }
  }
  if (!in.at_end()) return Malformed(error, "invalid tag");
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
  if (!message->has_uuid) parse_cost += kGeneratedUuidCost;
  // Clamped: no packet's memory budget admits a message that costs more.
  message->parse_cost = static_cast<uint32_t>(
      std::min<uint64_t>(parse_cost, std::numeric_limits<uint32_t>::max()));
  return WireProblem::kNone;
}

bool NextLengthDelimited(WireReader& in, int field_number,
                         absl::string_view* value, std::string* error) {
  int number = 0, wire_type = 0;
  while (in.ReadTag(&number, &wire_type)) {
    if (number != field_number || wire_type != kLength) {
      if (!in.Skip(wire_type)) {
        *error = absl::StrCat("cannot skip field ", number);
        return false;
      }
      continue;
    }
    const size_t remaining = in.remaining();
    if (!in.ReadView(value)) {
      *error =
          absl::StrCat("field ", field_number, " claims more bytes than the ",
                       remaining, " that remain");
      return false;
    }
    return true;
  }
  if (!in.at_end()) *error = "invalid tag";
  return false;
}

bool SkipsCleanly(absl::string_view bytes) {
  WireReader in(bytes);
  int number = 0, wire_type = 0;
  while (in.ReadTag(&number, &wire_type)) {
    if (!in.Skip(wire_type)) return false;
  }
  return in.at_end();
}

bool ReadFieldValue(const FieldView& field, int index, FieldValue* value) {
  if (index < 0) return false;
  const int wanted = 4 + static_cast<int>(field.value_type);
  const int element = FieldElementType(wanted);
  int seen = 0;
  // Counts one scalar, keeping it when it is the one wanted.
  auto take_scalar = [&](WireReader& in) {
    uint64_t raw = 0;
    if (!ReadScalar(in, element, &raw)) return false;
    if (seen++ == index) {
      value->integer = static_cast<int64_t>(raw);
      value->flag = raw != 0;
      std::memcpy(&value->number, &raw, sizeof(value->number));
    }
    return true;
  };
  WireReader in(field.bytes);
  int number = 0, wire_type = 0;
  while (seen <= index && in.ReadTag(&number, &wire_type)) {
    if (number != wanted) {
      if (!in.Skip(wire_type)) return false;
      continue;
    }
    if (element == kLength) {
      absl::string_view text;
      if (!in.ReadView(&text)) return false;
      if (seen++ == index) value->text = text;
    } else if (wire_type != kLength) {
      if (!take_scalar(in)) return false;
    } else {
      absl::string_view packed;
      if (!in.ReadView(&packed)) return false;
      WireReader values(packed);
      while (!values.at_end()) {
        if (!take_scalar(values)) return false;
      }
    }
  }
  return seen > index;
}

}  // namespace metlog
