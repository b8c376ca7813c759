#include "client/endpoint.h"

#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <algorithm>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "client/net/socket_address.h"

namespace metlog {
namespace {

absl::Status Invalid(absl::string_view endpoint, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("endpoint \"", endpoint, "\": ", why));
}

bool LooksLikeIpv4(absl::string_view host) {
  for (char c : host) {
    if (!absl::ascii_isdigit(c) && c != '.') return false;
  }
  return true;
}

absl::Status CheckTcp(absl::string_view endpoint, absl::string_view address) {
  // "SOURCE;DESTINATION" binds a source address first; check where it goes.
  if (const size_t semicolon = address.rfind(';');
      semicolon != absl::string_view::npos) {
    address = address.substr(semicolon + 1);
  }
  const size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos) {
    return Invalid(endpoint, "expected tcp://HOST:PORT");
  }
  const absl::string_view host = address.substr(0, colon);
  const absl::string_view port_text = address.substr(colon + 1);
  uint32_t port = 0;
  const bool digits_only =
      !port_text.empty() && port_text.size() <= 5 &&
      std::all_of(port_text.begin(), port_text.end(),
                  [](char c) { return absl::ascii_isdigit(c); });
  if (!digits_only || !absl::SimpleAtoi(port_text, &port) || port == 0 ||
      port > 65535) {
    return Invalid(endpoint, "the port must be a number from 1 to 65535");
  }
  if (host.empty() || host == "*") {
    return Invalid(endpoint, "a client needs a host to connect to");
  }
  if (host.front() == '[') {
    in6_addr ipv6;
    const std::string literal(host.substr(1, host.size() - 2));
    if (host.back() != ']' ||
        inet_pton(AF_INET6, literal.c_str(), &ipv6) != 1) {
      return Invalid(endpoint, "not an IPv6 address");
    }
    return absl::OkStatus();
  }
  if (LooksLikeIpv4(host)) {
    in_addr ipv4;
    if (inet_pton(AF_INET, std::string(host).c_str(), &ipv4) != 1) {
      return Invalid(endpoint, "not an IPv4 address");
    }
    return absl::OkStatus();
  }
  absl::StatusOr<SocketAddress> resolved =
      ResolveHostPort(absl::StrCat(host, ":", port), SOCK_STREAM);
  if (!resolved.ok()) return resolved.status();
  return absl::OkStatus();
}

absl::Status CheckIpc(absl::string_view endpoint, absl::string_view path) {
  if (path.empty()) return Invalid(endpoint, "no path");
  if (path.front() == '@') return absl::OkStatus();  // abstract namespace
  if (path.size() >= sizeof(sockaddr_un::sun_path)) {
    return Invalid(endpoint, "the path is too long for a Unix socket");
  }
  const size_t slash = path.rfind('/');
  const std::string directory =
      slash == absl::string_view::npos
          ? "."
          : std::string(slash == 0 ? "/" : path.substr(0, slash));
  struct stat info;
  if (stat(directory.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    return Invalid(endpoint, absl::StrCat("no directory ", directory));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckConnectEndpoint(absl::string_view endpoint) {
  if (absl::ConsumePrefix(&endpoint, "tcp://")) {
    return CheckTcp(absl::StrCat("tcp://", endpoint), endpoint);
  }
  if (absl::ConsumePrefix(&endpoint, "ipc://")) {
    return CheckIpc(absl::StrCat("ipc://", endpoint), endpoint);
  }
  if (absl::ConsumePrefix(&endpoint, "inproc://")) {
    if (endpoint.empty()) return Invalid("inproc://", "no name");
    return absl::OkStatus();
  }
  return Invalid(endpoint,
                 "a client connects with tcp://, ipc:// or inproc://");
}

bool IsIpv6Endpoint(absl::string_view endpoint) {
  return absl::StartsWith(endpoint, "tcp://") &&
         endpoint.find('[') != absl::string_view::npos;
}

}  // namespace metlog
