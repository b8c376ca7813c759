// Frames built here from Heka's documented stream framing
// (hekad.readthedocs.io, "Stream framing"): 0x1E, the header's length in
// one byte, a protobuf Header {message_length, hmac_hash_function,
// hmac_signer, hmac_key_version, hmac}, 0x1F, then the message.
#include "router/inputs/heka/heka_stream.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>

#include "gtest/gtest.h"
#include "proto/metlog.pb.h"
#include "router/inputs/heka/heka.pb.h"

namespace metlog {
namespace {

std::string HekaMessage(const std::string& payload) {
  v1::Message m;
  m.set_uuid(std::string(16, '\x42'));
  m.set_timestamp(1331756411000000000);
  m.set_type("heka.counter");
  m.set_logger("hekad");
  m.set_severity(6);
  m.set_payload(payload);
  m.set_hostname("edge1");
  m.set_pid(77);
  v1::Field* field = m.add_fields();
  field->set_name("count");
  field->set_value_type(v1::Field::INTEGER);
  field->add_value_integer(5);
  return m.SerializeAsString();
}

std::string Hmac(const EVP_MD* md, const std::string& key,
                 const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(md, key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest,
       &length);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string Frame(const std::string& message, heka::Header header = {}) {
  header.set_message_length(static_cast<uint32_t>(message.size()));
  const std::string bytes = header.SerializeAsString();
  return std::string(1, '\x1e') + static_cast<char>(bytes.size()) + bytes +
         '\x1f' + message;
}

heka::Header Signed(const std::string& signer, uint32_t version,
                    const std::string& key, const std::string& message,
                    bool sha1) {
  heka::Header header;
  header.set_hmac_signer(signer);
  header.set_hmac_key_version(version);
  header.set_hmac_hash_function(sha1 ? heka::Header::SHA1 : heka::Header::MD5);
  header.set_hmac(Hmac(sha1 ? EVP_sha1() : EVP_md5(), key, message));
  return header;
}

std::shared_ptr<const SignerKeys> Keys() {
  v1::RouterConfig config;
  v1::TrustedSigner* signer = config.add_signers();
  signer->set_name("hekad");
  v1::TrustedSignerKey* key = signer->add_keys();
  key->set_version(1);
  key->set_key("heka secret");
  return *SignerKeys::Create(config.signers());
}

uint64_t Rejected(const DecodeResult& result, RejectReason reason) {
  return result.rejected[static_cast<int>(reason)];
}

TEST(HekaStreamTest, FramesSplitAnywhereArriveWhole) {
  HekaStream stream(v1::LimitsConfig(), nullptr, false);
  const std::string message = HekaMessage("first");
  const std::string bytes = Frame(message) + Frame(HekaMessage("second"));
  size_t accepted = 0;
  std::vector<std::string> payloads;
  // One byte at a time: every split point of both frames.
  for (char c : bytes) {
    DecodeResult result = stream.Feed(std::string(1, c));
    EXPECT_EQ(result.rejected_total(), 0u) << result.first_error;
    for (size_t i = 0; i < result.accepted(); ++i) {
      payloads.push_back(result.packet->Parsed(i).payload());
      if (payloads.size() == 1) {
        const v1::Message& m = result.packet->Parsed(i);
        EXPECT_EQ(m.uuid(), std::string(16, '\x42'));
        EXPECT_EQ(m.timestamp(), 1331756411000000000);
        EXPECT_EQ(m.type(), "heka.counter");
        EXPECT_EQ(m.logger(), "hekad");
        EXPECT_EQ(m.severity(), 6);
        EXPECT_EQ(m.hostname(), "edge1");
        EXPECT_EQ(m.pid(), 77);
        EXPECT_EQ(m.fields(0).name(), "count");
        EXPECT_EQ(m.fields(0).value_integer(0), 5);
      }
    }
    accepted += result.accepted();
  }
  EXPECT_EQ(accepted, 2u);
  EXPECT_EQ(payloads, (std::vector<std::string>{"first", "second"}));
  EXPECT_EQ(stream.buffered(), 0u);
}

TEST(HekaStreamTest, JunkIsSkippedToTheNextFrameAndCounted) {
  HekaStream stream(v1::LimitsConfig(), nullptr, false);
  DecodeResult result =
      stream.Feed("garbage" + Frame(HekaMessage("ok")) + "\x1e\x03zzz\x1f" +
                  Frame(HekaMessage("ok too")));
  EXPECT_EQ(result.accepted(), 2u);
  EXPECT_GE(Rejected(result, RejectReason::kMalformedPacket), 2u);
}

TEST(HekaStreamTest, HmacsAreCheckedWithTheConfiguredKeys) {
  HekaStream stream(v1::LimitsConfig(), Keys(), /*require_signature=*/true);
  const std::string m = HekaMessage("signed");
  DecodeResult result = stream.Feed(
      Frame(m, Signed("hekad", 1, "heka secret", m, /*sha1=*/false)) +
      Frame(m, Signed("hekad", 1, "heka secret", m, /*sha1=*/true)) +
      Frame(m, Signed("hekad", 1, "wrong", m, false)) +
      Frame(m, Signed("stranger", 1, "heka secret", m, false)) + Frame(m));
  EXPECT_EQ(result.accepted(), 2u);
  EXPECT_EQ(Rejected(result, RejectReason::kBadSignature), 1u);
  EXPECT_EQ(Rejected(result, RejectReason::kUnknownSigner), 1u);
  EXPECT_EQ(Rejected(result, RejectReason::kUnsignedPacket), 1u);
}

TEST(HekaStreamTest, LengthsAreBounded) {
  v1::LimitsConfig limits;
  limits.set_max_message_bytes(100);
  HekaStream stream(limits, nullptr, false);
  heka::Header header;
  header.set_message_length(1u << 30);  // claims a gigabyte
  const std::string bytes = header.SerializeAsString();
  DecodeResult result =
      stream.Feed(std::string(1, '\x1e') + static_cast<char>(bytes.size()) +
                  bytes + '\x1f' + std::string(1000, 'x'));
  EXPECT_EQ(Rejected(result, RejectReason::kOversizedMessage), 1u);
  EXPECT_EQ(stream.buffered(), 0u);  // nothing kept waiting for the gigabyte
}

}  // namespace
}  // namespace metlog
