#include "router/packet_decoder.h"

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/uuid.h"
#include "google/protobuf/arena.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"

namespace metlog {
namespace {

using google::protobuf::internal::WireFormatLite;

// Reads the next length-delimited field `field_number` of a message whose
// bytes `in` walks, skipping any other field. Returns false at the end; sets
// *error on malformed input. The returned view points into the packet.
bool NextLengthDelimited(google::protobuf::io::CodedInputStream& in,
                         int field_number, absl::string_view* value,
                         std::string* error) {
  for (;;) {
    const uint32_t tag = in.ReadTag();
    if (tag == 0) {
      if (!in.ExpectAtEnd()) *error = "invalid tag";
      return false;
    }
    if (WireFormatLite::GetTagFieldNumber(tag) != field_number ||
        WireFormatLite::GetTagWireType(tag) !=
            WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      if (!WireFormatLite::SkipField(&in, tag)) {
        *error = absl::StrCat("cannot skip field ",
                              WireFormatLite::GetTagFieldNumber(tag));
        return false;
      }
      continue;
    }
    uint32_t length = 0;
    const void* data = nullptr;
    int available = 0;
    if (!in.ReadVarint32(&length)) {
      *error = "truncated length";
      return false;
    }
    if (length == 0) {
      *value = absl::string_view();
      return true;
    }
    if (!in.GetDirectBufferPointer(&data, &available) ||
        length > static_cast<uint32_t>(available)) {
      *error = absl::StrCat("field ", field_number, " claims ", length,
                            " bytes, ", available, " remain");
      return false;
    }
    *value = absl::string_view(static_cast<const char*>(data), length);
    in.Skip(static_cast<int>(length));
    return true;
  }
}

// Owns the memory of one packet's messages. The first block is sized from
// the packet, so a packet's messages usually take one allocation.
struct PacketArena {
  explicit PacketArena(size_t packet_bytes) : arena(Options(packet_bytes)) {}

  static google::protobuf::ArenaOptions Options(size_t packet_bytes) {
    google::protobuf::ArenaOptions options;
    options.start_block_size = std::max<size_t>(256, 4 * packet_bytes);
    options.max_block_size = std::max<size_t>(8192, 4 * packet_bytes);
    return options;
  }

  google::protobuf::Arena arena;
};

}  // namespace

absl::string_view RejectReasonName(RejectReason reason) {
  switch (reason) {
    case RejectReason::kOversizedPacket:
      return "oversized_packet";
    case RejectReason::kMalformedPacket:
      return "malformed_packet";
    case RejectReason::kOversizedMessage:
      return "oversized_message";
    case RejectReason::kMalformedMessage:
      return "malformed_message";
    case RejectReason::kInvalidMessage:
      return "invalid_message";
    case RejectReason::kCount:
      break;
  }
  return "unknown";
}

uint64_t DecodeResult::rejected_total() const {
  uint64_t total = 0;
  for (uint64_t count : rejected) total += count;
  return total;
}

PacketDecoder::PacketDecoder(const v1::LimitsConfig& limits)
    : limits_(limits) {}

const DecodeResult& PacketDecoder::Decode(absl::string_view packet) {
  DecodeResult& result = result_;
  result.messages.clear();
  result.rejected.fill(0);
  result.first_error.clear();
  auto reject = [&result](RejectReason reason, std::string error) {
    ++result.rejected[static_cast<int>(reason)];
    if (result.first_error.empty()) result.first_error = std::move(error);
  };
  if (packet.size() > limits_.max_packet_bytes()) {
    reject(RejectReason::kOversizedPacket,
           absl::StrCat("packet of ", packet.size(), " bytes exceeds ",
                        limits_.max_packet_bytes()));
    return result;
  }
  google::protobuf::io::CodedInputStream packet_in(
      reinterpret_cast<const uint8_t*>(packet.data()),
      static_cast<int>(packet.size()));
  absl::string_view batch;
  std::string error;
  if (!NextLengthDelimited(packet_in, /*field_number=*/1, &batch, &error)) {
    reject(RejectReason::kMalformedPacket,
           error.empty() ? "packet carries no batch" : error);
    return result;
  }

  auto owner = std::make_shared<PacketArena>(batch.size());
  google::protobuf::io::CodedInputStream batch_in(
      reinterpret_cast<const uint8_t*>(batch.data()),
      static_cast<int>(batch.size()));
  const int64_t now_ns = absl::GetCurrentTimeNanos();
  absl::string_view bytes;
  while (NextLengthDelimited(batch_in, /*field_number=*/1, &bytes, &error)) {
    if (bytes.size() > limits_.max_message_bytes()) {
      reject(RejectReason::kOversizedMessage,
             absl::StrCat("message of ", bytes.size(), " bytes exceeds ",
                          limits_.max_message_bytes()));
      continue;
    }
    auto* message =
        google::protobuf::Arena::CreateMessage<v1::Message>(&owner->arena);
    if (!message->ParseFromArray(bytes.data(),
                                 static_cast<int>(bytes.size()))) {
      reject(RejectReason::kMalformedMessage, "message bytes do not parse");
      continue;
    }
    if (message->severity() < 0 || message->severity() > 7) {
      reject(RejectReason::kInvalidMessage,
             absl::StrCat("severity ", message->severity(), " outside 0..7"));
      continue;
    }
    if (message->has_uuid() && message->uuid().size() != 16) {
      reject(
          RejectReason::kInvalidMessage,
          absl::StrCat("uuid of ", message->uuid().size(), " bytes, want 16"));
      continue;
    }
    bool fields_named = true;
    for (const v1::Field& field : message->fields()) {
      fields_named = fields_named && !field.name().empty();
    }
    if (!fields_named) {
      reject(RejectReason::kInvalidMessage, "a field has no name");
      continue;
    }
    if (!message->has_uuid()) message->set_uuid(RandomUuid(random_));
    if (!message->has_timestamp()) message->set_timestamp(now_ns);
    result.messages.push_back(
        {MessagePtr(owner, message), static_cast<uint32_t>(bytes.size())});
  }
  if (!error.empty()) {
    // Messages before the damage are kept; the rest of the batch is lost.
    reject(RejectReason::kMalformedPacket, absl::StrCat("batch: ", error));
  }
  return result;
}

}  // namespace metlog
