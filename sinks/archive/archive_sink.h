// The archive sink: every message as a JSON line in gzip files laid out for
// Hive-partitioned tables (sinks/archive/archive.proto has the layout and
// options). Files are written under a hidden temporary name and published by
// rename when they roll (by size or age), when too many are open, and at
// Stop; a reader never sees a partial file.
#ifndef METLOG_SINKS_ARCHIVE_ARCHIVE_SINK_H_
#define METLOG_SINKS_ARCHIVE_ARCHIVE_SINK_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "sinks/archive/archive.pb.h"
#include "sinks/archive/gzip_part_file.h"
#include "sinks/archive/partition_path.h"
#include "sinks/archive/webhdfs_uploader.h"
#include "sinks/codecs/encoder.h"
#include "sinks/sink.h"

namespace metlog {

// The root a directory that exists and is writable, a valid table, router
// name and layout, a compression level 1–9. Errors name the option.
absl::Status CheckArchiveOptions(const sinks::ArchiveOptions& options);

// What start-up recovery found: temporary files this router left behind.
struct ArchiveRecoveryStats {
  uint64_t published = 0;  // their whole gzip members kept and published
  uint64_t removed = 0;    // not one whole member: removed
  uint64_t failed = 0;     // could not be read, cut or renamed: left alone
};

class ArchiveSink : public Sink {
 public:
  // `clock` gives the time files are opened at and aged by (tests set it).
  explicit ArchiveSink(const sinks::ArchiveOptions& options,
                       std::function<absl::Time()> clock = absl::Now);
  ~ArchiveSink() override;

  // Recovers this router's temporary files under the root (see
  // RecoverTemporaryFile), then starts publishing files by age.
  absl::Status Start() override;
  // Appends each message to its partition's open file, one gzip member per
  // file per batch. A batch spread over several files that fails part way
  // may be written twice when the runner retries it.
  absl::Status Write(absl::Span<const MessageView> batch,
                     absl::Time deadline) override;
  bool ReadsMessages() const override { return false; }
  // Publishes every file open: what was written so far becomes readable.
  absl::Status Flush() override;
  void Stop() override;

  // Publishes the files open for max_file_age_ms or longer. Start runs it
  // every second; tests call it directly.
  absl::Status PublishAged();

  // With a webhdfs block: uploads this router's published files under root,
  // deleting each once uploaded, and stops at the first failure (the rest
  // wait for the next try) or when Stop is called, so that shutdown waits
  // for one upload (webhdfs.timeout_ms) at most. Start runs it every
  // retry_interval_ms; files published at Stop are uploaded after the next
  // start. Tests call it directly. Returns the failure.
  absl::Status UploadPublished();

  const ArchiveRecoveryStats& recovery() const { return recovery_; }

 private:
  struct Partition {
    std::unique_ptr<GzipPartFile> file;
    std::string pending;  // this batch's lines, compressed at its end
  };
  using PartitionMap =
      absl::flat_hash_map<std::string, std::unique_ptr<Partition>>;

  // The partition a message goes to, opening its file if needed.
  absl::StatusOr<Partition*> PartitionFor(int64_t timestamp_ns,
                                          absl::string_view type)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Compresses a partition's pending lines into one member of its file.
  absl::Status AppendPending(Partition& partition)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Publishes and forgets the partitions `pick` chooses; all are tried.
  absl::Status PublishWhere(const std::function<bool(const Partition&)>& pick)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Publishes the oldest partition with nothing pending, if there is one.
  absl::Status PublishOldest() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string NextFileName() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const sinks::ArchiveOptions options_;
  const std::function<absl::Time()> clock_;
  const PartitionPath path_;
  const std::string router_;
  // Start-up time in file names keeps names unique across restarts.
  const int64_t start_ms_;
  ArchiveRecoveryStats recovery_;

  absl::Mutex mu_;  // the writer thread against the age publisher
  std::unique_ptr<Encoder> encoder_ ABSL_GUARDED_BY(mu_);
  GzipCompressor compressor_ ABSL_GUARDED_BY(mu_);
  std::string member_ ABSL_GUARDED_BY(mu_);
  // Keyed by hour since the epoch and type (PartitionKey).
  PartitionMap partitions_ ABSL_GUARDED_BY(mu_);
  std::string key_ ABSL_GUARDED_BY(mu_);                  // reused for lookups
  std::vector<Partition*> touched_ ABSL_GUARDED_BY(mu_);  // by this batch
  uint64_t next_sequence_ ABSL_GUARDED_BY(mu_) = 0;

  const std::unique_ptr<WebHdfsUploader> uploader_;  // null: local only

  absl::Notification stopping_;
  std::thread age_publisher_;
};

}  // namespace metlog

#endif  // METLOG_SINKS_ARCHIVE_ARCHIVE_SINK_H_
