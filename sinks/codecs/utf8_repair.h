// The one rule for strings that must be UTF-8 (JSON lines, Sentry events):
// each byte that does not start a well-formed sequence (RFC 3629: no overlong
// forms, no surrogates, nothing past U+10FFFF) becomes U+FFFD, and the rest
// is kept as it is.
#ifndef METLOG_SINKS_CODECS_UTF8_REPAIR_H_
#define METLOG_SINKS_CODECS_UTF8_REPAIR_H_

#include <string>

#include "absl/strings/string_view.h"

namespace metlog {

// Appends `text` to `out` under that rule; true when a byte was replaced.
bool AppendRepairedUtf8(absl::string_view text, std::string* out);

}  // namespace metlog

#endif  // METLOG_SINKS_CODECS_UTF8_REPAIR_H_
