// Where the archive puts a message: its Hive partition directory, from the
// layout template, the message's UTC hour and its type.
#ifndef METLOG_SINKS_ARCHIVE_PARTITION_PATH_H_
#define METLOG_SINKS_ARCHIVE_PARTITION_PATH_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace metlog {

// The type as a path segment: bytes other than [A-Za-z0-9_.-] and a leading
// '.' become '_', so no type can climb out of its directory or hide its file;
// an empty type is Hive's __HIVE_DEFAULT_PARTITION__. At most 200 bytes.
std::string SanitizePartitionValue(absl::string_view type);

// Whether `layout` is relative, stays below the root (no ".." segment),
// contains {dt}, {hour} and {type} and no other placeholder than those and
// {table}. Errors name the problem.
absl::Status CheckLayout(absl::string_view layout);

// Expands a checked layout.
class PartitionPath {
 public:
  PartitionPath(std::string layout, std::string table);

  // The directory, relative to the root, of a message written at
  // `timestamp_ns` (Unix nanoseconds) with `type`.
  std::string Directory(int64_t timestamp_ns, absl::string_view type) const;

  // The hour since the epoch a timestamp falls in (negative ones round down).
  static int64_t HourOf(int64_t timestamp_ns);

 private:
  std::string layout_;
  std::string table_;
};

}  // namespace metlog

#endif  // METLOG_SINKS_ARCHIVE_PARTITION_PATH_H_
