#include "router/key_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"

namespace metlog {

absl::StatusOr<std::string> ReadKeyFile(absl::string_view what,
                                        const std::string& path) {
  if (path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not set"));
  }
  auto error = [&](absl::string_view problem) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": cannot read \"", path, "\": ", problem));
  };
  // Non-blocking, so that a FIFO or a terminal named by mistake (or by a
  // fuzzed config) cannot hold --check; it is refused below.
  const int fd = open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return error(std::strerror(errno));
  absl::Cleanup close_fd = [fd] { close(fd); };
  struct stat info;
  if (fstat(fd, &info) != 0) return error(std::strerror(errno));
  if (!S_ISREG(info.st_mode)) return error("not a regular file");
  if (info.st_size > static_cast<off_t>(kMaxKeyFileBytes)) {
    return error(absl::StrCat("larger than ", kMaxKeyFileBytes,
                              " bytes; not a key file"));
  }
  std::string contents(static_cast<size_t>(info.st_size), '\0');
  size_t filled = 0;
  while (filled < contents.size()) {
    const ssize_t n = read(fd, &contents[filled], contents.size() - filled);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return error(std::strerror(errno));
    if (n == 0) break;  // shrank while being read
    filled += static_cast<size_t>(n);
  }
  contents.resize(filled);
  if (contents.empty()) return error("empty");
  return contents;
}

}  // namespace metlog
