#include "router/input_exposure.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

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
    std::string address;
    bool binds = true;
    switch (input.kind_case()) {
      case v1::InputConfig::kZmq:
        address = input.zmq().endpoint();
        binds = input.zmq().bind();
        break;
      case v1::InputConfig::kUdp:
        address = input.udp().address();
        break;
      case v1::InputConfig::kStatsd:
        address = input.statsd().address();
        break;
      case v1::InputConfig::kMetlogJson:
        address = input.metlog_json().address();
        break;
      case v1::InputConfig::kHeka:
        address = input.heka().address();
        break;
      case v1::InputConfig::KIND_NOT_SET:
        continue;
    }
    // statsd and JSON lines carry no signature: require_signature cannot
    // protect them.
    const bool signable = input.kind_case() != v1::InputConfig::kStatsd &&
                          input.kind_case() != v1::InputConfig::kMetlogJson;
    const bool zmq = input.kind_case() == v1::InputConfig::kZmq;
    if (!binds || IsLoopback(HostOf(address)) ||
        (signable && input.require_signature()) ||
        (zmq && input.zmq().has_curve())) {
      continue;
    }
    warnings.push_back(absl::StrCat(
        "input \"", input.name(), "\" listens on ", address,
        ", beyond loopback, and anyone who reaches it may send",
        zmq        ? " (set curve to allow listed clients only, or "
                     "require_signature to refuse unsigned packets)"
        : signable ? " (set require_signature to refuse unsigned packets)"
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
