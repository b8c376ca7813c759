// Reads the small secret and certificate files the security options name.
#ifndef METLOG_ROUTER_KEY_FILE_H_
#define METLOG_ROUTER_KEY_FILE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace metlog {

// Key and certificate files are far below this; a larger one is a wrong path.
inline constexpr size_t kMaxKeyFileBytes = 1 << 20;

// The whole file, or InvalidArgument naming `what` (e.g. "curve
// secret_key_file") and the path: missing, unreadable, not a regular file,
// empty or larger than kMaxKeyFileBytes.
absl::StatusOr<std::string> ReadKeyFile(absl::string_view what,
                                        const std::string& path);

}  // namespace metlog

#endif  // METLOG_ROUTER_KEY_FILE_H_
