// Signature checks on packets the C++ client signs (client/packet_signer).
#include "router/packet_verifier.h"

#include <memory>
#include <string>

#include "client/packet_signer.h"
#include "gtest/gtest.h"
#include "proto/metlog.pb.h"
#include "router/packet_decoder.h"

namespace metlog {
namespace {

std::shared_ptr<const SignerKeys> Keys() {
  v1::RouterConfig config;
  v1::TrustedSigner* signer = config.add_signers();
  signer->set_name("billing");
  v1::TrustedSignerKey* old_key = signer->add_keys();
  old_key->set_version(1);
  old_key->set_key("old secret");
  v1::TrustedSignerKey* new_key = signer->add_keys();
  new_key->set_version(2);
  new_key->set_key("new secret");
  auto keys = SignerKeys::Create(config.signers());
  EXPECT_TRUE(keys.ok()) << keys.status();
  return *keys;
}

std::string SignedPacket(const PacketSigner* signer,
                         const std::string& payload = "42") {
  v1::Batch batch;
  batch.add_messages()->set_payload(payload);
  v1::Packet packet;
  batch.SerializeToString(packet.mutable_batch());
  if (signer != nullptr) signer->Sign(&packet);
  return packet.SerializeAsString();
}

uint64_t Rejected(const DecodeResult& result, RejectReason reason) {
  return result.rejected[static_cast<int>(reason)];
}

TEST(PacketVerifierTest, EveryKeyVersionOfAKnownSignerVerifies) {
  PacketDecoder decoder(v1::LimitsConfig(),
                        std::make_shared<PacketVerifier>(Keys(), true));
  for (const auto& [version, key] :
       {std::make_pair(1u, "old secret"), std::make_pair(2u, "new secret")}) {
    PacketSigner signer("billing", version, key);
    DecodeResult result = decoder.Decode(SignedPacket(&signer));
    EXPECT_EQ(result.accepted(), 1u) << result.first_error;
    EXPECT_EQ(result.signer, "billing");
    EXPECT_EQ(result.rejected_total(), 0u);
  }
}

TEST(PacketVerifierTest, RequiredSignatureRefusesEachBadPacketByReason) {
  PacketDecoder decoder(v1::LimitsConfig(),
                        std::make_shared<PacketVerifier>(Keys(), true));
  DecodeResult unsigned_result = decoder.Decode(SignedPacket(nullptr));
  EXPECT_EQ(unsigned_result.accepted(), 0u);
  EXPECT_EQ(Rejected(unsigned_result, RejectReason::kUnsignedPacket), 1u);

  PacketSigner stranger("stranger", 1, "old secret");
  DecodeResult unknown = decoder.Decode(SignedPacket(&stranger));
  EXPECT_EQ(unknown.accepted(), 0u);
  EXPECT_EQ(Rejected(unknown, RejectReason::kUnknownSigner), 1u);

  PacketSigner retired_version("billing", 3, "new secret");
  EXPECT_EQ(Rejected(decoder.Decode(SignedPacket(&retired_version)),
                     RejectReason::kUnknownSigner),
            1u);

  PacketSigner wrong_key("billing", 2, "old secret");
  DecodeResult forged = decoder.Decode(SignedPacket(&wrong_key));
  EXPECT_EQ(forged.accepted(), 0u);
  EXPECT_EQ(Rejected(forged, RejectReason::kBadSignature), 1u);
  EXPECT_NE(forged.first_error.find("HMAC"), std::string::npos);
}

TEST(PacketVerifierTest, AnAlteredBatchIsABadSignature) {
  PacketDecoder decoder(v1::LimitsConfig(),
                        std::make_shared<PacketVerifier>(Keys(), false));
  PacketSigner signer("billing", 1, "old secret");
  v1::Packet packet;
  ASSERT_TRUE(packet.ParseFromString(SignedPacket(&signer, "42")));
  v1::Batch altered;
  altered.add_messages()->set_payload("43");
  altered.SerializeToString(packet.mutable_batch());
  DecodeResult result = decoder.Decode(packet.SerializeAsString());
  EXPECT_EQ(result.accepted(), 0u);
  EXPECT_EQ(Rejected(result, RejectReason::kBadSignature), 1u);
}

TEST(PacketVerifierTest, WithoutRequirementUnsignedAndUnknownPassUnsigned) {
  PacketDecoder decoder(v1::LimitsConfig(),
                        std::make_shared<PacketVerifier>(Keys(), false));
  DecodeResult plain = decoder.Decode(SignedPacket(nullptr));
  EXPECT_EQ(plain.accepted(), 1u);
  EXPECT_EQ(plain.signer, "");
  PacketSigner stranger("stranger", 1, "whatever");
  DecodeResult unknown = decoder.Decode(SignedPacket(&stranger));
  EXPECT_EQ(unknown.accepted(), 1u);
  EXPECT_EQ(unknown.signer, "");
}

TEST(PacketVerifierTest, ConfigErrorsAreRefused) {
  v1::RouterConfig config;
  v1::TrustedSigner* signer = config.add_signers();
  signer->set_name("twice");
  signer->add_keys()->set_key("a");
  signer->add_keys()->set_key("b");
  EXPECT_FALSE(SignerKeys::Create(config.signers()).ok());
  config.Clear();
  config.add_signers()->set_name("keyless");
  config.mutable_signers(0)->add_keys();
  EXPECT_FALSE(SignerKeys::Create(config.signers()).ok());
  config.Clear();
  config.add_signers()->add_keys()->set_key("nameless");
  EXPECT_FALSE(SignerKeys::Create(config.signers()).ok());
}

}  // namespace
}  // namespace metlog
