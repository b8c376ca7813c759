// The credentials the router's gRPC servers (Admin, and Publish inputs with
// a port of their own) listen with: TLS from a TlsServerConfig, with
// optional client certificates, or plaintext without it. Client
// certificates are verified on each call by a TlsClientVerifier (see
// tls_client_verifier.h), which counts the calls it refuses.
#ifndef METLOG_ROUTER_GRPC_TLS_H_
#define METLOG_ROUTER_GRPC_TLS_H_

#include <atomic>
#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/security/server_credentials.h"
#include "proto/config.pb.h"
#include "proto/security.pb.h"

namespace metlog {

// Reads and checks the files `tls` names (PEM that parses, a key that
// matches the certificate, a CA file where client certificates are
// required); InvalidArgument naming `what`, the option and the file that is
// wrong. Without `tls` (null), insecure (plaintext) credentials. With
// client_ca_file, each call refused for want of a valid client certificate
// (UNAUTHENTICATED) adds 1 to `*refused`.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFor(
    const v1::TlsServerConfig* tls_or_null, absl::string_view what,
    std::shared_ptr<std::atomic<uint64_t>> refused);

// What ServerCredentialsFor would refuse, for checking a config.
absl::Status CheckServerTls(const v1::TlsServerConfig* tls_or_null,
                            absl::string_view what);

// ServerCredentialsFor(admin.tls): the admin server's credentials.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> AdminServerCredentials(
    const v1::AdminConfig& admin,
    std::shared_ptr<std::atomic<uint64_t>> refused);

}  // namespace metlog

#endif  // METLOG_ROUTER_GRPC_TLS_H_
