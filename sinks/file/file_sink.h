#ifndef METLOG_SINKS_FILE_FILE_SINK_H_
#define METLOG_SINKS_FILE_FILE_SINK_H_

#include <cstdint>
#include <string>

#include "sinks/file/file.pb.h"
#include "sinks/sink.h"

namespace metlog {

// Appends one line per message (JSON or text) to a file and rotates it by
// size: path → path.1 → … → path.keep_files, the oldest deleted. A failed
// write is classified by its errno (sinks/sink.h): a full disk is transient
// (retried by the runner, so a batch may be written twice), a path that is
// a directory or not permitted is permanent.
class FileSink : public Sink {
 public:
  explicit FileSink(const sinks::FileOptions& options);
  ~FileSink() override;

  absl::Status Start() override;
  absl::Status Write(absl::Span<const MessageRef> batch,
                     absl::Time deadline) override;
  absl::Status Flush() override;
  absl::Status Reopen() override;
  void Stop() override;

 private:
  absl::Status Open();
  void Close();
  absl::Status Rotate();

  const sinks::FileOptions options_;
  int fd_ = -1;
  uint64_t size_ = 0;  // bytes in the current file
};

}  // namespace metlog

#endif  // METLOG_SINKS_FILE_FILE_SINK_H_
