#ifndef METLOG_SINKS_FILE_FILE_SINK_H_
#define METLOG_SINKS_FILE_FILE_SINK_H_

#include <cstdint>
#include <memory>
#include <string>

#include "sinks/codecs/encoder.h"
#include "sinks/codecs/repaired_strings_log.h"
#include "sinks/file/file.pb.h"
#include "sinks/sink.h"

namespace metlog {

// What the factory refuses before a FileSink is made: an empty path, a path
// that is a directory, or one whose directory is missing or not writable
// (checked when the config is loaded; the file may still fail to open
// later), keep_files over 1000. Errors name the option.
absl::Status CheckFileOptions(const sinks::FileOptions& options);

// Appends one record per message (options.encoding: a JSON or text line, or
// a length-delimited protobuf Message) to a file and rotates it by size: path →
// path.1 → … → path.keep_files, the oldest deleted. A failed write is
// classified by its errno (sinks/sink.h): a full disk is transient (retried by
// the runner, so a batch may be written twice), a path that is a directory or
// not permitted is permanent.
class FileSink : public Sink {
 public:
  explicit FileSink(const sinks::FileOptions& options);
  ~FileSink() override;

  absl::Status Start() override;
  absl::Status Write(absl::Span<const MessageView> batch,
                     absl::Time deadline) override;
  // Encodes from the wire view: queues hold the packet's bytes, no parse.
  bool ReadsMessages() const override { return false; }
  absl::Status Flush() override;
  absl::Status Reopen() override;
  void Stop() override;

 private:
  absl::Status Open();
  void Close();
  absl::Status Rotate();

  const sinks::FileOptions options_;
  const std::unique_ptr<Encoder> encoder_;
  RepairedStringsLog repaired_log_;
  std::string records_;  // one batch's, reused
  int fd_ = -1;
  uint64_t size_ = 0;  // bytes in the current file
};

}  // namespace metlog

#endif  // METLOG_SINKS_FILE_FILE_SINK_H_
