// One archive file in the making: written under a hidden temporary name as a
// series of complete gzip members (one per batch), and renamed to its final
// name when done. Concatenated members are one valid gzip file (RFC 1952,
// 2.2), and a file cut short by a crash keeps every member before the cut,
// each checked by its own CRC-32 and length.
#ifndef METLOG_SINKS_ARCHIVE_GZIP_PART_FILE_H_
#define METLOG_SINKS_ARCHIVE_GZIP_PART_FILE_H_

#include <zlib.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace metlog {

// The hidden name a file has while it is written: ".<final>.tmp". Hive,
// Spark and DuckDB globs such as *.jsonl.gz skip it.
std::string TemporaryName(absl::string_view final_name);
// The final name of a temporary one; empty if `name` is not temporary.
std::string FinalName(absl::string_view temporary_name);

// Compresses whole buffers into gzip members, reusing zlib's state.
class GzipCompressor {
 public:
  explicit GzipCompressor(int level);
  ~GzipCompressor();
  GzipCompressor(const GzipCompressor&) = delete;
  GzipCompressor& operator=(const GzipCompressor&) = delete;

  // Replaces *out with `data` as one complete gzip member.
  absl::Status Compress(absl::string_view data, std::string* out);

 private:
  z_stream stream_{};
  bool ready_ = false;
};

class GzipPartFile {
 public:
  // Creates `directory` (and its parents) and the temporary file in it.
  static absl::StatusOr<std::unique_ptr<GzipPartFile>> Create(
      const std::string& directory, const std::string& final_name,
      absl::Time now);
  ~GzipPartFile();  // closes, leaving the temporary file for recovery
  GzipPartFile(const GzipPartFile&) = delete;
  GzipPartFile& operator=(const GzipPartFile&) = delete;

  // Appends one gzip member (from GzipCompressor). A short or failed write
  // is cut back, so the file stays a series of whole members.
  absl::Status Append(absl::string_view member);

  // Syncs, closes and renames the file to its final name.
  absl::Status Publish();
  // Closes and removes the temporary file (it holds no member).
  absl::Status Discard();

  uint64_t bytes() const { return bytes_; }
  absl::Time opened() const { return opened_; }
  const std::string& final_path() const { return final_path_; }

 private:
  GzipPartFile(int fd, std::string temporary_path, std::string final_path,
               absl::Time opened);

  int fd_;
  std::string temporary_path_;
  std::string final_path_;
  absl::Time opened_;
  uint64_t bytes_ = 0;
};

// What start-up recovery did with one temporary file left by a crash.
struct RecoveredFile {
  uint64_t kept_bytes = 0;     // whole members kept and published
  uint64_t dropped_bytes = 0;  // a cut or corrupt tail, removed
  bool published = false;      // false: nothing whole, the file was removed
};

// Keeps the complete gzip members at the start of the temporary file at
// `path` (each inflated and checked), truncates what follows, and renames
// it to its final name; removes it if no member is whole.
absl::StatusOr<RecoveredFile> RecoverTemporaryFile(const std::string& path);

}  // namespace metlog

#endif  // METLOG_SINKS_ARCHIVE_GZIP_PART_FILE_H_
