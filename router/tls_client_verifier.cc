#include "router/tls_client_verifier.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "grpc/grpc_security_constants.h"
#include "openssl/bio.h"
#include "openssl/err.h"
#include "openssl/evp.h"
#include "openssl/pem.h"
#include "openssl/x509v3.h"

namespace metlog {
namespace {

struct X509Free {
  void operator()(X509* x509) const { X509_free(x509); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

struct StackFree {
  void operator()(STACK_OF(X509) * stack) const { sk_X509_free(stack); }
};

struct StoreContextFree {
  void operator()(X509_STORE_CTX* context) const {
    X509_STORE_CTX_free(context);
  }
};

// Every PEM certificate in `pem`, in order; none when it holds none.
std::vector<X509Ptr> ReadCertificates(absl::string_view pem) {
  std::vector<X509Ptr> certificates;
  if (pem.empty()) return certificates;
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return certificates;
  while (X509* certificate =
             PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    certificates.emplace_back(certificate);
  }
  BIO_free(bio);
  // The loop ends on an error (no more PEM) that is no one's concern.
  ERR_clear_error();
  return certificates;
}

// SHA-256 of the chain's PEM, to remember it by in little memory (a peer's
// chain may be up to OpenSSL's 100 KiB); empty when OpenSSL fails, which
// only costs a verification.
std::string ChainDigest(absl::string_view certificate_pem,
                        absl::string_view intermediates_pem) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(
      EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (context == nullptr ||
      EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(context.get(), certificate_pem.data(),
                       certificate_pem.size()) != 1 ||
      EVP_DigestUpdate(context.get(), "\0", 1) != 1 ||
      EVP_DigestUpdate(context.get(), intermediates_pem.data(),
                       intermediates_pem.size()) != 1 ||
      EVP_DigestFinal_ex(context.get(), digest, &size) != 1) {
    ERR_clear_error();
    return std::string();
  }
  return std::string(reinterpret_cast<const char*>(digest), size);
}

}  // namespace

absl::StatusOr<std::shared_ptr<TlsClientVerifier>> TlsClientVerifier::Create(
    std::string server, absl::string_view what, const std::string& ca_pem,
    bool require_certificate, std::shared_ptr<std::atomic<uint64_t>> refused) {
  std::vector<X509Ptr> authorities = ReadCertificates(ca_pem);
  if (authorities.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " holds no PEM certificate"));
  }
  X509_STORE* trusted = X509_STORE_new();
  if (trusted == nullptr) {
    return absl::ResourceExhaustedError("cannot allocate an X509_STORE");
  }
  for (const X509Ptr& authority : authorities) {
    // The store takes its own reference.
    if (X509_STORE_add_cert(trusted, authority.get()) != 1) {
      ERR_clear_error();
      X509_STORE_free(trusted);
      return absl::InvalidArgumentError(
          absl::StrCat(what, " holds a certificate OpenSSL cannot trust"));
    }
  }
  return std::shared_ptr<TlsClientVerifier>(new TlsClientVerifier(
      std::move(server), trusted, require_certificate, std::move(refused)));
}

TlsClientVerifier::TlsClientVerifier(
    std::string server, X509_STORE* trusted, bool require_certificate,
    std::shared_ptr<std::atomic<uint64_t>> refused)
    : server_(std::move(server)),
      trusted_(trusted),
      require_certificate_(require_certificate),
      refused_(std::move(refused)) {}

TlsClientVerifier::~TlsClientVerifier() { X509_STORE_free(trusted_); }

absl::Status TlsClientVerifier::Verify(
    absl::string_view certificate_pem,
    absl::string_view intermediates_pem) const {
  const std::string key = ChainDigest(certificate_pem, intermediates_pem);
  const absl::Time now = absl::Now();
  {
    absl::MutexLock lock(&verified_mu_);
    if (auto found = verified_until_.find(key);
        found != verified_until_.end() && now < found->second) {
      return absl::OkStatus();
    }
  }
  absl::Time valid_until;
  absl::Status verified =
      VerifyUncached(certificate_pem, intermediates_pem, now, &valid_until);
  if (verified.ok() && !key.empty()) {
    absl::MutexLock lock(&verified_mu_);
    if (verified_until_.size() >= kMaxVerified) verified_until_.clear();
    verified_until_[key] = valid_until;
  }
  return verified;
}

absl::Status TlsClientVerifier::VerifyUncached(
    absl::string_view certificate_pem, absl::string_view intermediates_pem,
    absl::Time now, absl::Time* valid_until) const {
  // OpenSSL queues errors per thread; gRPC's handshakes on this thread
  // must not find ours.
  absl::Cleanup clear_errors = [] { ERR_clear_error(); };
  std::vector<X509Ptr> leaf = ReadCertificates(certificate_pem);
  if (leaf.empty()) {
    return absl::UnauthenticatedError(
        "TLS client certificate refused: not a PEM certificate");
  }
  std::vector<X509Ptr> intermediates = ReadCertificates(intermediates_pem);
  std::unique_ptr<STACK_OF(X509), StackFree> untrusted(sk_X509_new_null());
  std::unique_ptr<X509_STORE_CTX, StoreContextFree> context(
      X509_STORE_CTX_new());
  if (untrusted == nullptr || context == nullptr) {
    return absl::UnauthenticatedError(
        "TLS client certificate refused: out of memory");
  }
  for (const X509Ptr& intermediate : intermediates) {
    // The stack borrows; `intermediates` owns.
    sk_X509_push(untrusted.get(), intermediate.get());
  }
  if (X509_STORE_CTX_init(context.get(), trusted_, leaf.front().get(),
                          untrusted.get()) != 1 ||
      X509_STORE_CTX_set_purpose(context.get(), X509_PURPOSE_SSL_CLIENT) != 1) {
    return absl::UnauthenticatedError(
        "TLS client certificate refused: cannot set up its verification");
  }
  if (X509_verify_cert(context.get()) != 1) {
    return absl::UnauthenticatedError(
        absl::StrCat("TLS client certificate refused: ",
                     X509_verify_cert_error_string(
                         X509_STORE_CTX_get_error(context.get()))));
  }
  *valid_until = absl::InfiniteFuture();
  STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(context.get());
  for (int i = 0; i < sk_X509_num(chain); ++i) {
    int days = 0, seconds = 0;
    if (ASN1_TIME_diff(&days, &seconds, nullptr,
                       X509_get0_notAfter(sk_X509_value(chain, i))) != 1) {
      // Unreadable, yet X509_verify_cert read it: do not keep the result.
      *valid_until = now;
      break;
    }
    *valid_until = std::min(
        *valid_until, now + absl::Hours(24) * days + absl::Seconds(seconds));
  }
  return absl::OkStatus();
}

grpc::Status TlsClientVerifier::Process(const InputMetadata&,
                                        grpc::AuthContext* context,
                                        OutputMetadata*, OutputMetadata*) {
  const std::vector<grpc::string_ref> certificate =
      context->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
  absl::Status verified = absl::OkStatus();
  if (certificate.empty()) {
    if (!require_certificate_) return grpc::Status::OK;
    verified = absl::UnauthenticatedError(
        "TLS client certificate required: none presented");
  } else {
    std::string intermediates;
    for (const grpc::string_ref& pem :
         context->FindPropertyValues(GRPC_X509_PEM_CERT_CHAIN_PROPERTY_NAME)) {
      intermediates.append(pem.data(), pem.size());
    }
    verified = Verify(absl::string_view(certificate.front().data(),
                                        certificate.front().size()),
                      intermediates);
    if (verified.ok()) return grpc::Status::OK;
  }
  refused_->fetch_add(1, std::memory_order_relaxed);
  const std::vector<grpc::string_ref> subject =
      context->FindPropertyValues(GRPC_X509_SUBJECT_PROPERTY_NAME);
  LOG_EVERY_T(WARNING, 1) << server_ << ": refused a call from TLS client "
                          << (subject.empty()
                                  ? std::string("without certificate")
                                  : std::string(subject.front().data(),
                                                subject.front().size()))
                          << ": " << verified.message();
  return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                      std::string(verified.message()));
}

}  // namespace metlog
