#include "router/grpc_tls.h"

#include <string>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/security/server_credentials.h"
#include "openssl/bio.h"
#include "openssl/err.h"
#include "openssl/pem.h"
#include "openssl/x509.h"
#include "router/key_file.h"
#include "router/tls_client_verifier.h"

namespace metlog {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* x509) const { X509_free(x509); }
};
struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};

// OpenSSL's default for an encrypted key is to ask for a pass phrase on the
// terminal, which would block start-up and --check; refusing makes it fail.
int NoPassphrase(char*, int, int, void*) { return 0; }

std::unique_ptr<BIO, BioFree> MemoryBio(const std::string& pem) {
  return std::unique_ptr<BIO, BioFree>(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

// gRPC reads the PEM only at the first handshake, and then fails every
// handshake; checking here makes a wrong file a start-up (and --check) error.
absl::Status CheckCertificateAndKey(absl::string_view what,
                                    const v1::TlsServerConfig& tls,
                                    const std::string& cert_pem,
                                    const std::string& key_pem) {
  // OpenSSL queues errors per thread; gRPC's handshakes must not find ours.
  absl::Cleanup clear_errors = [] { ERR_clear_error(); };
  std::unique_ptr<X509, X509Free> cert(PEM_read_bio_X509(
      MemoryBio(cert_pem).get(), nullptr, NoPassphrase, nullptr));
  if (cert == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": cert_file \"", tls.cert_file(),
                     "\" holds no PEM certificate"));
  }
  std::unique_ptr<EVP_PKEY, KeyFree> key(PEM_read_bio_PrivateKey(
      MemoryBio(key_pem).get(), nullptr, NoPassphrase, nullptr));
  if (key == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": key_file \"", tls.key_file(),
                     "\" holds no unencrypted PEM private key"));
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": key_file \"", tls.key_file(),
        "\" is not the key of cert_file \"", tls.cert_file(), "\""));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFor(
    const v1::TlsServerConfig* tls_or_null, absl::string_view what,
    std::shared_ptr<std::atomic<uint64_t>> refused) {
  if (tls_or_null == nullptr) return grpc::InsecureServerCredentials();
  const v1::TlsServerConfig& tls = *tls_or_null;
  absl::StatusOr<std::string> cert =
      ReadKeyFile(absl::StrCat(what, ": cert_file"), tls.cert_file());
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key =
      ReadKeyFile(absl::StrCat(what, ": key_file"), tls.key_file());
  if (!key.ok()) return key.status();
  if (absl::Status status = CheckCertificateAndKey(what, tls, *cert, *key);
      !status.ok()) {
    return status;
  }
  grpc::SslServerCredentialsOptions options(
      GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  options.pem_key_cert_pairs.push_back({*std::move(key), *std::move(cert)});
  if (tls.require_client_cert() && !tls.has_client_ca_file()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what,
                     ": require_client_cert needs client_ca_file, the CA that "
                     "client certificates must chain to"));
  }
  if (!tls.has_client_ca_file()) return grpc::SslServerCredentials(options);
  absl::StatusOr<std::string> ca =
      ReadKeyFile(absl::StrCat(what, ": client_ca_file"), tls.client_ca_file());
  if (!ca.ok()) return ca.status();
  absl::StatusOr<std::shared_ptr<TlsClientVerifier>> verifier =
      TlsClientVerifier::Create(
          std::string(what),
          absl::StrCat(what, ": client_ca_file \"", tls.client_ca_file(), "\""),
          *ca, tls.require_client_cert(), std::move(refused));
  if (!verifier.ok()) return verifier.status();
  // The handshake only asks for the certificate (and names the CAs to the
  // client); the verifier refuses and counts, which a failed handshake
  // could not (gRPC has no hook for it).
  options.pem_root_certs = *std::move(ca);
  options.client_certificate_request =
      GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_BUT_DONT_VERIFY;
  std::shared_ptr<grpc::ServerCredentials> credentials =
      grpc::SslServerCredentials(options);
  credentials->SetAuthMetadataProcessor(*std::move(verifier));
  return credentials;
}

absl::Status CheckServerTls(const v1::TlsServerConfig* tls_or_null,
                            absl::string_view what) {
  return ServerCredentialsFor(tls_or_null, what,
                              std::make_shared<std::atomic<uint64_t>>(0))
      .status();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> AdminServerCredentials(
    const v1::AdminConfig& admin,
    std::shared_ptr<std::atomic<uint64_t>> refused) {
  return ServerCredentialsFor(admin.has_tls() ? &admin.tls() : nullptr,
                              "admin tls", std::move(refused));
}

}  // namespace metlog
