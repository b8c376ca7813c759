// Follows a file that a file sink with `encoding { codec: PROTOBUF }`
// appends to, and hands each new record to the caller as soon as it is
// written (woken by inotify, not by polling).
#ifndef METLOG_TOOLS_BENCH_FILE_TAIL_H_
#define METLOG_TOOLS_BENCH_FILE_TAIL_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/metlog.pb.h"

namespace metlog {

class ProtobufFileTail {
 public:
  // Watches `path`, which must exist; reading starts at its current end.
  static absl::StatusOr<ProtobufFileTail> Open(const std::string& path);

  ProtobufFileTail(ProtobufFileTail&& other) noexcept;
  ProtobufFileTail& operator=(ProtobufFileTail&&) = delete;
  ~ProtobufFileTail();

  // Waits up to `timeout` for the file to grow, then calls `on_record` with
  // each complete record written since the last call and the wall clock
  // read right after reading them. A record still being written waits for
  // the next call. Returns how many records it passed on.
  absl::StatusOr<int> ReadNew(
      absl::Duration timeout,
      const std::function<void(const v1::Message&, absl::Time read_at)>&
          on_record);

 private:
  ProtobufFileTail(int file, int inotify) : file_(file), inotify_(inotify) {}

  int file_;
  int inotify_;
  std::string pending_;  // bytes read but not yet a complete record
};

}  // namespace metlog

#endif  // METLOG_TOOLS_BENCH_FILE_TAIL_H_
