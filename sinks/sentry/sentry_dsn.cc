#include "sinks/sentry/sentry_dsn.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace metlog {

std::string SentryDsn::EnvelopeUrl() const {
  return absl::StrCat(scheme, "://", host_port, path_prefix, "/api/",
                      project_id, "/envelope/");
}

std::string SentryDsn::AuthHeader() const {
  return absl::StrCat("Sentry sentry_version=7, sentry_key=", public_key,
                      ", sentry_client=metlog-router/1.0");
}

absl::StatusOr<SentryDsn> ParseSentryDsn(absl::string_view dsn) {
  const auto invalid = [dsn](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "sentry: dsn \"", dsn, "\" ", why,
        " (expected https://KEY@host[:port][/prefix]/PROJECT_ID)"));
  };
  SentryDsn parsed;
  absl::string_view rest = dsn;
  const size_t scheme_end = rest.find("://");
  if (scheme_end == absl::string_view::npos) return invalid("has no scheme");
  parsed.scheme = absl::AsciiStrToLower(rest.substr(0, scheme_end));
  if (parsed.scheme != "https" && parsed.scheme != "http") {
    return invalid("is neither https nor http");
  }
  rest.remove_prefix(scheme_end + 3);
  const size_t at = rest.find('@');
  const size_t slash = rest.find('/');
  if (at == absl::string_view::npos || at > slash) {
    return invalid("has no KEY@");
  }
  // KEY:SECRET is an old form; only the public key is sent.
  parsed.public_key = std::string(rest.substr(0, std::min(at, rest.find(':'))));
  if (parsed.public_key.empty()) return invalid("has an empty key");
  rest.remove_prefix(at + 1);
  const size_t path_start = rest.find('/');
  if (path_start == absl::string_view::npos) {
    return invalid("has no project id");
  }
  parsed.host_port = std::string(rest.substr(0, path_start));
  if (parsed.host_port.empty()) return invalid("has no host");
  absl::string_view path = rest.substr(path_start);
  if (absl::EndsWith(path, "/")) path.remove_suffix(1);
  const size_t last_slash = path.rfind('/');
  parsed.path_prefix = std::string(path.substr(0, last_slash));
  parsed.project_id = std::string(path.substr(last_slash + 1));
  if (parsed.project_id.empty() ||
      !std::all_of(parsed.project_id.begin(), parsed.project_id.end(),
                   absl::ascii_isdigit)) {
    return invalid("does not end in a numeric project id");
  }
  return parsed;
}

}  // namespace metlog
