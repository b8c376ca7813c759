// TLS on the router's gRPC server (issue 13), through the real router
// binary, with a CA, certificates and keys the test makes with Debian's
// openssl command: a client with a certificate from that CA publishes and
// its message is delivered; a client without a certificate, with one from
// another CA or an expired one is refused UNAUTHENTICATED and counted in
// Stats, and one in plaintext is refused in the handshake; metlogctl speaks
// TLS with flags.

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "integration_tests/protobuf_records.h"
#include "proto/admin.grpc.pb.h"
#include "tools/testing/peer_process.h"
#include "tools/testing/router_process.h"
#include "tools/testing/test_certificates.h"

namespace metlog {
namespace {

using ::testing::HasSubstr;
using testing::kCaExtensions;
using testing::kClientExtensions;
using testing::MakeCertificate;
using ::testing::Not;
using testing::ReadFile;
using testing::RouterProcess;
using testing::Runfile;
using testing::TempPath;

void Run(const std::string& command) {
  ASSERT_EQ(
      std::system(
          absl::StrCat(command, " 2>> ", TempPath("openssl.log")).c_str()),
      0)
      << command << "\n"
      << ReadFile(TempPath("openssl.log"));
}

// A test CA, the router's certificate, a client certificate from that CA,
// an expired one, and one from a CA the router does not trust.
class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    for (const absl::Status& made : {
             MakeCertificate("ca", "", kCaExtensions),
             MakeCertificate("other_ca", "", kCaExtensions),
             MakeCertificate("router", "ca",
                             "subjectAltName = DNS:localhost, IP:127.0.0.1\n"
                             "extendedKeyUsage = serverAuth"),
             MakeCertificate("client", "ca", kClientExtensions),
             MakeCertificate("expired", "ca", kClientExtensions, /*days=*/-1),
             MakeCertificate("stranger", "other_ca", kClientExtensions),
         }) {
      ASSERT_TRUE(made.ok()) << made;
    }
  }

  static std::string Config(const std::string& name, bool require_client) {
    return absl::StrCat(
        R"(inputs { options { [type.googleapis.com/metlog.v1.ZmqInputConfig] { endpoint: "tcp://127.0.0.1:*" } } }
        inputs { options { [type.googleapis.com/metlog.v1.GrpcPublishInputConfig] {} } }
        admin { listen_address: "127.0.0.1:0" tls {
          cert_file: ")",
        TempPath("router.pem"), R"(" key_file: ")", TempPath("router.key"),
        R"(" client_ca_file: ")", TempPath("ca.pem"),
        R"(" require_client_cert: )", require_client ? "true" : "false",
        R"( } }
        stats_interval_ms: 0
        sinks { name: "all" queue { flush_interval_ms: 10 }
          options { [type.googleapis.com/metlog.sinks.FileOptions] {
            path: ")",
        TempPath(name + ".pb"), R"(" encoding { codec: PROTOBUF } } } })");
  }

  // A TLS channel trusting the test CA, presenting `client`'s certificate
  // unless `client` is empty.
  static std::unique_ptr<v1::Admin::Stub> TlsStub(const RouterProcess& router,
                                                  const std::string& client) {
    return TlsStubTo(router.admin_address(), client);
  }

  static std::unique_ptr<v1::Admin::Stub> TlsStubTo(const std::string& address,
                                                    const std::string& client) {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = ReadFile(TempPath("ca.pem"));
    if (!client.empty()) {
      options.pem_cert_chain = ReadFile(TempPath(client + ".pem"));
      options.pem_private_key = ReadFile(TempPath(client + ".key"));
    }
    grpc::ChannelArguments arguments;
    arguments.SetSslTargetNameOverride("localhost");
    return v1::Admin::NewStub(grpc::CreateCustomChannel(
        address, grpc::SslCredentials(options), arguments));
  }

  static std::unique_ptr<v1::Admin::Stub> PlaintextStub(
      const RouterProcess& router) {
    return v1::Admin::NewStub(grpc::CreateChannel(
        router.admin_address(), grpc::InsecureChannelCredentials()));
  }

  // Publishes one message whose payload is `payload`.
  static grpc::Status Publish(v1::Admin::Stub* stub, const std::string& payload,
                              v1::Ack* ack) {
    v1::Batch batch;
    v1::Message* message = batch.add_messages();
    message->set_type("log");
    message->set_payload(payload);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(20));
    return stub->Publish(&context, batch, ack);
  }

  static v1::StatsResponse Stats(v1::Admin::Stub* stub) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(20));
    v1::StatsResponse stats;
    grpc::Status status = stub->Stats(&context, v1::StatsRequest(), &stats);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return stats;
  }

  // The Publish input's clients_refused (it is named "grpc", its kind).
  static uint64_t PublishClientsRefused(const v1::StatsResponse& stats) {
    for (const v1::InputStats& input : stats.inputs()) {
      if (input.name() == "grpc") return input.clients_refused();
    }
    ADD_FAILURE() << "no input grpc in " << stats.DebugString();
    return 0;
  }

  static std::vector<std::string> Payloads(const std::string& sink) {
    std::vector<std::string> payloads;
    for (const v1::Message& m :
         testing::ReadProtobufRecords(TempPath(sink + ".pb"))) {
      payloads.push_back(m.payload());
    }
    return payloads;
  }

  static void WaitForPayloads(const std::string& sink, size_t count) {
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (Payloads(sink).size() < count && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(20));
    }
  }
};

TEST_F(TlsTest, OnlyClientsWithACertificateFromTheCaArePublishing) {
  auto router = RouterProcess::Start("tls_required",
                                     Config("tls_required", /*require=*/true));
  ASSERT_TRUE(router.ok()) << router.status();

  auto trusted = TlsStub(*router, "client");
  v1::Ack ack;
  grpc::Status status = Publish(trusted.get(), "trusted", &ack);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(ack.accepted(), 1u);

  for (const auto& [who, client, reason] :
       {std::tuple("no certificate", "", "none presented"),
        std::tuple("another CA", "stranger",
                   "unable to get local issuer certificate"),
        std::tuple("expired", "expired", "certificate has expired")}) {
    v1::Ack refused;
    status = Publish(TlsStub(*router, client).get(), who, &refused);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << who;
    EXPECT_THAT(status.error_message(), HasSubstr(reason)) << who;
    EXPECT_EQ(refused.accepted(), 0u) << who;
  }
  // Plaintext fails the TLS handshake itself: refused, not counted.
  v1::Ack refused;
  status = Publish(PlaintextStub(*router).get(), "plaintext", &refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);

  // The trusted client's connection keeps publishing beside them.
  status = Publish(trusted.get(), "trusted again", &ack);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(ack.accepted(), 1u);
  const v1::StatsResponse stats = Stats(trusted.get());
  EXPECT_EQ(stats.admin_clients_refused(), 3u);
  // Counted where the refusing server is: the admin port's, not the input.
  EXPECT_EQ(PublishClientsRefused(stats), 0u);

  const std::string ctl = absl::StrCat(
      Runfile("tools/metlogctl"), " --admin=", router->admin_address(),
      " --tls_server_name=localhost --tls_ca_file=", TempPath("ca.pem"));
  const std::string out = TempPath("tls_ctl.out");
  ASSERT_EQ(
      std::system(absl::StrCat(ctl, " --tls_cert_file=", TempPath("client.pem"),
                               " --tls_key_file=", TempPath("client.key"),
                               " stats > ", out)
                      .c_str()),
      0)
      << ReadFile(out);
  EXPECT_THAT(ReadFile(out), HasSubstr("sink all: received 2"));
  EXPECT_THAT(ReadFile(out), HasSubstr("admin: clients refused 3"));
  EXPECT_NE(
      std::system(
          absl::StrCat(ctl, " --timeout_s=20 stats > ", out, " 2>&1").c_str()),
      0);
  EXPECT_THAT(ReadFile(out), HasSubstr("certificate required"));
  EXPECT_EQ(Stats(trusted.get()).admin_clients_refused(), 4u);

  WaitForPayloads("tls_required", 2);
  ASSERT_TRUE(router->Stop().ok());
  EXPECT_EQ(Payloads("tls_required"),
            (std::vector<std::string>{"trusted", "trusted again"}));
}

TEST_F(TlsTest, WithoutRequirementTlsClientsNeedNoCertificate) {
  auto router = RouterProcess::Start("tls_optional",
                                     Config("tls_optional", /*require=*/false));
  ASSERT_TRUE(router.ok()) << router.status();
  v1::Ack ack;
  grpc::Status status = Publish(TlsStub(*router, "").get(), "anonymous", &ack);
  EXPECT_TRUE(status.ok()) << status.error_message();
  status = Publish(TlsStub(*router, "client").get(), "with cert", &ack);
  EXPECT_TRUE(status.ok()) << status.error_message();
  // A certificate is still verified when one is presented.
  for (const std::string client : {"stranger", "expired"}) {
    status = Publish(TlsStub(*router, client).get(), client, &ack);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << client;
  }
  status = Publish(PlaintextStub(*router).get(), "plaintext", &ack);
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(Stats(TlsStub(*router, "").get()).admin_clients_refused(), 2u);
  WaitForPayloads("tls_optional", 2);
  ASSERT_TRUE(router->Stop().ok());
  EXPECT_EQ(Payloads("tls_optional"),
            (std::vector<std::string>{"anonymous", "with cert"}));
}

TEST_F(TlsTest, APublishInputOnItsOwnPortServesTlsToo) {
  const std::string publish_address =
      absl::StrCat("127.0.0.1:", testing::FreeTcpPort());
  auto router = RouterProcess::Start(
      "tls_publish",
      absl::StrCat(
          R"(inputs { options { [type.googleapis.com/metlog.v1.ZmqInputConfig] { endpoint: "tcp://127.0.0.1:*" } } }
          inputs { options { [type.googleapis.com/metlog.v1.GrpcPublishInputConfig] {
            listen_address: ")",
          publish_address, R"(" tls { cert_file: ")", TempPath("router.pem"),
          R"(" key_file: ")", TempPath("router.key"), R"(" client_ca_file: ")",
          TempPath("ca.pem"), R"(" require_client_cert: true } } } }
          admin { listen_address: "127.0.0.1:0" }
          stats_interval_ms: 0
          sinks { name: "all" queue { flush_interval_ms: 10 }
            options { [type.googleapis.com/metlog.sinks.FileOptions] {
              path: ")",
          TempPath("tls_publish.pb"),
          R"(" encoding { codec: PROTOBUF } } } })"));
  ASSERT_TRUE(router.ok()) << router.status();

  auto trusted = TlsStubTo(publish_address, "client");
  v1::Ack ack;
  grpc::Status status = Publish(trusted.get(), "trusted", &ack);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(ack.accepted(), 1u);
  for (const auto& [who, client] :
       {std::pair("no certificate", ""), std::pair("another CA", "stranger"),
        std::pair("expired", "expired")}) {
    v1::Ack refused;
    status = Publish(TlsStubTo(publish_address, client).get(), who, &refused);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << who;
    EXPECT_EQ(refused.accepted(), 0u) << who;
  }
  v1::Ack refused;
  status = Publish(v1::Admin::NewStub(
                       grpc::CreateChannel(publish_address,
                                           grpc::InsecureChannelCredentials()))
                       .get(),
                   "plaintext", &refused);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  status = Publish(trusted.get(), "trusted again", &ack);
  ASSERT_TRUE(status.ok()) << status.error_message();

  const v1::StatsResponse stats = Stats(PlaintextStub(*router).get());
  EXPECT_EQ(PublishClientsRefused(stats), 3u);
  EXPECT_EQ(stats.admin_clients_refused(), 0u);
  const std::string out = TempPath("tls_publish_ctl.out");
  ASSERT_EQ(std::system(absl::StrCat(Runfile("tools/metlogctl"), " --admin=",
                                     router->admin_address(), " stats > ", out)
                            .c_str()),
            0);
  EXPECT_THAT(ReadFile(out),
              HasSubstr("messages accepted 2, clients refused 3"));

  WaitForPayloads("tls_publish", 2);
  ASSERT_TRUE(router->Stop().ok());
  EXPECT_EQ(Payloads("tls_publish"),
            (std::vector<std::string>{"trusted", "trusted again"}));
}

TEST_F(TlsTest, CheckRefusesAKeyThatIsNotTheCertificates) {
  const std::string config = TempPath("wrong_key.textproto");
  std::ofstream(config) << absl::StrCat(
      R"(inputs { options { [type.googleapis.com/metlog.v1.ZmqInputConfig] {} } } admin { tls { cert_file: ")",
      TempPath("router.pem"), R"(" key_file: ")", TempPath("client.key"),
      R"(" } }
      sinks { name: "null"
              options { [type.googleapis.com/metlog.sinks.NullOptions] {} } })");
  const std::string out = TempPath("wrong_key.out");
  const int status =
      std::system(absl::StrCat(Runfile("router/router"),
                               " --check --config=", config, " 2> ", out)
                      .c_str());
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_THAT(ReadFile(out), HasSubstr("is not the key of cert_file"));
}

// An encrypted key is refused with a clear error; OpenSSL must not stop
// start-up (or --check) to ask for its pass phrase.
TEST_F(TlsTest, CheckRefusesAnEncryptedKeyWithoutAskingForItsPassPhrase) {
  metlog::Run(absl::StrCat("openssl pkey -in ", TempPath("router.key"),
                           " -aes256 -passout pass:secret -out ",
                           TempPath("encrypted.key")));
  const std::string config = TempPath("encrypted_key.textproto");
  std::ofstream(config) << absl::StrCat(
      R"(inputs { options { [type.googleapis.com/metlog.v1.ZmqInputConfig] {} } } admin { tls { cert_file: ")",
      TempPath("router.pem"), R"(" key_file: ")", TempPath("encrypted.key"),
      R"(" } }
      sinks { name: "null"
              options { [type.googleapis.com/metlog.sinks.NullOptions] {} } })");
  const std::string out = TempPath("encrypted_key.out");
  const int status =
      std::system(absl::StrCat("script -qec '", Runfile("router/router"),
                               " --check --config=", config,
                               "' /dev/null < /dev/null > ", out, " 2>&1")
                      .c_str());
  EXPECT_EQ(WEXITSTATUS(status), 1) << ReadFile(out);
  EXPECT_THAT(ReadFile(out), HasSubstr("holds no unencrypted PEM private key"));
  EXPECT_THAT(ReadFile(out), Not(HasSubstr("pass phrase")));
}

}  // namespace
}  // namespace metlog
