#include "sinks/codecs/protobuf_encoder.h"

#include <cstdint>

#include "google/protobuf/io/coded_stream.h"

namespace metlog {
namespace {

using google::protobuf::io::CodedOutputStream;

void AppendVarint(uint64_t value, std::string* out) {
  uint8_t bytes[10];
  const uint8_t* end = CodedOutputStream::WriteVarint64ToArray(value, bytes);
  out->append(reinterpret_cast<const char*>(bytes), end - bytes);
}

// The tags of Message.uuid (field 1, length-delimited) and
// Message.timestamp (field 2, varint), appended only to a message that has
// neither of its own.
constexpr char kUuidTag = (1 << 3) | 2;
constexpr char kTimestampTag = (2 << 3) | 0;

}  // namespace

void ProtobufEncoder::Append(const WireMessage& message,
                             absl::Span<const FieldView>, std::string* out) {
  const auto timestamp = static_cast<uint64_t>(message.timestamp);
  size_t size = message.bytes.size();
  if (!message.has_uuid) size += 2 + message.generated_uuid.size();
  if (!message.has_timestamp) {
    size += 1 + CodedOutputStream::VarintSize64(timestamp);
  }
  AppendVarint(size, out);
  out->append(message.bytes.data(), message.bytes.size());
  if (!message.has_uuid) {
    out->push_back(kUuidTag);
    out->push_back(static_cast<char>(message.generated_uuid.size()));
    out->append(message.generated_uuid.data(), message.generated_uuid.size());
  }
  if (!message.has_timestamp) {
    out->push_back(kTimestampTag);
    AppendVarint(timestamp, out);
  }
}

}  // namespace metlog
