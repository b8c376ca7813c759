// Certificates and keys for TLS tests, made with Debian's openssl command in
// the test's temporary directory.
#ifndef METLOG_TOOLS_TESTING_TEST_CERTIFICATES_H_
#define METLOG_TOOLS_TESTING_TEST_CERTIFICATES_H_

#include <string>

#include "absl/status/status.h"

namespace metlog {
namespace testing {

// Extensions (openssl x509 -extfile syntax) for MakeCertificate.
inline constexpr char kCaExtensions[] =
    "[req]\ndistinguished_name = dn\n[dn]\n[ext]\n"
    "basicConstraints = critical, CA:TRUE\n"
    "keyUsage = critical, keyCertSign, cRLSign";
inline constexpr char kClientExtensions[] = "extendedKeyUsage = clientAuth";

// Makes TempPath(`name`.pem) and TempPath(`name`.key): a P-256 key and a
// certificate for it with common name `name`, signed by the CA made as
// `ca` (or self-signed as a CA, with kCaExtensions, when `ca` is empty),
// with `extensions`, valid from now for `days` (-1: it expired yesterday).
// Internal with openssl's messages when a command fails.
absl::Status MakeCertificate(const std::string& name, const std::string& ca,
                             const std::string& extensions, int days = 2);

}  // namespace testing
}  // namespace metlog

#endif  // METLOG_TOOLS_TESTING_TEST_CERTIFICATES_H_
