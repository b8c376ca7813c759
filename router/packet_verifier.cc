#include "router/packet_verifier.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "absl/strings/str_cat.h"
#include "proto/metlog.pb.h"

namespace metlog {

absl::StatusOr<std::shared_ptr<const SignerKeys>> SignerKeys::Create(
    const google::protobuf::RepeatedPtrField<v1::TrustedSigner>& signers) {
  auto keys = std::make_shared<SignerKeys>();
  for (const v1::TrustedSigner& signer : signers) {
    if (signer.name().empty()) {
      return absl::InvalidArgumentError("every signer needs a name");
    }
    for (const v1::TrustedSignerKey& key : signer.keys()) {
      if (key.key().empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("signer \"", signer.name(), "\" key version ",
                         key.version(), " has no key"));
      }
      if (!keys->keys_.try_emplace({signer.name(), key.version()}, key.key())
               .second) {
        return absl::InvalidArgumentError(
            absl::StrCat("signer \"", signer.name(), "\" key version ",
                         key.version(), " is given twice"));
      }
    }
  }
  return std::shared_ptr<const SignerKeys>(std::move(keys));
}

const std::string* SignerKeys::Find(absl::string_view signer,
                                    uint32_t version) const {
  const auto found = keys_.find(std::make_pair(std::string(signer), version));
  return found == keys_.end() ? nullptr : &found->second;
}

PacketVerifier::Outcome PacketVerifier::Verify(absl::string_view batch,
                                               absl::string_view signature,
                                               std::string* signer,
                                               std::string* error) const {
  v1::Signature parsed;
  // The decoder has checked that the signature is a well-formed message.
  if (signature.empty() ||
      !parsed.ParseFromArray(signature.data(),
                             static_cast<int>(signature.size()))) {
    if (!required_) return Outcome::kUnsigned;
    *error = "packet is not signed";
    return Outcome::kNoSignature;
  }
  const std::string* key =
      keys_ == nullptr ? nullptr
                       : keys_->Find(parsed.signer(), parsed.key_version());
  if (key == nullptr) {
    if (!required_) return Outcome::kUnsigned;
    *error = absl::StrCat("unknown signer \"", parsed.signer(),
                          "\" key version ", parsed.key_version());
    return Outcome::kUnknownSigner;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key->data(), static_cast<int>(key->size()),
       reinterpret_cast<const unsigned char*>(batch.data()), batch.size(),
       digest, &length);
  const std::string& hmac = parsed.hmac_sha256();
  if (hmac.size() != length ||
      CRYPTO_memcmp(hmac.data(), digest, length) != 0) {
    *error = absl::StrCat("HMAC does not match signer \"", parsed.signer(),
                          "\" key version ", parsed.key_version());
    return Outcome::kBadSignature;
  }
  *signer = parsed.signer();
  return Outcome::kVerified;
}

}  // namespace metlog
