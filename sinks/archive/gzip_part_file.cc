#include "sinks/archive/gzip_part_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "sinks/sink.h"

namespace metlog {
namespace {

constexpr absl::string_view kTemporaryPrefix = ".";
constexpr absl::string_view kTemporarySuffix = ".tmp";
constexpr int kGzipWindowBits = 15 + 16;  // zlib's "gzip wrapper" flag
constexpr size_t kReadChunk = 1 << 16;

absl::Status Errno(absl::string_view what, const std::string& path) {
  return ErrnoError(errno, absl::StrCat("archive sink: ", what, " ", path));
}

// The offset just past the last complete gzip member at the start of fd.
absl::StatusOr<uint64_t> EndOfWholeMembers(int fd, const std::string& path) {
  z_stream stream{};
  if (inflateInit2(&stream, kGzipWindowBits) != Z_OK) {
    return absl::ResourceExhaustedError("archive sink: inflateInit2 failed");
  }
  std::vector<unsigned char> input(kReadChunk), output(kReadChunk);
  uint64_t chunk_start = 0, whole_end = 0;
  bool corrupt = false;
  while (!corrupt) {
    const ssize_t got = pread(fd, input.data(), input.size(), chunk_start);
    if (got < 0) {
      if (errno == EINTR) continue;
      inflateEnd(&stream);
      return Errno("cannot read", path);
    }
    if (got == 0) break;
    stream.next_in = input.data();
    stream.avail_in = static_cast<uInt>(got);
    while (stream.avail_in > 0) {
      stream.next_out = output.data();
      stream.avail_out = static_cast<uInt>(output.size());
      const int result = inflate(&stream, Z_NO_FLUSH);
      if (result == Z_STREAM_END) {
        whole_end = chunk_start + (got - stream.avail_in);
        inflateReset(&stream);
      } else if (result != Z_OK && result != Z_BUF_ERROR) {
        corrupt = true;
        break;
      }
    }
    chunk_start += got;
  }
  inflateEnd(&stream);
  return whole_end;
}

}  // namespace

std::string TemporaryName(absl::string_view final_name) {
  return absl::StrCat(kTemporaryPrefix, final_name, kTemporarySuffix);
}

std::string FinalName(absl::string_view temporary_name) {
  if (!absl::ConsumePrefix(&temporary_name, kTemporaryPrefix) ||
      !absl::ConsumeSuffix(&temporary_name, kTemporarySuffix) ||
      temporary_name.empty()) {
    return "";
  }
  return std::string(temporary_name);
}

GzipCompressor::GzipCompressor(int level) {
  ready_ = deflateInit2(&stream_, level, Z_DEFLATED, kGzipWindowBits,
                        /*memLevel=*/8, Z_DEFAULT_STRATEGY) == Z_OK;
}

GzipCompressor::~GzipCompressor() {
  if (ready_) deflateEnd(&stream_);
}

absl::Status GzipCompressor::Compress(absl::string_view data,
                                      std::string* out) {
  if (!ready_) {
    return absl::ResourceExhaustedError("archive sink: deflateInit2 failed");
  }
  deflateReset(&stream_);
  out->resize(deflateBound(&stream_, data.size()));
  stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream_.avail_in = static_cast<uInt>(data.size());
  stream_.next_out = reinterpret_cast<Bytef*>(&(*out)[0]);
  stream_.avail_out = static_cast<uInt>(out->size());
  if (deflate(&stream_, Z_FINISH) != Z_STREAM_END) {
    return absl::InternalError("archive sink: deflate did not finish");
  }
  out->resize(out->size() - stream_.avail_out);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<GzipPartFile>> GzipPartFile::Create(
    const std::string& directory, const std::string& final_name,
    absl::Time now) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) {
    errno = error.value();
    return Errno("cannot create directory", directory);
  }
  std::string temporary_path =
      absl::StrCat(directory, "/", TemporaryName(final_name));
  const int fd = open(temporary_path.c_str(),
                      O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot create", temporary_path);
  return std::unique_ptr<GzipPartFile>(
      new GzipPartFile(fd, std::move(temporary_path),
                       absl::StrCat(directory, "/", final_name), now));
}

GzipPartFile::GzipPartFile(int fd, std::string temporary_path,
                           std::string final_path, absl::Time opened)
    : fd_(fd),
      temporary_path_(std::move(temporary_path)),
      final_path_(std::move(final_path)),
      opened_(opened) {}

GzipPartFile::~GzipPartFile() {
  if (fd_ >= 0) close(fd_);
}

absl::Status GzipPartFile::Append(absl::string_view member) {
  size_t done = 0;
  while (done < member.size()) {
    const ssize_t wrote =
        write(fd_, member.data() + done, member.size() - done);
    if (wrote < 0) {
      if (errno == EINTR) continue;
      const absl::Status status = Errno("cannot write", temporary_path_);
      if (ftruncate(fd_, bytes_) != 0 || lseek(fd_, bytes_, SEEK_SET) < 0) {
        return Errno("cannot cut back", temporary_path_);
      }
      return status;
    }
    done += wrote;
  }
  bytes_ += member.size();
  return absl::OkStatus();
}

absl::Status GzipPartFile::Publish() {
  if (fdatasync(fd_) != 0) return Errno("cannot fsync", temporary_path_);
  close(fd_);
  fd_ = -1;
  if (rename(temporary_path_.c_str(), final_path_.c_str()) != 0) {
    return Errno("cannot rename", temporary_path_);
  }
  return absl::OkStatus();
}

absl::Status GzipPartFile::Discard() {
  close(fd_);
  fd_ = -1;
  if (unlink(temporary_path_.c_str()) != 0) {
    return Errno("cannot remove", temporary_path_);
  }
  return absl::OkStatus();
}

absl::StatusOr<RecoveredFile> RecoverTemporaryFile(const std::string& path) {
  const size_t slash = path.rfind('/');
  const std::string directory =
      slash == std::string::npos ? "." : path.substr(0, slash);
  const std::string final_name =
      FinalName(slash == std::string::npos ? path : path.substr(slash + 1));
  if (final_name.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("archive sink: not a temporary file: ", path));
  }
  const int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", path);
  const off_t size = lseek(fd, 0, SEEK_END);
  absl::StatusOr<uint64_t> whole_end = EndOfWholeMembers(fd, path);
  RecoveredFile recovered;
  absl::Status status = whole_end.status();
  if (status.ok()) {
    recovered.kept_bytes = *whole_end;
    recovered.dropped_bytes = static_cast<uint64_t>(size) - *whole_end;
    if (*whole_end > 0 &&
        (ftruncate(fd, *whole_end) != 0 || fdatasync(fd) != 0)) {
      status = Errno("cannot truncate", path);
    }
  }
  close(fd);
  if (!status.ok()) return status;
  if (recovered.kept_bytes == 0) {
    if (unlink(path.c_str()) != 0) return Errno("cannot remove", path);
    return recovered;
  }
  const std::string final_path = absl::StrCat(directory, "/", final_name);
  if (rename(path.c_str(), final_path.c_str()) != 0) {
    return Errno("cannot rename", path);
  }
  recovered.published = true;
  return recovered;
}

}  // namespace metlog
