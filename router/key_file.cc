#include "router/key_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "absl/strings/str_cat.h"

namespace metlog {

absl::StatusOr<std::string> ReadKeyFile(absl::string_view what,
                                        const std::string& path) {
  if (path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not set"));
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": cannot read \"", path, "\": ", std::strerror(errno)));
  }
  std::string contents;
  char buffer[4096];
  while (file.read(buffer, sizeof(buffer)) || file.gcount() > 0) {
    contents.append(buffer, file.gcount());
    if (contents.size() > kMaxKeyFileBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": \"", path, "\" is larger than ",
                       kMaxKeyFileBytes, " bytes; not a key file"));
    }
  }
  if (contents.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": \"", path, "\" is empty"));
  }
  return contents;
}

}  // namespace metlog
