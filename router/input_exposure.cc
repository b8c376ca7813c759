#include "router/input_exposure.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "router/input_registry.h"

namespace metlog {
namespace {

// The host of "host:port", "[v6]:port" or "tcp://host:port".
absl::string_view HostOf(absl::string_view address) {
  if (const size_t scheme = address.find("://");
      scheme != absl::string_view::npos) {
    address.remove_prefix(scheme + 3);
  }
  if (absl::StartsWith(address, "[")) {
    return address.substr(1, address.find(']') - 1);
  }
  return address.substr(0, address.rfind(':'));
}

bool IsLoopback(absl::string_view host) {
  return absl::StartsWith(host, "127.") || host == "::1" || host == "localhost";
}

}  // namespace

std::vector<std::string> ExposedInputWarnings(const v1::RouterConfig& config) {
  std::vector<std::string> warnings;
  for (const v1::InputConfig& input : config.inputs()) {
    // Inputs that do not check are refused at load; nothing to warn about.
    const absl::StatusOr<InputReach> reach =
        InputRegistry::Global().Reach(input);
    if (!reach.ok() || reach->address.empty() || !reach->listens ||
        IsLoopback(HostOf(reach->address)) ||
        (reach->signable && input.require_signature()) ||
        reach->authenticated) {
      continue;
    }
    warnings.push_back(absl::StrCat(
        "input \"", InputRegistry::Global().NameOf(input), "\" listens on ",
        reach->address, ", beyond loopback, and anyone who reaches it may send",
        reach->can_authenticate
            ? " (set curve to allow listed clients only, or "
              "require_signature to refuse unsigned packets)"
        : reach->signable
            ? " (set require_signature to refuse unsigned packets)"
            : ""));
  }
  const v1::AdminConfig& admin = config.admin();
  const std::string& listen = admin.listen_address();
  if (!listen.empty() && !IsLoopback(HostOf(listen)) &&
      !admin.tls().require_client_cert()) {
    warnings.push_back(absl::StrCat(
        "admin listens on ", listen,
        ", beyond loopback, and anyone who reaches it may Publish, Reload "
        "and Tail (set admin.tls with require_client_cert to allow only "
        "clients with a certificate from client_ca_file)"));
  }
  return warnings;
}

}  // namespace metlog
