// Checks a Packet's signature (HMAC-SHA256 over its batch bytes) against the
// keys of RouterConfig.signers, so an input can refuse forged, altered or
// (when it requires signatures) unsigned packets, and sinks can take only
// what given signers sent.
#ifndef METLOG_ROUTER_PACKET_VERIFIER_H_
#define METLOG_ROUTER_PACKET_VERIFIER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/repeated_field.h"
#include "proto/config.pb.h"

namespace metlog {

// The keys of RouterConfig.signers by (signer, key version). Immutable.
class SignerKeys {
 public:
  // Fails on a signer without a name, a key without bytes, or a (signer,
  // version) given twice.
  static absl::StatusOr<std::shared_ptr<const SignerKeys>> Create(
      const google::protobuf::RepeatedPtrField<v1::TrustedSigner>& signers);

  // The key, or null when (signer, version) is unknown.
  const std::string* Find(absl::string_view signer, uint32_t version) const;

 private:
  absl::flat_hash_map<std::pair<std::string, uint32_t>, std::string> keys_;
};

class PacketVerifier {
 public:
  enum class Outcome {
    kVerified,       // signed by a known key; `signer` names it
    kUnsigned,       // no signature, or an unknown signer: passes unsigned
    kNoSignature,    // refused: required, but the packet carries none
    kUnknownSigner,  // refused: required, but the key is not configured
    kBadSignature,   // refused: the HMAC does not match the known key
  };

  PacketVerifier(std::shared_ptr<const SignerKeys> keys, bool required)
      : keys_(std::move(keys)), required_(required) {}

  // `signature` is the serialized Packet.signature (empty when the packet
  // has none), `batch` the Packet.batch bytes it signs. On kVerified sets
  // *signer; on a refusal sets *error for the log line. Thread-safe.
  Outcome Verify(absl::string_view batch, absl::string_view signature,
                 std::string* signer, std::string* error) const;

 private:
  const std::shared_ptr<const SignerKeys> keys_;
  const bool required_;
};

}  // namespace metlog

#endif  // METLOG_ROUTER_PACKET_VERIFIER_H_
