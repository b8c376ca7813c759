// The credentials the router's gRPC server (Admin and Publish) listens
// with: TLS from AdminConfig.tls, with optional client certificates, or
// plaintext without it.
#ifndef METLOG_ROUTER_GRPC_TLS_H_
#define METLOG_ROUTER_GRPC_TLS_H_

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
// wrong. Without `tls` (null), insecure (plaintext) credentials.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFor(
    const v1::TlsServerConfig* tls_or_null, absl::string_view what);

// ServerCredentialsFor(admin.tls): the admin server's credentials.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> AdminServerCredentials(
    const v1::AdminConfig& admin);

}  // namespace metlog

#endif  // METLOG_ROUTER_GRPC_TLS_H_
