#include "client/endpoint.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
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

enum class Role { kConnect, kBind };

// Digits only: ZeroMQ reads "99999" modulo 65536 and "5565x" as 5565.
bool IsPortNumber(absl::string_view text, uint32_t lowest) {
  uint32_t port = 0;
  return !text.empty() && text.size() <= 5 &&
         std::all_of(text.begin(), text.end(),
                     [](char c) { return absl::ascii_isdigit(c); }) &&
         absl::SimpleAtoi(text, &port) && port >= lowest && port <= 65535;
}

// Binds a throwaway socket to `address` on a free port: ZeroMQ's bind fails
// when the address belongs to no interface of this host.
absl::Status CheckLocalAddress(absl::string_view endpoint,
                               absl::string_view host, const sockaddr* address,
                               socklen_t length) {
  const int fd = socket(address->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::OkStatus();  // start-up reports what this means
  const bool foreign = bind(fd, address, length) != 0 && errno == EADDRNOTAVAIL;
  close(fd);
  if (foreign) {
    return Invalid(endpoint,
                   absl::StrCat(host, " is not an address of this host"));
  }
  return absl::OkStatus();
}

absl::Status CheckTcp(absl::string_view endpoint, absl::string_view address,
                      Role role) {
  // "SOURCE;DESTINATION" binds a source address first; check where it goes.
  if (const size_t semicolon = address.rfind(';');
      semicolon != absl::string_view::npos) {
    if (role == Role::kBind) {
      return Invalid(endpoint, "only a connecting endpoint names a source");
    }
    address = address.substr(semicolon + 1);
  }
  const size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos) {
    return Invalid(endpoint, "expected tcp://HOST:PORT");
  }
  const absl::string_view host = address.substr(0, colon);
  const absl::string_view port_text = address.substr(colon + 1);
  if (role == Role::kConnect && !IsPortNumber(port_text, 1)) {
    return Invalid(endpoint, "the port must be a number from 1 to 65535");
  }
  if (role == Role::kBind && port_text != "*" && !IsPortNumber(port_text, 0)) {
    return Invalid(endpoint,
                   "the port must be * or a number from 0 to 65535 (* and 0 "
                   "listen on a free port)");
  }
  if (host.empty()) return Invalid(endpoint, "no host");
  if (host == "*") {
    if (role == Role::kBind) return absl::OkStatus();
    return Invalid(endpoint, "a client needs a host to connect to");
  }
  if (host.front() == '[') {
    sockaddr_in6 ipv6{};
    ipv6.sin6_family = AF_INET6;
    const std::string literal(host.substr(1, host.size() - 2));
    if (host.back() != ']' ||
        inet_pton(AF_INET6, literal.c_str(), &ipv6.sin6_addr) != 1) {
      return Invalid(endpoint, "not an IPv6 address");
    }
    if (role == Role::kConnect) return absl::OkStatus();
    return CheckLocalAddress(
        endpoint, host, reinterpret_cast<const sockaddr*>(&ipv6), sizeof(ipv6));
  }
  if (LooksLikeIpv4(host)) {
    sockaddr_in ipv4{};
    ipv4.sin_family = AF_INET;
    if (inet_pton(AF_INET, std::string(host).c_str(), &ipv4.sin_addr) != 1) {
      return Invalid(endpoint, "not an IPv4 address");
    }
    if (role == Role::kConnect) return absl::OkStatus();
    return CheckLocalAddress(
        endpoint, host, reinterpret_cast<const sockaddr*>(&ipv4), sizeof(ipv4));
  }
  if (role == Role::kBind) {
    if (if_nametoindex(std::string(host).c_str()) != 0) {
      return absl::OkStatus();
    }
    return Invalid(endpoint,
                   absl::StrCat(host,
                                " is neither an IP address nor a network "
                                "interface (ZeroMQ resolves no host name to "
                                "bind; use * or an address)"));
  }
  absl::StatusOr<SocketAddress> resolved =
      ResolveHostPort(absl::StrCat(host, ":", port_text), SOCK_STREAM);
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

absl::Status CheckEndpoint(absl::string_view endpoint, Role role) {
  if (absl::ConsumePrefix(&endpoint, "tcp://")) {
    return CheckTcp(absl::StrCat("tcp://", endpoint), endpoint, role);
  }
  if (absl::ConsumePrefix(&endpoint, "ipc://")) {
    return CheckIpc(absl::StrCat("ipc://", endpoint), endpoint);
  }
  if (absl::ConsumePrefix(&endpoint, "inproc://")) {
    if (endpoint.empty()) return Invalid("inproc://", "no name");
    return absl::OkStatus();
  }
  return Invalid(endpoint, role == Role::kConnect
                               ? "a client connects with tcp://, ipc:// or "
                                 "inproc://"
                               : "an input binds tcp://, ipc:// or inproc://");
}

}  // namespace

absl::Status CheckConnectEndpoint(absl::string_view endpoint) {
  return CheckEndpoint(endpoint, Role::kConnect);
}

absl::Status CheckBindEndpoint(absl::string_view endpoint) {
  return CheckEndpoint(endpoint, Role::kBind);
}

bool IsIpv6Endpoint(absl::string_view endpoint) {
  return absl::StartsWith(endpoint, "tcp://") &&
         endpoint.find('[') != absl::string_view::npos;
}

}  // namespace metlog
