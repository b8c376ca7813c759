#include "router/disk_record.h"

#include <cstdint>

#include "absl/random/random.h"
#include "absl/time/clock.h"
#include "glog/logging.h"
#include "google/protobuf/io/coded_stream.h"

namespace metlog {
namespace {

// Message's field tags (proto/metlog.proto): uuid = 1 (bytes),
// timestamp = 2 (int64). A field appended to a message's bytes is read as
// part of the message.
constexpr uint8_t kUuidTag = (1 << 3) | 2;
constexpr uint8_t kTimestampTag = (2 << 3) | 0;

}  // namespace

void AppendDiskRecord(const MessageView& message, std::string* out) {
  const WireMessage& wire = message.wire();
  out->append(wire.bytes.data(), wire.bytes.size());
  if (!wire.has_uuid) {
    out->push_back(static_cast<char>(kUuidTag));
    out->push_back(static_cast<char>(wire.generated_uuid.size()));
    out->append(wire.generated_uuid.data(), wire.generated_uuid.size());
  }
  if (!wire.has_timestamp) {
    uint8_t varint[10];  // the longest varint
    uint8_t* end =
        google::protobuf::io::CodedOutputStream::WriteVarint64ToArray(
            static_cast<uint64_t>(wire.timestamp), varint);
    out->push_back(static_cast<char>(kTimestampTag));
    out->append(reinterpret_cast<const char*>(varint), end - varint);
  }
}

PacketRef PacketOfDiskRecords(absl::Span<const std::string> records,
                              uint64_t* unreadable) {
  std::string bytes;
  for (const std::string& record : records) bytes += record;
  PacketRef packet = SharedPacket::Create(bytes);
  packet->Reserve(records.size());
  absl::InsecureBitGen random;
  const int64_t now_ns = absl::GetCurrentTimeNanos();
  size_t begin = 0;
  for (const std::string& record : records) {
    std::string error;
    if (packet->Add(packet->bytes().substr(begin, record.size()), now_ns,
                    random, &error) != WireProblem::kNone) {
      LOG_EVERY_T(ERROR, 5) << "disk buffer: an unreadable record: " << error;
      ++*unreadable;
    }
    begin += record.size();
  }
  return packet;
}

}  // namespace metlog
