#include "client/net/host_port.h"

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace metlog {

absl::Status CheckHostPort(absl::string_view option, absl::string_view value,
                           PortZero port_zero) {
  const size_t colon = value.rfind(':');
  if (colon == absl::string_view::npos || colon == 0 ||
      colon + 1 == value.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(option, " \"", value, "\" is not host:port"));
  }
  const absl::string_view port_text = value.substr(colon + 1);
  uint64_t port = 0;
  for (char c : port_text) {
    if (!absl::ascii_isdigit(c)) {
      return absl::InvalidArgumentError(absl::StrCat(option, " \"", value,
                                                     "\": port \"", port_text,
                                                     "\" is not a number"));
    }
  }
  const uint64_t lowest = port_zero == PortZero::kAllowed ? 0 : 1;
  if (!absl::SimpleAtoi(port_text, &port) || port < lowest || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat(option, " \"", value, "\": port ", port_text,
                     " is not in ", lowest, "..65535"));
  }
  return absl::OkStatus();
}

}  // namespace metlog
