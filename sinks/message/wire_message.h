// A message read straight from its wire bytes: the header fields routing
// needs, as views into the bytes, with no parse into a v1::Message and no
// allocation. Reading also validates the message completely, so the later
// full parse (only when a sink reads the message) cannot fail.
#ifndef METLOG_SINKS_MESSAGE_WIRE_MESSAGE_H_
#define METLOG_SINKS_MESSAGE_WIRE_MESSAGE_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/inlined_vector.h"
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

// The fields of a packet's messages, one list per packet. Room for a
// one-message packet's few fields inline spares it an allocation.
using FieldList = absl::InlinedVector<FieldView, 4>;

struct WireMessage {
  absl::string_view bytes;  // the whole Message
  absl::string_view type, logger, payload, env_version, hostname;
  int64_t timestamp = 0;
  int32_t severity = 7;  // the proto's default
  int32_t pid = 0;
  bool has_uuid = false;
  bool has_timestamp = false;
  // What parsing this message would allocate, at most: its objects,
  // strings and value arrays in the arena, and (its bytes) the strings'
  // characters on the heap; see ReadWireMessage.
  uint32_t parse_cost = 0;
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
  kTooDense,   // valid, but its packet's bytes allow it no more memory
};

// Reads and validates the Message in `bytes` into a default-constructed
// `*message`, appending its fields to `*fields` (message->first_field
// indexes into it), and estimates what protobuf's parse of it would
// allocate (message->parse_cost: an upper bound for protobuf 3.21, the
// generated uuid included). On a problem, *error says what, and the fields
// already appended should be discarded.
WireProblem ReadWireMessage(absl::string_view bytes, WireMessage* message,
                            FieldList* fields, std::string* error);

// A bounds-checked cursor over protobuf wire bytes, for walking messages
// without parsing them. protobuf's CodedInputStream does the same, but
// constructing one per message and per field cost more than the walk
// itself; this one is a pair of pointers and inlines. Groups (wire types 3
// and 4, unused by these protos) are refused.
//
// It reads varints exactly as far as protobuf 3.21's parser does and no
// further, so that whatever it accepts protobuf parses to the same values
// (router/packet_decoder_fuzzer checks this): a tag in at most 5 bytes, a
// length in at most 5 bytes and below 2^31 - 16, any other varint in at
// most 10 bytes.
class WireReader {
 public:
  enum WireType { kVarint = 0, kFixed64 = 1, kLength = 2, kFixed32 = 5 };

  explicit WireReader(absl::string_view bytes)
      : next_(bytes.data()), end_(bytes.data() + bytes.size()) {}

  bool at_end() const { return next_ == end_; }
  size_t remaining() const { return static_cast<size_t>(end_ - next_); }

  // A tag: field number ≥ 1 and a known wire type; false at the end or on
  // a bad tag (at_end() tells which).
  bool ReadTag(int* field_number, int* wire_type) {
    const char* start = next_;
    uint64_t tag = 0;
    if (!ReadVarintOfAtMost(kMaxTagBytes, &tag) || tag > 0xffffffffu ||
        (tag >> 3) == 0) {
      next_ = start;  // so that at_end() says a bad tag is not the end
      return false;
    }
    *field_number = static_cast<int>(tag >> 3);
    *wire_type = static_cast<int>(tag & 7);
    return true;
  }

  bool ReadVarint(uint64_t* value) {
    return ReadVarintOfAtMost(kMaxVarintBytes, value);
  }

  bool ReadFixed64(uint64_t* value) {
    if (remaining() < 8) return false;
    uint64_t result = 0;
    for (int i = 7; i >= 0; --i) {
      result = result << 8 | static_cast<uint8_t>(next_[i]);
    }
    next_ += 8;
    *value = result;
    return true;
  }

  // A length-delimited payload, as a view into the bytes.
  bool ReadView(absl::string_view* value) {
    uint64_t length = 0;
    if (!ReadVarintOfAtMost(kMaxLengthBytes, &length) || length > kMaxLength ||
        length > remaining()) {
      return false;
    }
    *value = absl::string_view(next_, static_cast<size_t>(length));
    next_ += length;
    return true;
  }

  bool Skip(int wire_type) {
    uint64_t ignored = 0;
    absl::string_view skipped;
    switch (wire_type) {
      case kVarint:
        return ReadVarint(&ignored);
      case kFixed64:
        return ReadFixed64(&ignored);
      case kLength:
        return ReadView(&skipped);
      case kFixed32:
        if (remaining() < 4) return false;
        next_ += 4;
        return true;
      default:
        return false;
    }
  }

 private:
  // protobuf 3.21's limits (parse_context.h: ReadTag, ReadSize, VarintParse).
  static constexpr int kMaxTagBytes = 5;
  static constexpr int kMaxLengthBytes = 5;
  static constexpr int kMaxVarintBytes = 10;
  // ReadSize refuses lengths this close to INT_MAX (its kSlopBytes is 16).
  static constexpr uint64_t kMaxLength = 0x7fffffff - 16;

  bool ReadVarintOfAtMost(int max_bytes, uint64_t* value) {
    // Tags, lengths and small numbers: one byte.
    if (next_ != end_ && static_cast<uint8_t>(*next_) < 0x80) {
      *value = static_cast<uint8_t>(*next_++);
      return true;
    }
    uint64_t result = 0;
    const char* const start = next_;
    for (int i = 0; i < max_bytes && next_ != end_; ++i) {
      const auto byte = static_cast<uint8_t>(*next_++);
      result |= static_cast<uint64_t>(byte & 0x7f) << (7 * i);
      if (byte < 0x80) {
        *value = result;
        return true;
      }
    }
    next_ = start;
    return false;
  }

  const char* next_;
  const char* end_;
};

// Reads the next length-delimited field `field_number` of the message
// `in` walks, skipping any other field. Returns false at the end, or with
// *error set on malformed input.
bool NextLengthDelimited(WireReader& in, int field_number,
                         absl::string_view* value, std::string* error);

// Whether `bytes` walk as a message whose fields this reader can skip
// (what protobuf needs of a message it has no other rule for).
bool SkipsCleanly(absl::string_view bytes);

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

#endif  // METLOG_SINKS_MESSAGE_WIRE_MESSAGE_H_
