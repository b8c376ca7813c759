// A sink's disk buffer: append-only segment files under one directory, read
// in order, with a persisted read cursor so a restart replays exactly what
// was not reported delivered.
//
// On disk:
//   <dir>/segment-<20-digit id>.log  records, each
//       u32 payload length | u32 CRC-32 of (time, payload) | i64 append time
//       (unix micros) | payload                     (little-endian)
//   <dir>/cursor                     u64 segment id | u64 offset | u64 record
//       index within the segment | u32 CRC-32 of the 24 bytes before it
//
// A record is accepted once write() has handed it to the kernel: it survives
// the process being killed, and survives a power loss only once fsynced (see
// FsyncPolicy). A record whose checksum or length does not hold (a write torn
// by a crash, or a damaged disk) ends its segment: the rest of that segment
// is cut and counted, never handed out.
#ifndef METLOG_ROUTER_DISK_BUFFER_H_
#define METLOG_ROUTER_DISK_BUFFER_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace metlog {

struct DiskBufferOptions {
  enum class FullAction {
    // Append waits (up to its deadline) for deliveries; also when the file
    // system itself is full (ENOSPC), trying again every 100 ms.
    kBlock,
    kDropOldestSegment,  // the oldest segment is deleted, its records counted
    kRefuseNew,          // Append accepts what fits and refuses the rest
  };
  enum class FsyncPolicy {
    kEveryBatch,  // each Append and each cursor update is fsynced
    kInterval,    // fsynced when fsync_interval has passed (and on Sync)
    kNever,       // left to the kernel: survives kill -9, not power loss
  };
  std::string dir;
  uint64_t max_segment_bytes = 64 << 20;
  // Must be at least twice max_segment_bytes, so that a buffer whose every
  // record was delivered always has room for the next one.
  uint64_t max_total_bytes = 1ULL << 30;
  FullAction full_action = FullAction::kBlock;
  FsyncPolicy fsync = FsyncPolicy::kInterval;
  absl::Duration fsync_interval = absl::Seconds(1);
};

struct DiskBufferStats {
  uint64_t bytes_on_disk = 0;    // the segment files' sizes
  uint64_t records_on_disk = 0;  // not yet reported delivered
  uint64_t records_unread = 0;   // of those, not yet handed out by Read
  // Age of the oldest record not yet reported delivered; zero when none.
  absl::Duration oldest_record_age;
  uint64_t appended = 0;
  uint64_t committed = 0;
  // Records handed out by Read that were on disk when the buffer was opened.
  uint64_t replayed = 0;
  uint64_t pending_at_open = 0;  // records to replay when the buffer opened
  // Segments ended early by a bad record, and the bytes cut from them.
  uint64_t corrupted_cuts = 0;
  uint64_t corrupted_bytes = 0;
  // Records lost with the bytes cut while this buffer was open (a damaged
  // disk; a tail torn by a crash is cut at Open, before it was counted).
  uint64_t corrupted_records = 0;
  // Records deleted unread by kDropOldestSegment, and records refused by
  // kRefuseNew, by a kBlock deadline or by a write error.
  uint64_t dropped_oldest = 0;
  uint64_t refused = 0;
  uint64_t write_errors = 0;
  uint64_t syncs = 0;  // fsyncs of a segment and the cursor
};

// Where a record starts (or where the buffer has read up to).
struct DiskPosition {
  uint64_t segment = 0;
  uint64_t offset = 0;
  uint64_t index = 0;  // records before `offset` in the segment
};

// Records handed out by Read, valid until the batch is destroyed.
struct DiskReadBatch {
  std::vector<std::string> records;
  DiskPosition end;  // pass to Commit once the records are delivered
  // Unread records lost to a bad record found by this Read (cut, counted
  // in corrupted_records too).
  uint64_t cut_records = 0;
};

struct DiskAppendResult {
  size_t accepted = 0;  // the first `accepted` records are on disk
  // Why the rest were not (OK if all were); with kEveryBatch, also a failed
  // fsync: the accepted records were written but may not survive a power
  // loss.
  absl::Status status;
  // Unread records that kDropOldestSegment deleted to make room.
  uint64_t dropped_oldest = 0;
};

class DiskBuffer {
 public:
  // Opens (creating if needed) the buffer in options.dir, which it locks
  // (a second Open of it fails until this one is destroyed): checks every
  // segment, cuts bad tails, and restores the cursor so Read starts with
  // the first record not reported delivered. A cursor file that is missing
  // or damaged starts at the oldest segment (duplicates, never loss).
  static absl::StatusOr<std::unique_ptr<DiskBuffer>> Open(
      DiskBufferOptions options);
  ~DiskBuffer();

  DiskBuffer(const DiskBuffer&) = delete;
  DiskBuffer& operator=(const DiskBuffer&) = delete;

  // Appends records in order with as few writes as the segment size allows.
  // When the buffer is full, acts as options.full_action says; kBlock waits
  // until `deadline` (or Close). Thread-safe.
  DiskAppendResult Append(absl::Span<const absl::string_view> records,
                          absl::Time deadline);

  // Hands out up to `max_records` records (and at most about `max_bytes`,
  // always at least one) after those handed out before. Empty when all
  // were read. Thread-safe; meant for one reader.
  DiskReadBatch Read(size_t max_records, uint64_t max_bytes);

  // Reports every record before `end` (from Read batches, in order)
  // delivered: persists the cursor and deletes segments fully delivered.
  absl::Status Commit(const DiskPosition& end);

  // Re-reads from the cursor: records handed out but not committed (a
  // failed delivery) are handed out again.
  void Rewind();

  // Fsyncs the active segment and the cursor now (FsyncPolicy kInterval
  // calls it on its own when due; a caller may call it on a timer).
  absl::Status Sync();

  // kInterval: fsyncs if something was written and fsync_interval has
  // passed since the last fsync. Call it on a timer, so a buffer that went
  // quiet is synced too. Thread-safe.
  absl::Status SyncIfDue();

  // Makes a kBlock Append wait no later than `deadline` (only moved nearer),
  // whatever deadline it was given: a shutdown's. Thread-safe.
  void EndWaitsBy(absl::Time deadline);

  // Persists the cursor, wakes a blocked Append (which then fails) and
  // releases the directory's lock: appends fail from then on.
  absl::Status Close();

  DiskBufferStats Stats() const;
  bool HasUnread() const;

 private:
  struct Segment {
    uint64_t id = 0;
    uint64_t bytes = 0;    // valid bytes (the file's size after Open)
    uint64_t records = 0;  // valid records
  };

  explicit DiskBuffer(DiskBufferOptions options);
  absl::Status Load();
  // Checks a segment's records, cutting the file at the first bad one.
  absl::StatusOr<Segment> Scan(uint64_t id);
  void LoadCursor();
  absl::Status WriteCursor() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // OpenNewSegment, waiting for space as full_action BLOCK asks (creating a
  // file or syncing the old one can hit ENOSPC too).
  absl::Status OpenNewSegmentWaiting(absl::Time deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status OpenNewSegment() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes encoded records at the end of the active segment.
  absl::Status WriteEncoded(const std::string& encoded, uint64_t records)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Makes room for `bytes` more under full_action, or says why the record
  // must not be written.
  absl::Status MakeRoom(uint64_t bytes, absl::Time deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DropOldestSegment() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // kBlock: after a write `failed` for want of space on the file system,
  // waits a little (or for a delivery) unless `deadline`, EndWaitsBy or
  // Close ended waits. Returns whether to write again.
  bool AwaitDiskSpace(const absl::Status& failed, absl::Time deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DeleteSegmentFile(uint64_t id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status SyncLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MaybeSyncLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ends segment `seg` at `offset` after a bad record, moving the reader on.
  void CutAt(Segment* seg, uint64_t offset) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Moves `pos` from the end of a segment to the start of the next one.
  void Normalize(DiskPosition* pos) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int ReadFd(uint64_t segment) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Segment* FindSegment(uint64_t id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  uint64_t TotalBytes() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Records at or after `pos`.
  uint64_t RecordsFrom(const DiskPosition& pos) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string SegmentPath(uint64_t id) const;

  const DiskBufferOptions options_;
  mutable absl::Mutex mu_;
  absl::CondVar room_ready_;
  std::deque<Segment> segments_ ABSL_GUARDED_BY(mu_);  // oldest first
  int active_fd_ ABSL_GUARDED_BY(mu_) = -1;  // the last segment's, for append
  // A read-only descriptor of the segment Read is in.
  int read_fd_ ABSL_GUARDED_BY(mu_) = -1;
  uint64_t read_fd_segment_ ABSL_GUARDED_BY(mu_) = 0;
  DiskPosition cursor_ ABSL_GUARDED_BY(mu_);    // first record not delivered
  DiskPosition read_ ABSL_GUARDED_BY(mu_);      // first record not handed out
  DiskPosition open_end_ ABSL_GUARDED_BY(mu_);  // the end when opened
  bool dirty_ ABSL_GUARDED_BY(mu_) = false;     // written since the last fsync
  absl::Time last_sync_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t cut_records_ ABSL_GUARDED_BY(mu_) = 0;  // by the current Read
  absl::Time waits_end_by_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  int cursor_fd_ ABSL_GUARDED_BY(mu_) = -1;
  int lock_fd_ ABSL_GUARDED_BY(mu_) = -1;  // flock'ed while open
  DiskBufferStats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace metlog

#endif  // METLOG_ROUTER_DISK_BUFFER_H_
