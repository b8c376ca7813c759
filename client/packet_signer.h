// Signs packets with HMAC-SHA256 over the batch bytes, so a router that
// knows (signer, key_version) can reject forged or altered packets.
#ifndef METLOG_CLIENT_PACKET_SIGNER_H_
#define METLOG_CLIENT_PACKET_SIGNER_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "proto/metlog.pb.h"

namespace metlog {

class PacketSigner {
 public:
  PacketSigner(std::string signer, uint32_t key_version, std::string key);

  const std::string& name() const { return signer_; }

  // Sets packet->signature from packet->batch().
  void Sign(v1::Packet* packet) const;

  // The Packet.signature field (tag included) for a packet whose batch is
  // `batch`, written at `out`: SignatureFieldBytes() bytes. Returns the end.
  uint8_t* WriteSignatureField(absl::string_view batch, uint8_t* out) const;
  size_t SignatureFieldBytes() const;

  // HMAC-SHA256 of `data` under `key`, 32 raw bytes.
  static std::string Hmac(absl::string_view key, absl::string_view data);

 private:
  std::string signer_;
  uint32_t key_version_;
  std::string key_;
};

}  // namespace metlog

#endif  // METLOG_CLIENT_PACKET_SIGNER_H_
