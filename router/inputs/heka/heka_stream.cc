#include "router/inputs/heka/heka_stream.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "router/inputs/heka/heka.pb.h"

namespace metlog {
namespace {

constexpr char kRecordSeparator = 0x1E;
constexpr char kUnitSeparator = 0x1F;

// Why a message's HMAC refuses it, or kCount when it passes.
RejectReason CheckHmac(const heka::Header& header, absl::string_view message,
                       const SignerKeys* keys, bool required,
                       std::string* error) {
  if (!header.has_hmac_signer()) {
    if (!required) return RejectReason::kCount;
    *error = "message is not signed";
    return RejectReason::kUnsignedPacket;
  }
  const std::string* key =
      keys == nullptr
          ? nullptr
          : keys->Find(header.hmac_signer(), header.hmac_key_version());
  if (key == nullptr) {
    if (!required) return RejectReason::kCount;
    *error = absl::StrCat("unknown signer \"", header.hmac_signer(),
                          "\" key version ", header.hmac_key_version());
    return RejectReason::kUnknownSigner;
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(header.hmac_hash_function() == heka::Header::SHA1 ? EVP_sha1()
                                                         : EVP_md5(),
       key->data(), static_cast<int>(key->size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
       digest, &length);
  if (header.hmac().size() != length ||
      CRYPTO_memcmp(header.hmac().data(), digest, length) != 0) {
    *error = absl::StrCat("HMAC does not match signer \"", header.hmac_signer(),
                          "\" key version ", header.hmac_key_version());
    return RejectReason::kBadSignature;
  }
  return RejectReason::kCount;
}

}  // namespace

HekaStream::HekaStream(const v1::LimitsConfig& limits,
                       std::shared_ptr<const SignerKeys> keys,
                       bool require_signature)
    : limits_(limits),
      keys_(std::move(keys)),
      require_signature_(require_signature) {}

DecodeResult HekaStream::Feed(absl::string_view bytes) {
  DecodeResult result;
  buffer_.append(bytes.data(), bytes.size());
  const absl::string_view in = buffer_;
  std::string accepted;
  std::vector<std::pair<size_t, size_t>> spans;
  size_t pos = 0;
  while (pos < in.size()) {
    const size_t start = in.find(kRecordSeparator, pos);
    if (start != pos) {
      const size_t skipped =
          (start == absl::string_view::npos ? in.size() : start) - pos;
      result.Reject(RejectReason::kMalformedPacket,
                    absl::StrCat(skipped, " bytes outside a frame"));
      if (start == absl::string_view::npos) {
        pos = in.size();
        break;
      }
      pos = start;
    }
    if (in.size() - pos < 2) break;
    const size_t header_length = static_cast<uint8_t>(in[pos + 1]);
    if (in.size() - pos < 2 + header_length + 1) break;
    heka::Header header;
    if (in[pos + 2 + header_length] != kUnitSeparator ||
        !header.ParseFromArray(in.data() + pos + 2,
                               static_cast<int>(header_length)) ||
        !header.has_message_length()) {
      result.Reject(RejectReason::kMalformedPacket, "malformed frame header");
      ++pos;  // resynchronise on the next 0x1E
      continue;
    }
    if (header.message_length() > limits_.max_message_bytes()) {
      result.Reject(
          RejectReason::kOversizedMessage,
          absl::StrCat("message of ", header.message_length(),
                       " bytes exceeds ", limits_.max_message_bytes()));
      ++pos;
      continue;
    }
    const size_t frame = 2 + header_length + 1 + header.message_length();
    if (in.size() - pos < frame) break;
    const absl::string_view message =
        in.substr(pos + 2 + header_length + 1, header.message_length());
    pos += frame;
    std::string error;
    if (keys_ != nullptr || require_signature_) {
      const RejectReason refusal =
          CheckHmac(header, message, keys_.get(), require_signature_, &error);
      if (refusal != RejectReason::kCount) {
        result.Reject(refusal, std::move(error));
        continue;
      }
    }
    spans.emplace_back(accepted.size(), message.size());
    accepted.append(message.data(), message.size());
  }
  buffer_.erase(0, pos);
  result.KeepMessages(accepted, spans, random_);
  return result;
}

}  // namespace metlog
