// A Sentry DSN, https://KEY@host[:port][/prefix]/PROJECT_ID: where a
// project's events go and the key that authenticates them.
#ifndef METLOG_SINKS_SENTRY_SENTRY_DSN_H_
#define METLOG_SINKS_SENTRY_SENTRY_DSN_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace metlog {

struct SentryDsn {
  std::string scheme;       // "https" or "http"
  std::string public_key;   // the user part
  std::string host_port;    // "sentry.example.com" or "127.0.0.1:9000"
  std::string path_prefix;  // "" or "/prefix"
  std::string project_id;   // digits

  // scheme://host_port/prefix/api/PROJECT_ID/envelope/
  std::string EnvelopeUrl() const;
  // The X-Sentry-Auth header's value.
  std::string AuthHeader() const;
};

// InvalidArgument, naming what is wrong, for anything but the form above.
absl::StatusOr<SentryDsn> ParseSentryDsn(absl::string_view dsn);

}  // namespace metlog

#endif  // METLOG_SINKS_SENTRY_SENTRY_DSN_H_
