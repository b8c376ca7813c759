// Turns one network packet into validated messages. Every length read from
// the packet is checked against the configured limits before it is used; a
// bad packet or message is rejected with a reason, never a crash.
#ifndef METLOG_ROUTER_PACKET_DECODER_H_
#define METLOG_ROUTER_PACKET_DECODER_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "proto/config.pb.h"
#include "router/packet_verifier.h"
#include "sinks/message/shared_packet.h"

namespace metlog {

enum class RejectReason : int {
  kOversizedPacket,   // packet above limits.max_packet_bytes
  kMalformedPacket,   // not a Packet, or its batch is not a Batch
  kOversizedMessage,  // one message above limits.max_message_bytes
  kMalformedMessage,  // a message's bytes are not a Message
  kInvalidMessage,    // parses, but breaks a rule (severity, uuid, field name)
  kDensePacket,       // messages past the memory its packet's bytes allow
  kMultipartPacket,   // a ZeroMQ message of several frames
  kShutdown,          // taken in, but left undecoded at the shutdown deadline
  kUnsignedPacket,    // no signature where the input requires one
  kUnknownSigner,     // signer or key version not configured, where required
  kBadSignature,      // the HMAC does not match the signer's key
  kMalformedLine,     // a line of a text input (statsd) that does not parse
  kCount,
};

// "oversized_packet", "malformed_message", ... as shown in stats.
absl::string_view RejectReasonName(RejectReason reason);

// What a message SharedPacket::Add refused counts as; nullopt for kNone.
std::optional<RejectReason> RejectReasonFor(WireProblem problem);

struct DecodeResult {
  // The accepted messages, in packet order, with one reference held; null
  // when the packet itself was refused, and possibly empty.
  PacketRef packet;
  // Per reason: 1 for a packet-level rejection, else one per bad message.
  std::array<uint64_t, static_cast<int>(RejectReason::kCount)> rejected{};
  // The first problem, for the log line.
  std::string first_error;
  // The received bytes when no message was kept (otherwise `packet` keeps
  // them), so a log line can still ask them where they came from.
  std::unique_ptr<const PacketBytes> unkept_bytes;
  // Who signed the packet, verified; empty when it passed unsigned.
  std::string signer;

  size_t accepted() const { return packet == nullptr ? 0 : packet->size(); }
  // Counts one refusal and keeps the first problem for the log line.
  void Reject(RejectReason reason, std::string error);
  // For inputs that encode messages themselves: `packet` becomes a copy of
  // `bytes` holding the messages at `spans` (start, size), each checked by
  // SharedPacket::Add, those it refuses counted. Nothing when `spans` is
  // empty.
  void KeepMessages(absl::string_view bytes,
                    absl::Span<const std::pair<size_t, size_t>> spans,
                    absl::BitGenRef random);
  uint64_t rejected_total() const;
};

class PacketDecoder {
 public:
  // With a `verifier`, each packet's signature is checked before its
  // messages are read (see PacketVerifier); without, signatures are ignored.
  explicit PacketDecoder(const v1::LimitsConfig& limits,
                         std::shared_ptr<const PacketVerifier> verifier = {});

  // Decodes a Packet{batch: Batch{messages}} into wire views over a copy
  // of the batch (no message is parsed; see SharedPacket), validating
  // every message completely. Fills uuid and timestamp when absent. Not
  // thread-safe: one decoder per input thread.
  DecodeResult Decode(absl::string_view packet);
  // The same, viewing the batch where it was received instead of copying.
  DecodeResult Decode(std::unique_ptr<const PacketBytes> packet);

 private:
  // `owner`, when given, holds `packet`.
  DecodeResult Decode(absl::string_view packet,
                      std::unique_ptr<const PacketBytes> owner);

  const v1::LimitsConfig limits_;
  const std::shared_ptr<const PacketVerifier> verifier_;
  absl::InsecureBitGen random_;
};

}  // namespace metlog

#endif  // METLOG_ROUTER_PACKET_DECODER_H_
