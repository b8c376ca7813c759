// Refuses, and counts, the gRPC calls of TLS clients without a valid
// certificate. gRPC 1.51 has no hook for a failed handshake, so a server
// that verified client certificates in the handshake could refuse them but
// not count them. Instead the server asks for the client's certificate
// without verifying it (TLS still proves that the client holds the key of
// the certificate it presents), and this processor checks it against the
// client CAs on every call, before the call reaches any handler: a refused
// call ends UNAUTHENTICATED and delivers nothing. (A chain that verified is
// remembered, so the check costs a full verification once per connection.)
#ifndef METLOG_ROUTER_TLS_CLIENT_VERIFIER_H_
#define METLOG_ROUTER_TLS_CLIENT_VERIFIER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/security/auth_metadata_processor.h"
#include "openssl/x509.h"

namespace metlog {

class TlsClientVerifier : public grpc::AuthMetadataProcessor {
 public:
  // Trusts the PEM certificates in `ca_pem` (InvalidArgument naming `what`
  // when it holds none). With `require_certificate`, a call without a
  // client certificate is refused too. Each refused call adds 1 to
  // `*refused` and is logged (at most once a second) naming `server`.
  static absl::StatusOr<std::shared_ptr<TlsClientVerifier>> Create(
      std::string server, absl::string_view what, const std::string& ca_pem,
      bool require_certificate, std::shared_ptr<std::atomic<uint64_t>> refused);

  ~TlsClientVerifier() override;

  // Verification is CPU work without I/O: it runs on the call's thread.
  bool IsBlocking() const override { return false; }

  // OK, or UNAUTHENTICATED saying why, for the connection's certificate.
  grpc::Status Process(const InputMetadata& auth_metadata,
                       grpc::AuthContext* context,
                       OutputMetadata* consumed_auth_metadata,
                       OutputMetadata* response_metadata) override;

  // Whether `certificate_pem` (the leaf) verifies, for a TLS client, against
  // the trusted CAs, with the PEM certificates in `intermediates_pem` as
  // untrusted intermediates: OK, or Unauthenticated saying why. A chain
  // that verified is remembered until the first of its certificates
  // expires, so the calls of a connection after its first cost a lookup
  // instead of a verification (a few hundred us of CPU; see
  // tls_client_verifier_benchmark).
  absl::Status Verify(absl::string_view certificate_pem,
                      absl::string_view intermediates_pem) const;

 private:
  // Chains remembered at most; past that the memory starts over.
  static constexpr size_t kMaxVerified = 1024;

  // Verify without the memory; on OK, *valid_until is when the first
  // certificate of the verified chain expires.
  absl::Status VerifyUncached(absl::string_view certificate_pem,
                              absl::string_view intermediates_pem,
                              absl::Time now, absl::Time* valid_until) const;

  TlsClientVerifier(std::string server, X509_STORE* trusted,
                    bool require_certificate,
                    std::shared_ptr<std::atomic<uint64_t>> refused);

  const std::string server_;
  // Thread-safe for verification once filled.
  X509_STORE* const trusted_;
  const bool require_certificate_;
  const std::shared_ptr<std::atomic<uint64_t>> refused_;
  mutable absl::Mutex verified_mu_;
  // Verified chains (SHA-256 of the leaf and intermediates PEM) and until
  // when.
  mutable absl::flat_hash_map<std::string, absl::Time> verified_until_
      ABSL_GUARDED_BY(verified_mu_);
};

}  // namespace metlog

#endif  // METLOG_ROUTER_TLS_CLIENT_VERIFIER_H_
