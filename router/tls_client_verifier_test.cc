#include "router/tls_client_verifier.h"

#include <atomic>
#include <memory>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tools/testing/peer_process.h"
#include "tools/testing/test_certificates.h"

namespace metlog {
namespace {

using ::testing::HasSubstr;
using testing::kCaExtensions;
using testing::kClientExtensions;
using testing::MakeCertificate;
using testing::ReadFile;
using testing::TempPath;

std::string Pem(const std::string& name) {
  return ReadFile(TempPath(name + ".pem"));
}

class TlsClientVerifierTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    for (const absl::Status& made : {
             MakeCertificate("ca", "", kCaExtensions),
             MakeCertificate("other_ca", "", kCaExtensions),
             MakeCertificate("client", "ca", kClientExtensions),
             MakeCertificate("stranger", "other_ca", kClientExtensions),
             MakeCertificate("expired", "ca", kClientExtensions, /*days=*/-1),
             MakeCertificate("server_only", "ca",
                             "extendedKeyUsage = serverAuth"),
             MakeCertificate("intermediate", "ca",
                             "basicConstraints = critical, CA:TRUE\n"
                             "keyUsage = critical, keyCertSign"),
             MakeCertificate("grandchild", "intermediate", kClientExtensions),
         }) {
      ASSERT_TRUE(made.ok()) << made;
    }
  }

  void SetUp() override {
    auto verifier =
        TlsClientVerifier::Create("test", "client_ca_file", Pem("ca"),
                                  /*require_certificate=*/true, refused_);
    ASSERT_TRUE(verifier.ok()) << verifier.status();
    verifier_ = *std::move(verifier);
  }

  const std::shared_ptr<std::atomic<uint64_t>> refused_ =
      std::make_shared<std::atomic<uint64_t>>(0);
  std::shared_ptr<TlsClientVerifier> verifier_;
};

TEST_F(TlsClientVerifierTest, AcceptsAClientCertificateFromTheCa) {
  EXPECT_TRUE(verifier_->Verify(Pem("client"), "").ok());
}

TEST_F(TlsClientVerifierTest, RefusesACertificateFromAnotherCa) {
  absl::Status status = verifier_->Verify(Pem("stranger"), "");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("unable to get local issuer certificate"));
}

TEST_F(TlsClientVerifierTest, RefusesAnExpiredCertificate) {
  absl::Status status = verifier_->Verify(Pem("expired"), "");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("certificate has expired"));
}

TEST_F(TlsClientVerifierTest, RefusesACertificateNotForClients) {
  absl::Status status = verifier_->Verify(Pem("server_only"), "");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("unsuitable certificate purpose"));
}

TEST_F(TlsClientVerifierTest, ChainsThroughTheIntermediatesTheClientSent) {
  EXPECT_TRUE(verifier_->Verify(Pem("grandchild"), Pem("intermediate")).ok());
  EXPECT_EQ(verifier_->Verify(Pem("grandchild"), "").code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(TlsClientVerifierTest, ARememberedChainLetsNoOtherCertificatePass) {
  EXPECT_TRUE(verifier_->Verify(Pem("client"), "").ok());
  EXPECT_TRUE(verifier_->Verify(Pem("client"), "").ok());
  EXPECT_EQ(verifier_->Verify(Pem("stranger"), "").code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(verifier_->Verify(Pem("expired"), "").code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(verifier_->Verify(Pem("grandchild"), Pem("intermediate")).ok());
  EXPECT_EQ(verifier_->Verify(Pem("grandchild"), "").code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(TlsClientVerifierTest, RefusesWhatIsNoCertificate) {
  absl::Status status = verifier_->Verify("not PEM", "");
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("not a PEM certificate"));
}

TEST_F(TlsClientVerifierTest, ACaFileWithoutCertificatesIsRefused) {
  auto verifier = TlsClientVerifier::Create(
      "test", "admin tls: client_ca_file \"x\"", ReadFile(TempPath("ca.key")),
      /*require_certificate=*/true, refused_);
  EXPECT_EQ(verifier.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(verifier.status().message()),
              HasSubstr("client_ca_file \"x\" holds no PEM certificate"));
}

}  // namespace
}  // namespace metlog
