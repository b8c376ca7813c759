#include "tools/testing/test_certificates.h"

#include <cstdlib>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "tools/testing/peer_process.h"

namespace metlog {
namespace testing {
namespace {

constexpr char kOpenssl[] = "/usr/bin/openssl";

absl::Status Run(const std::string& command) {
  const std::string log = TempPath("openssl.log");
  if (std::system(absl::StrCat(command, " 2>> ", log).c_str()) != 0) {
    return absl::InternalError(
        absl::StrCat(command, " failed:\n", ReadFile(log)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status MakeCertificate(const std::string& name, const std::string& ca,
                             const std::string& extensions, int days) {
  const std::string key = TempPath(name + ".key");
  const std::string pem = TempPath(name + ".pem");
  if (absl::Status status = Run(absl::StrCat(
          kOpenssl, " genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256",
          " -out ", key));
      !status.ok()) {
    return status;
  }
  const std::string ext_file = TempPath(name + ".ext");
  std::ofstream(ext_file) << extensions << "\n";
  if (ca.empty()) {
    return Run(absl::StrCat(kOpenssl, " req -x509 -new -key ", key, " -out ",
                            pem, " -days ", days, " -subj /CN=", name,
                            " -extensions ext -config ", ext_file));
  }
  const std::string csr = TempPath(name + ".csr");
  if (absl::Status status =
          Run(absl::StrCat(kOpenssl, " req -new -key ", key, " -out ", csr,
                           " -subj /CN=", name));
      !status.ok()) {
    return status;
  }
  return Run(absl::StrCat(kOpenssl, " x509 -req -in ", csr, " -CA ",
                          TempPath(ca), ".pem -CAkey ", TempPath(ca),
                          ".key -CAcreateserial -out ", pem, " -days ", days,
                          " -extfile ", ext_file));
}

}  // namespace testing
}  // namespace metlog
