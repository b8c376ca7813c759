#include "client/tag.h"

#include <cstring>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "proto/metlog.pb.h"

namespace metlog {
namespace {

using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedOutputStream;

constexpr uint8_t kMessageFieldsTag = (10 << 3) | 2;  // Message.fields
constexpr uint8_t kNameTag = (1 << 3) | 2;            // Field.name
constexpr uint8_t kValueTypeTag = (2 << 3) | 0;       // Field.value_type
constexpr uint8_t kStringTag = (4 << 3) | 2;          // Field.value_string
constexpr uint8_t kIntegerTag = (6 << 3) | 2;         // packed value_integer
constexpr uint8_t kDoubleTag = (7 << 3) | 2;          // packed value_double
constexpr uint8_t kBoolTag = (8 << 3) | 2;            // packed value_bool

size_t VarintSize(uint64_t value) {
  return CodedOutputStream::VarintSize64(value);
}

// The bytes of one Field message: name, value_type, one value.
size_t FieldBodySize(const Tag& tag) {
  size_t size = 1 + VarintSize(tag.name().size()) + tag.name().size();
  switch (tag.kind()) {
    case Tag::Kind::kString:  // STRING is the default type: left out
      return size + 1 + VarintSize(tag.string_value().size()) +
             tag.string_value().size();
    case Tag::Kind::kInteger: {
      const size_t value_size =
          VarintSize(static_cast<uint64_t>(tag.integer_value()));
      return size + 2 + 1 + VarintSize(value_size) + value_size;
    }
    case Tag::Kind::kDouble:
      return size + 2 + 1 + 1 + 8;
    case Tag::Kind::kBool:
      return size + 2 + 1 + 1 + 1;
  }
  return size;
}

uint8_t* WriteBytes(uint8_t tag, absl::string_view bytes, uint8_t* out) {
  *out++ = tag;
  out = CodedOutputStream::WriteVarint32ToArray(
      static_cast<uint32_t>(bytes.size()), out);
  std::memcpy(out, bytes.data(), bytes.size());
  return out + bytes.size();
}

uint8_t* WriteField(const Tag& tag, size_t body_size, uint8_t* out) {
  *out++ = kMessageFieldsTag;
  out = CodedOutputStream::WriteVarint32ToArray(
      static_cast<uint32_t>(body_size), out);
  out = WriteBytes(kNameTag, tag.name(), out);
  switch (tag.kind()) {
    case Tag::Kind::kString:
      return WriteBytes(kStringTag, tag.string_value(), out);
    case Tag::Kind::kInteger: {
      const uint64_t value = static_cast<uint64_t>(tag.integer_value());
      *out++ = kValueTypeTag;
      *out++ = v1::Field::INTEGER;
      *out++ = kIntegerTag;
      out = CodedOutputStream::WriteVarint32ToArray(
          static_cast<uint32_t>(VarintSize(value)), out);
      return CodedOutputStream::WriteVarint64ToArray(value, out);
    }
    case Tag::Kind::kDouble:
      *out++ = kValueTypeTag;
      *out++ = v1::Field::DOUBLE;
      *out++ = kDoubleTag;
      *out++ = 8;
      return WireFormatLite::WriteDoubleNoTagToArray(tag.double_value(), out);
    case Tag::Kind::kBool:
      *out++ = kValueTypeTag;
      *out++ = v1::Field::BOOL;
      *out++ = kBoolTag;
      *out++ = 1;
      *out++ = tag.bool_value() ? 1 : 0;
      return out;
  }
  return out;
}

bool Reserved(const Tag& tag) {
  return tag.name() == "name" || tag.name() == "rate";
}

}  // namespace

size_t EncodedTagsSize(absl::Span<const Tag> tags) {
  size_t total = 0;
  for (const Tag& tag : tags) {
    if (Reserved(tag)) continue;
    const size_t body = FieldBodySize(tag);
    total += 1 + VarintSize(body) + body;
  }
  return total;
}

void EncodeTagsAsFields(absl::Span<const Tag> tags, char* out) {
  uint8_t* at = reinterpret_cast<uint8_t*>(out);
  for (const Tag& tag : tags) {
    if (Reserved(tag)) continue;
    at = WriteField(tag, FieldBodySize(tag), at);
  }
}

void AppendTagsAsFields(absl::Span<const Tag> tags, std::string* wire) {
  const size_t start = wire->size();
  wire->resize(start + EncodedTagsSize(tags));
  EncodeTagsAsFields(tags, &(*wire)[start]);
}

}  // namespace metlog
