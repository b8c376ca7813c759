#include "router/packet_decoder.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace metlog {

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
    case RejectReason::kDensePacket:
      return "dense_packet";
    case RejectReason::kMultipartPacket:
      return "multipart_packet";
    case RejectReason::kShutdown:
      return "shutdown";
    case RejectReason::kUnsignedPacket:
      return "unsigned_packet";
    case RejectReason::kUnknownSigner:
      return "unknown_signer";
    case RejectReason::kBadSignature:
      return "bad_signature";
    case RejectReason::kMalformedLine:
      return "malformed_line";
    case RejectReason::kCount:
      break;
  }
  return "unknown";
}

std::optional<RejectReason> RejectReasonFor(WireProblem problem) {
  switch (problem) {
    case WireProblem::kNone:
      return std::nullopt;
    case WireProblem::kMalformed:
      return RejectReason::kMalformedMessage;
    case WireProblem::kInvalid:
      return RejectReason::kInvalidMessage;
    case WireProblem::kTooDense:
      return RejectReason::kDensePacket;
  }
  return RejectReason::kMalformedMessage;
}

namespace {

// The batch of a Packet as protobuf reads it: the last field 1, when a
// packet carries several; the signature (field 2) must be a well-formed
// message and anything else skips cleanly to the end, or the packet is
// refused, as protobuf would refuse it. The signature's occurrences are
// appended to *signature (protobuf merges them so).
bool ReadBatch(absl::string_view packet, absl::string_view* batch,
               std::string* signature, std::string* error) {
  WireReader in(packet);
  bool found = false;
  int number = 0, wire_type = 0;
  while (in.ReadTag(&number, &wire_type)) {
    if (wire_type != WireReader::kLength || number > 2) {
      if (!in.Skip(wire_type)) {
        *error = absl::StrCat("cannot skip field ", number);
        return false;
      }
      continue;
    }
    const size_t remaining = in.remaining();
    absl::string_view view;
    if (!in.ReadView(&view)) {
      *error = absl::StrCat("field ", number, " claims more bytes than the ",
                            remaining, " that remain");
      return false;
    }
    if (number == 1) {
      *batch = view;
      found = true;
    } else if (!SkipsCleanly(view)) {
      *error = "malformed signature";
      return false;
    } else {
      signature->append(view.data(), view.size());
    }
  }
  if (!in.at_end()) {
    *error = "invalid tag";
    return false;
  }
  if (!found) *error = "packet carries no batch";
  return found;
}

}  // namespace

uint64_t DecodeResult::rejected_total() const {
  uint64_t total = 0;
  for (uint64_t count : rejected) total += count;
  return total;
}

PacketDecoder::PacketDecoder(const v1::LimitsConfig& limits,
                             std::shared_ptr<const PacketVerifier> verifier)
    : limits_(limits), verifier_(std::move(verifier)) {}

void DecodeResult::Reject(RejectReason reason, std::string error) {
  ++rejected[static_cast<int>(reason)];
  if (first_error.empty()) first_error = std::move(error);
}

void DecodeResult::KeepMessages(
    absl::string_view bytes, absl::Span<const std::pair<size_t, size_t>> spans,
    absl::BitGenRef random) {
  if (spans.empty()) return;
  packet = SharedPacket::Create(bytes);
  packet->Reserve(spans.size());
  const absl::string_view kept = packet->bytes();
  const int64_t now_ns = absl::GetCurrentTimeNanos();
  for (const auto& [start, size] : spans) {
    std::string problem;
    if (const std::optional<RejectReason> reason = RejectReasonFor(
            packet->Add(kept.substr(start, size), now_ns, random, &problem));
        reason.has_value()) {
      Reject(*reason, std::move(problem));
    }
  }
}

DecodeResult PacketDecoder::Decode(absl::string_view packet) {
  return Decode(packet, nullptr);
}

DecodeResult PacketDecoder::Decode(std::unique_ptr<const PacketBytes> packet) {
  const absl::string_view bytes = packet->bytes();
  return Decode(bytes, std::move(packet));
}

DecodeResult PacketDecoder::Decode(absl::string_view packet,
                                   std::unique_ptr<const PacketBytes> owner) {
  DecodeResult result;
  if (packet.size() > limits_.max_packet_bytes()) {
    result.Reject(RejectReason::kOversizedPacket,
                  absl::StrCat("packet of ", packet.size(), " bytes exceeds ",
                               limits_.max_packet_bytes()));
    result.unkept_bytes = std::move(owner);
    return result;
  }
  absl::string_view batch;
  std::string signature, error;
  if (!ReadBatch(packet, &batch, &signature, &error)) {
    result.Reject(RejectReason::kMalformedPacket, std::move(error));
    result.unkept_bytes = std::move(owner);
    return result;
  }
  if (verifier_ != nullptr) {
    RejectReason refusal = RejectReason::kCount;
    switch (verifier_->Verify(batch, signature, &result.signer, &error)) {
      case PacketVerifier::Outcome::kVerified:
      case PacketVerifier::Outcome::kUnsigned:
        break;
      case PacketVerifier::Outcome::kNoSignature:
        refusal = RejectReason::kUnsignedPacket;
        break;
      case PacketVerifier::Outcome::kUnknownSigner:
        refusal = RejectReason::kUnknownSigner;
        break;
      case PacketVerifier::Outcome::kBadSignature:
        refusal = RejectReason::kBadSignature;
        break;
    }
    if (refusal != RejectReason::kCount) {
      result.Reject(refusal, std::move(error));
      result.unkept_bytes = std::move(owner);
      return result;
    }
  }

  result.packet = owner != nullptr
                      ? SharedPacket::Create(std::move(owner), batch)
                      : SharedPacket::Create(batch);
  // The batch where the packet keeps it: messages view these bytes.
  const absl::string_view kept = result.packet->bytes();
  WireReader batch_in(kept);
  {
    // Counting first sizes the packet's message list once; regrowing it
    // cost more than this walk.
    WireReader count_in(kept);
    size_t count = 0;
    absl::string_view ignored;
    std::string ignored_error;
    while (NextLengthDelimited(count_in, /*field_number=*/1, &ignored,
                               &ignored_error)) {
      ++count;
    }
    result.packet->Reserve(count);
  }
  const int64_t now_ns = absl::GetCurrentTimeNanos();
  absl::string_view bytes;
  while (NextLengthDelimited(batch_in, /*field_number=*/1, &bytes, &error)) {
    if (bytes.size() > limits_.max_message_bytes()) {
      result.Reject(RejectReason::kOversizedMessage,
                    absl::StrCat("message of ", bytes.size(), " bytes exceeds ",
                                 limits_.max_message_bytes()));
      continue;
    }
    std::string problem_text;
    const std::optional<RejectReason> reason = RejectReasonFor(
        result.packet->Add(bytes, now_ns, random_, &problem_text));
    if (reason == RejectReason::kMalformedMessage) {
      result.Reject(*reason,
                    absl::StrCat("message does not parse: ", problem_text));
    } else if (reason.has_value()) {
      result.Reject(*reason, std::move(problem_text));
    }
  }
  if (!error.empty()) {
    // Messages before the damage are kept; the rest of the batch is lost.
    result.Reject(RejectReason::kMalformedPacket,
                  absl::StrCat("batch: ", error));
  }
  return result;
}

}  // namespace metlog
