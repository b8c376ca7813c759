// A message read straight from its wire bytes: the header fields routing
// needs, as views into the bytes, with no parse into a v1::Message and no
// allocation. Reading also validates the message completely, so the later
// full parse (only when a sink reads the message) cannot fail.
#ifndef METLOG_SINKS_WIRE_MESSAGE_H_
#define METLOG_SINKS_WIRE_MESSAGE_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "proto/metlog.pb.h"

namespace metlog {

// One Field of a message. Its values stay encoded in `bytes` (the Field's
// wire bytes) and are read on demand by ReadFieldValue.
struct FieldView {
  absl::string_view name;
  v1::Field::ValueType value_type = v1::Field::STRING;
  absl::string_view bytes;
};

struct WireMessage {
  absl::string_view bytes;  // the whole Message
  absl::string_view type, logger, payload, env_version, hostname;
  int64_t timestamp = 0;
  int32_t severity = 7;  // the proto's default
  int32_t pid = 0;
  bool has_uuid = false;
  bool has_timestamp = false;
  absl::string_view sent_uuid;  // as sent, when has_uuid
  // Filled by the router when the sender left the uuid out.
  std::array<char, 16> generated_uuid{};
  // This message's fields within the list ReadWireMessage appended to.
  uint32_t first_field = 0;
  uint32_t field_count = 0;

  // The 16 uuid bytes: as sent, or generated.
  absl::string_view uuid() const {
    return has_uuid ? sent_uuid
                    : absl::string_view(generated_uuid.data(),
                                        generated_uuid.size());
  }
};

enum class WireProblem {
  kNone,
  kMalformed,  // not a Message: bad tag, truncated, wrong wire type
  kInvalid,    // a Message, but breaks a rule (severity, uuid, field name)
};

// Reads and validates the Message in `bytes`, appending its fields to
// `*fields` (message->first_field indexes into it). On a problem, *error
// says what, and the fields already appended should be discarded.
WireProblem ReadWireMessage(absl::string_view bytes, WireMessage* message,
                            std::vector<FieldView>* fields, std::string* error);

// One value of a field, of the field's value_type: `text` for STRING and
// BYTES, `integer`, `number` (DOUBLE) or `flag` (BOOL).
struct FieldValue {
  absl::string_view text;
  int64_t integer = 0;
  double number = 0;
  bool flag = false;
};

// The index-th value of the field, counting values sent packed and unpacked
// alike; false when the field has no such value.
bool ReadFieldValue(const FieldView& field, int index, FieldValue* value);

}  // namespace metlog

#endif  // METLOG_SINKS_WIRE_MESSAGE_H_
