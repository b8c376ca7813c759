// Microseconds per client certificate verification: what TLS with
// client_ca_file adds to a connection's first gRPC call, and to each call
// after it (TlsClientVerifier::Process).
//   bazel run -c opt //router:tls_client_verifier_benchmark
#include <stdlib.h>

#include <atomic>
#include <memory>
#include <string>

#include "benchmark/benchmark.h"
#include "glog/logging.h"
#include "router/tls_client_verifier.h"
#include "tools/testing/peer_process.h"
#include "tools/testing/test_certificates.h"

namespace metlog {
namespace {

using testing::ReadFile;
using testing::TempPath;

// Makes a CA, an intermediate CA and two clients in a fresh directory (so
// runs on a shared machine do not meet in /tmp), and a verifier of that CA.
class Certificates {
 public:
  Certificates() {
    char directory[] = "/tmp/tls_client_verifier_benchmark.XXXXXX";
    CHECK(mkdtemp(directory) != nullptr);
    setenv("TEST_TMPDIR", directory, /*overwrite=*/1);
    for (const absl::Status& made : {
             testing::MakeCertificate("ca", "", testing::kCaExtensions),
             testing::MakeCertificate("client", "ca",
                                      testing::kClientExtensions),
             testing::MakeCertificate("intermediate", "ca",
                                      "basicConstraints = critical, CA:TRUE\n"
                                      "keyUsage = critical, keyCertSign"),
             testing::MakeCertificate("grandchild", "intermediate",
                                      testing::kClientExtensions),
         }) {
      CHECK(made.ok()) << made;
    }
    verifier = *TlsClientVerifier::Create(
        "benchmark", "ca", ReadFile(TempPath("ca.pem")),
        /*require_certificate=*/true,
        std::make_shared<std::atomic<uint64_t>>(0));
  }

  std::shared_ptr<TlsClientVerifier> verifier;
};

const Certificates& Made() {
  static const Certificates* certificates = new Certificates();
  return *certificates;
}

// A connection's first call: a verifier that has not seen the chain
// (made anew each time, which costs little beside the verification).
void BM_FirstVerification(benchmark::State& state, const char* client,
                          const char* intermediate) {
  Made();
  const std::string ca = ReadFile(TempPath("ca.pem"));
  const std::string leaf = ReadFile(TempPath(client));
  const std::string chain =
      *intermediate == 0 ? "" : ReadFile(TempPath(intermediate));
  const auto refused = std::make_shared<std::atomic<uint64_t>>(0);
  for (auto _ : state) {
    auto verifier =
        TlsClientVerifier::Create("benchmark", "ca", ca,
                                  /*require_certificate=*/true, refused);
    CHECK((*verifier)->Verify(leaf, chain).ok());
  }
}
BENCHMARK_CAPTURE(BM_FirstVerification, direct, "client.pem", "")
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_FirstVerification, through_intermediate, "grandchild.pem",
                  "intermediate.pem")
    ->Unit(benchmark::kMicrosecond);

// The calls after it: the chain is remembered.
void BM_VerifyAgain(benchmark::State& state) {
  const Certificates& made = Made();
  const std::string client = ReadFile(TempPath("client.pem"));
  for (auto _ : state) {
    CHECK(made.verifier->Verify(client, "").ok());
  }
}
BENCHMARK(BM_VerifyAgain)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace metlog
