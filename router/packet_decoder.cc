#include "router/packet_decoder.h"

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
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

DecodeResult PacketDecoder::Decode(absl::string_view packet) {
  DecodeResult result;
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

  result.packet = PacketMessages::Create(batch);
  const absl::string_view copy = result.packet->bytes();
  google::protobuf::io::CodedInputStream batch_in(
      reinterpret_cast<const uint8_t*>(copy.data()),
      static_cast<int>(copy.size()));
  const int64_t now_ns = absl::GetCurrentTimeNanos();
  absl::string_view bytes;
  while (NextLengthDelimited(batch_in, /*field_number=*/1, &bytes, &error)) {
    if (bytes.size() > limits_.max_message_bytes()) {
      reject(RejectReason::kOversizedMessage,
             absl::StrCat("message of ", bytes.size(), " bytes exceeds ",
                          limits_.max_message_bytes()));
      continue;
    }
    std::string problem_text;
    switch (result.packet->Add(bytes, now_ns, random_, &problem_text)) {
      case WireProblem::kNone:
        break;
      case WireProblem::kMalformed:
        reject(RejectReason::kMalformedMessage,
               absl::StrCat("message does not parse: ", problem_text));
        break;
      case WireProblem::kInvalid:
        reject(RejectReason::kInvalidMessage, std::move(problem_text));
        break;
    }
  }
  if (!error.empty()) {
    // Messages before the damage are kept; the rest of the batch is lost.
    reject(RejectReason::kMalformedPacket, absl::StrCat("batch: ", error));
  }
  if (result.packet->size() == 0) result.packet.reset();
  return result;
}

}  // namespace metlog
