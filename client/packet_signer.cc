#include "client/packet_signer.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cstring>
#include <utility>

#include "google/protobuf/io/coded_stream.h"

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

namespace {

using google::protobuf::io::CodedOutputStream;

constexpr uint8_t kPacketSignatureTag = (2 << 3) | 2;
constexpr uint8_t kSignerTag = (1 << 3) | 2;
constexpr uint8_t kKeyVersionTag = (2 << 3) | 0;
constexpr uint8_t kHmacTag = (3 << 3) | 2;
constexpr size_t kHmacBytes = 32;

size_t SignatureBodyBytes(absl::string_view signer, uint32_t key_version) {
  return 1 + CodedOutputStream::VarintSize32(signer.size()) + signer.size() +
         1 + CodedOutputStream::VarintSize32(key_version) + 1 + 1 + kHmacBytes;
}

}  // namespace

size_t PacketSigner::SignatureFieldBytes() const {
  const size_t body = SignatureBodyBytes(signer_, key_version_);
  return 1 + CodedOutputStream::VarintSize32(body) + body;
}

uint8_t* PacketSigner::WriteSignatureField(absl::string_view batch,
                                           uint8_t* out) const {
  *out++ = kPacketSignatureTag;
  out = CodedOutputStream::WriteVarint32ToArray(
      SignatureBodyBytes(signer_, key_version_), out);
  *out++ = kSignerTag;
  out = CodedOutputStream::WriteVarint32ToArray(signer_.size(), out);
  std::memcpy(out, signer_.data(), signer_.size());
  out += signer_.size();
  *out++ = kKeyVersionTag;
  out = CodedOutputStream::WriteVarint32ToArray(key_version_, out);
  *out++ = kHmacTag;
  *out++ = kHmacBytes;
  unsigned int length = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(batch.data()), batch.size(), out,
       &length);
  return out + length;
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
