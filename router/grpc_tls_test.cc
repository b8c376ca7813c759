// ServerCredentialsFor's client certificate checks, over a real gRPC server
// on 127.0.0.1: refused calls end UNAUTHENTICATED, never reach the
// service, and are counted; allowed ones are served.
#include "router/grpc_tls.h"

#include <atomic>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/admin.grpc.pb.h"
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

// Health alone, counting the calls that reach it.
class CountingHealth : public v1::Admin::Service {
 public:
  grpc::Status Health(grpc::ServerContext*, const v1::HealthRequest*,
                      v1::HealthResponse* response) override {
    served.fetch_add(1);
    response->set_status("SERVING");
    return grpc::Status::OK;
  }
  std::atomic<int> served{0};
};

class GrpcTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    for (const absl::Status& made : {
             MakeCertificate("ca", "", kCaExtensions),
             MakeCertificate("other_ca", "", kCaExtensions),
             MakeCertificate("server", "ca",
                             "subjectAltName = DNS:localhost\n"
                             "extendedKeyUsage = serverAuth"),
             MakeCertificate("client", "ca", kClientExtensions),
             MakeCertificate("expired", "ca", kClientExtensions, /*days=*/-1),
             MakeCertificate("stranger", "other_ca", kClientExtensions),
         }) {
      ASSERT_TRUE(made.ok()) << made;
    }
  }

  // Serves with the test's certificate, client_ca_file the test CA.
  void Serve(bool require_client_cert) {
    v1::TlsServerConfig tls;
    tls.set_cert_file(TempPath("server.pem"));
    tls.set_key_file(TempPath("server.key"));
    tls.set_client_ca_file(TempPath("ca.pem"));
    tls.set_require_client_cert(require_client_cert);
    auto credentials = ServerCredentialsFor(&tls, "test tls", refused_);
    ASSERT_TRUE(credentials.ok()) << credentials.status();
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", *credentials, &port);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    address_ = absl::StrCat("127.0.0.1:", port);
  }

  void TearDown() override {
    if (server_ != nullptr) {
      server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    }
  }

  // Health over TLS, presenting `client`'s certificate unless it is empty.
  grpc::Status Health(const std::string& client) {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = ReadFile(TempPath("ca.pem"));
    if (!client.empty()) {
      options.pem_cert_chain = ReadFile(TempPath(client + ".pem"));
      options.pem_private_key = ReadFile(TempPath(client + ".key"));
    }
    grpc::ChannelArguments arguments;
    arguments.SetSslTargetNameOverride("localhost");
    auto stub = v1::Admin::NewStub(grpc::CreateCustomChannel(
        address_, grpc::SslCredentials(options), arguments));
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    v1::HealthResponse response;
    return stub->Health(&context, v1::HealthRequest(), &response);
  }

  const std::shared_ptr<std::atomic<uint64_t>> refused_ =
      std::make_shared<std::atomic<uint64_t>>(0);
  CountingHealth service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
};

TEST_F(GrpcTlsTest, RequiredCertificatesAreVerifiedAndRefusalsCounted) {
  Serve(/*require_client_cert=*/true);
  EXPECT_TRUE(Health("client").ok());
  for (const auto& [client, reason] :
       {std::pair("", "none presented"),
        std::pair("stranger", "unable to get local issuer certificate"),
        std::pair("expired", "certificate has expired")}) {
    grpc::Status status = Health(client);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << client;
    EXPECT_THAT(status.error_message(), HasSubstr(reason)) << client;
  }
  EXPECT_TRUE(Health("client").ok());
  EXPECT_EQ(refused_->load(), 3u);
  EXPECT_EQ(service_.served.load(), 2);
}

TEST_F(GrpcTlsTest, OptionalCertificatesAreVerifiedWhenPresented) {
  Serve(/*require_client_cert=*/false);
  EXPECT_TRUE(Health("").ok());
  EXPECT_TRUE(Health("client").ok());
  EXPECT_EQ(Health("stranger").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Health("expired").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(refused_->load(), 2u);
  EXPECT_EQ(service_.served.load(), 2);
}

TEST_F(GrpcTlsTest, CheckRefusesACaFileWithoutCertificates) {
  v1::TlsServerConfig tls;
  tls.set_cert_file(TempPath("server.pem"));
  tls.set_key_file(TempPath("server.key"));
  tls.set_client_ca_file(TempPath("ca.key"));
  absl::Status status = CheckServerTls(&tls, "admin tls");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(
      std::string(status.message()),
      HasSubstr(absl::StrCat("admin tls: client_ca_file \"", TempPath("ca.key"),
                             "\" holds no PEM certificate")));
}

}  // namespace
}  // namespace metlog
