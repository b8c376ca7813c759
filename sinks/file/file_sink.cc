#include "sinks/file/file_sink.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>

#include "absl/strings/str_cat.h"

namespace metlog {
namespace {

// Each rotation renames every kept file; more than this is no log policy.
constexpr uint32_t kMaxKeepFiles = 1000;

absl::Status Errno(absl::string_view what, const std::string& path) {
  return ErrnoError(errno, absl::StrCat("file sink: ", what, " ", path));
}

sinks::EncodingOptions::Codec CodecOf(const sinks::FileOptions& options) {
  if (options.encoding().has_codec()) return options.encoding().codec();
  return options.format() == sinks::FileOptions::TEXT
             ? sinks::EncodingOptions::TEXT
             : sinks::EncodingOptions::JSON;
}

}  // namespace

FileSink::FileSink(const sinks::FileOptions& options)
    : options_(options),
      encoder_(MakeEncoder(CodecOf(options))),
      repaired_log_(absl::StrCat("file sink ", options.path())) {}

FileSink::~FileSink() { Close(); }

absl::Status FileSink::Start() {
  if (options_.path().empty()) {
    return absl::InvalidArgumentError("file sink: options.path is empty");
  }
  return Open();
}

absl::Status FileSink::Open() {
  fd_ = open(options_.path().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
             0644);
  if (fd_ < 0) return Errno("cannot open", options_.path());
  struct stat info {};
  size_ = fstat(fd_, &info) == 0 ? info.st_size : 0;
  return absl::OkStatus();
}

void FileSink::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

absl::Status FileSink::Rotate() {
  Close();
  const std::string& path = options_.path();
  const uint32_t keep = options_.keep_files();
  if (keep == 0) {
    unlink(path.c_str());
  } else {
    unlink(absl::StrCat(path, ".", keep).c_str());
    for (uint32_t i = keep - 1; i >= 1; --i) {
      rename(absl::StrCat(path, ".", i).c_str(),
             absl::StrCat(path, ".", i + 1).c_str());
    }
    if (rename(path.c_str(), absl::StrCat(path, ".1").c_str()) != 0 &&
        errno != ENOENT) {
      return Errno("cannot rotate", path);
    }
  }
  return Open();
}

// Local files take no deadline: a write to a disk does not wait on a peer.
absl::Status FileSink::Write(absl::Span<const MessageView> batch,
                             absl::Time /*deadline*/) {
  if (fd_ < 0) {
    if (absl::Status status = Open(); !status.ok()) return status;
  }
  records_.clear();
  for (const MessageView& message : batch) encoder_->Append(message, &records_);
  repaired_log_.Update(*encoder_);
  const std::string& text = records_;
  if (options_.max_bytes() > 0 && size_ > 0 &&
      size_ + text.size() > options_.max_bytes()) {
    if (absl::Status status = Rotate(); !status.ok()) return status;
  }
  size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = write(fd_, text.data() + written, text.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("cannot write", options_.path());
    }
    written += static_cast<size_t>(n);
  }
  size_ += written;
  if (options_.sync() == sinks::FileOptions::EVERY_BATCH && fsync(fd_) != 0) {
    return Errno("cannot fsync", options_.path());
  }
  return absl::OkStatus();
}

absl::Status FileSink::Flush() {
  if (fd_ >= 0 && fsync(fd_) != 0)
    return Errno("cannot fsync", options_.path());
  return absl::OkStatus();
}

absl::Status FileSink::Reopen() {
  Close();
  return Open();
}

void FileSink::Stop() { Close(); }

absl::Status CheckFileOptions(const sinks::FileOptions& options) {
  const std::string& path = options.path();
  if (path.empty()) return absl::InvalidArgumentError("path is empty");
  struct stat info {};
  if (stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("path \"", path, "\" is a directory"));
  }
  const size_t slash = path.rfind('/');
  const std::string directory = slash == std::string::npos ? "."
                                : slash == 0               ? "/"
                                             : path.substr(0, slash);
  if (stat(directory.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "path \"", path, "\": directory \"", directory, "\" does not exist"));
  }
  if (access(directory.c_str(), W_OK | X_OK) != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "path \"", path, "\": directory \"", directory, "\" is not writable"));
  }
  if (options.keep_files() > kMaxKeepFiles) {
    return absl::InvalidArgumentError(absl::StrCat(
        "keep_files is ", options.keep_files(), "; at most ", kMaxKeepFiles));
  }
  return absl::OkStatus();
}

namespace {
const SinkRegistration<sinks::FileOptions> kRegistration(
    [](const sinks::FileOptions& options)
        -> absl::StatusOr<std::unique_ptr<Sink>> {
      if (absl::Status status = CheckFileOptions(options); !status.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("file sink: ", status.message()));
      }
      return std::make_unique<FileSink>(options);
    });
}  // namespace

}  // namespace metlog
