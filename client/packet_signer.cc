#include "client/packet_signer.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <utility>

namespace metlog {

PacketSigner::PacketSigner(std::string signer, uint32_t key_version,
                           std::string key)
    : signer_(std::move(signer)),
      key_version_(key_version),
      key_(std::move(key)) {}

void PacketSigner::Sign(v1::Packet* packet) const {
  v1::Signature* signature = packet->mutable_signature();
  signature->set_signer(signer_);
  signature->set_key_version(key_version_);
  signature->set_hmac_sha256(Hmac(key_, packet->batch()));
}

std::string PacketSigner::Hmac(absl::string_view key, absl::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest,
       &length);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

}  // namespace metlog
