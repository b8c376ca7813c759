#include "router/disk_buffer.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "glog/logging.h"

namespace metlog {
namespace {

constexpr size_t kHeaderBytes = 16;  // length, checksum, append time
constexpr size_t kCursorBytes = 28;  // segment, offset, index, checksum
constexpr uint64_t kMinSegmentBytes = 4096;
// How often a kBlock Append the file system refused for want of space
// tries again (deliveries also wake it at once).
constexpr absl::Duration kSpacePoll = absl::Milliseconds(100);
constexpr uint64_t kReadChunkBytes = 64 << 10;
constexpr absl::string_view kSegmentPrefix = "segment-";
constexpr absl::string_view kSegmentSuffix = ".log";

void PutU32(uint32_t v, char* out) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(v >> (8 * i));
}
void PutU64(uint64_t v, char* out) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(v >> (8 * i));
}
uint32_t GetU32(const char* in) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}
uint64_t GetU64(const char* in) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}

uint32_t Checksum(const char* data, size_t size) {
  return static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(data), static_cast<uInt>(size)));
}

absl::Status ErrnoStatus(int err, absl::string_view what) {
  std::string message = absl::StrCat(what, ": ", std::strerror(err));
  if (err == ENOSPC || err == EDQUOT) {
    return absl::ResourceExhaustedError(message);
  }
  if (err == EACCES || err == EPERM || err == EROFS) {
    return absl::PermissionDeniedError(message);
  }
  return absl::InternalError(message);
}

// What the bytes at the start of `data` hold.
enum class Parse { kRecord, kNeedMore, kBad };
Parse ParseRecord(const char* data, uint64_t available, uint64_t room,
                  uint64_t* record_bytes) {
  if (available < kHeaderBytes) {
    return room < kHeaderBytes ? Parse::kBad : Parse::kNeedMore;
  }
  const uint64_t length = GetU32(data);
  if (length > room - kHeaderBytes) return Parse::kBad;
  if (length > available - kHeaderBytes) return Parse::kNeedMore;
  if (Checksum(data + 8, 8 + length) != GetU32(data + 4)) return Parse::kBad;
  *record_bytes = kHeaderBytes + length;
  return Parse::kRecord;
}

bool Before(const DiskPosition& a, const DiskPosition& b) {
  return a.segment < b.segment ||
         (a.segment == b.segment && a.offset < b.offset);
}

absl::Status PreadFully(int fd, char* out, size_t size, uint64_t offset) {
  while (size > 0) {
    const ssize_t n = pread(fd, out, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(errno, "reading a disk buffer segment");
    if (n == 0) return absl::DataLossError("disk buffer segment is shorter");
    out += n;
    size -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return absl::OkStatus();
}

absl::Status PwriteFully(int fd, const char* data, size_t size,
                         uint64_t offset) {
  while (size > 0) {
    const ssize_t n = pwrite(fd, data, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus(errno, "writing the disk buffer");
    data += n;
    size -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return absl::OkStatus();
}

absl::Status SyncDirectory(const std::string& dir) {
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "opening " + dir);
  const int rc = fsync(fd);
  const int err = errno;
  close(fd);
  if (rc != 0) return ErrnoStatus(err, "fsync of " + dir);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<DiskBuffer>> DiskBuffer::Open(
    DiskBufferOptions options) {
  if (options.dir.empty()) {
    return absl::InvalidArgumentError("disk buffer: dir is required");
  }
  if (options.max_segment_bytes < kMinSegmentBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "disk buffer: max_segment_bytes must be at least ", kMinSegmentBytes));
  }
  if (options.max_total_bytes / 2 < options.max_segment_bytes) {
    return absl::InvalidArgumentError(
        "disk buffer: max_total_bytes must be at least twice "
        "max_segment_bytes");
  }
  if (mkdir(options.dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return ErrnoStatus(errno, "disk buffer: creating " + options.dir);
  }
  std::unique_ptr<DiskBuffer> buffer(new DiskBuffer(std::move(options)));
  absl::Status loaded = buffer->Load();
  if (!loaded.ok()) return loaded;
  return buffer;
}

DiskBuffer::DiskBuffer(DiskBufferOptions options)
    : options_(std::move(options)) {}

DiskBuffer::~DiskBuffer() {
  absl::Status closed = Close();
  if (!closed.ok()) LOG(WARNING) << closed;
  absl::MutexLock lock(&mu_);
  for (int fd : {active_fd_, read_fd_, cursor_fd_, lock_fd_}) {
    if (fd >= 0) close(fd);
  }
}

std::string DiskBuffer::SegmentPath(uint64_t id) const {
  return absl::StrFormat("%s/%s%020u%s", options_.dir, kSegmentPrefix, id,
                         kSegmentSuffix);
}

absl::Status DiskBuffer::Load() {
  absl::MutexLock lock(&mu_);
  // One buffer per directory: a second (another router, or a reload's new
  // instance while the old one drains) would interleave their writes.
  lock_fd_ = open(absl::StrCat(options_.dir, "/lock").c_str(),
                  O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) {
    return ErrnoStatus(errno,
                       "disk buffer: creating " + options_.dir + "/lock");
  }
  if (flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("disk buffer: ", options_.dir,
                     " is in use by another buffer (its lock is held)"));
  }
  DIR* dir = opendir(options_.dir.c_str());
  if (dir == nullptr) {
    return ErrnoStatus(errno, "disk buffer: listing " + options_.dir);
  }
  std::vector<uint64_t> ids;
  while (const dirent* entry = readdir(dir)) {
    absl::string_view name = entry->d_name;
    uint64_t id = 0;
    if (absl::ConsumePrefix(&name, kSegmentPrefix) &&
        absl::ConsumeSuffix(&name, kSegmentSuffix) &&
        absl::SimpleAtoi(name, &id) && id > 0) {
      ids.push_back(id);
    }
  }
  closedir(dir);
  std::sort(ids.begin(), ids.end());
  for (uint64_t id : ids) {
    absl::StatusOr<Segment> segment = Scan(id);
    if (!segment.ok()) return segment.status();
    segments_.push_back(*segment);
  }

  cursor_fd_ = open(absl::StrCat(options_.dir, "/cursor").c_str(),
                    O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (cursor_fd_ < 0) {
    return ErrnoStatus(errno, "disk buffer: opening its cursor");
  }
  LoadCursor();
  // Segments the cursor has passed (a crash came between persisting the
  // cursor and deleting them).
  while (!segments_.empty() && segments_.front().id < cursor_.segment) {
    DeleteSegmentFile(segments_.front().id);
    segments_.pop_front();
  }
  if (segments_.empty()) {
    absl::Status opened = OpenNewSegment();
    if (!opened.ok()) return opened;
    cursor_ = DiskPosition{segments_.back().id, 0, 0};
  } else {
    active_fd_ =
        open(SegmentPath(segments_.back().id).c_str(), O_WRONLY | O_CLOEXEC);
    if (active_fd_ < 0) {
      return ErrnoStatus(errno, "disk buffer: opening its last segment");
    }
  }
  Normalize(&cursor_);
  read_ = cursor_;
  open_end_ = DiskPosition{segments_.back().id, segments_.back().bytes,
                           segments_.back().records};
  stats_.pending_at_open = RecordsFrom(cursor_);
  last_sync_ = absl::Now();
  return WriteCursor();
}

absl::StatusOr<DiskBuffer::Segment> DiskBuffer::Scan(uint64_t id) {
  const std::string path = SegmentPath(id);
  const int fd = open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, "disk buffer: opening " + path);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    const int err = errno;
    close(fd);
    return ErrnoStatus(err, "disk buffer: stat of " + path);
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  std::string chunk;
  Segment segment;
  segment.id = id;
  // Reads chunk by chunk, so a segment larger than memory allows is fine.
  while (segment.bytes < size) {
    const uint64_t room = size - segment.bytes;
    chunk.resize(std::min<uint64_t>(room, kReadChunkBytes));
    absl::Status read =
        PreadFully(fd, chunk.data(), chunk.size(), segment.bytes);
    if (!read.ok()) {
      close(fd);
      return read;
    }
    uint64_t at = 0;
    uint64_t record_bytes = 0;
    Parse parse = Parse::kRecord;
    while ((parse = ParseRecord(chunk.data() + at, chunk.size() - at, room - at,
                                &record_bytes)) == Parse::kRecord) {
      at += record_bytes;
      ++segment.records;
      if (at == chunk.size()) break;
    }
    segment.bytes += at;
    if (parse == Parse::kBad) {
      LOG(WARNING) << "disk buffer: " << path << " holds a bad record at byte "
                   << segment.bytes << " (a torn write or a damaged disk); "
                   << (size - segment.bytes) << " bytes cut";
      ++stats_.corrupted_cuts;
      stats_.corrupted_bytes += size - segment.bytes;
      if (ftruncate(fd, static_cast<off_t>(segment.bytes)) != 0) {
        const int err = errno;
        close(fd);
        return ErrnoStatus(err, "disk buffer: cutting " + path);
      }
      break;
    }
    if (at == 0) {
      // A record larger than a chunk: read it whole next time round.
      const uint64_t length = GetU32(chunk.data());
      chunk.resize(kHeaderBytes + length);
      read = PreadFully(fd, chunk.data(), chunk.size(), segment.bytes);
      if (!read.ok()) {
        close(fd);
        return read;
      }
      if (ParseRecord(chunk.data(), chunk.size(), room, &record_bytes) ==
          Parse::kRecord) {
        segment.bytes += record_bytes;
        ++segment.records;
        continue;
      }
      LOG(WARNING) << "disk buffer: " << path << " holds a bad record at byte "
                   << segment.bytes << "; " << (size - segment.bytes)
                   << " bytes cut";
      ++stats_.corrupted_cuts;
      stats_.corrupted_bytes += size - segment.bytes;
      if (ftruncate(fd, static_cast<off_t>(segment.bytes)) != 0) {
        const int err = errno;
        close(fd);
        return ErrnoStatus(err, "disk buffer: cutting " + path);
      }
      break;
    }
  }
  close(fd);
  return segment;
}

void DiskBuffer::LoadCursor() {
  char data[kCursorBytes];
  const ssize_t n = pread(cursor_fd_, data, sizeof(data), 0);
  const DiskPosition oldest{segments_.empty() ? 0 : segments_.front().id, 0, 0};
  cursor_ = oldest;
  if (n == 0) return;  // a new buffer, or one that never delivered
  if (n != static_cast<ssize_t>(kCursorBytes) ||
      Checksum(data, 24) != GetU32(data + 24)) {
    LOG(WARNING) << "disk buffer: " << options_.dir
                 << "/cursor is damaged; replaying from the oldest segment";
    return;
  }
  const DiskPosition saved{GetU64(data), GetU64(data + 8), GetU64(data + 16)};
  Segment* segment = FindSegment(saved.segment);
  if (segment == nullptr) {
    if (segments_.empty() || saved.segment > segments_.back().id) {
      LOG(WARNING) << "disk buffer: the cursor's segment " << saved.segment
                   << " is missing; replaying from the oldest segment";
    }
    return;
  }
  if (saved.offset > segment->bytes || saved.index > segment->records) {
    // The cursor points into a tail that was cut: it was delivered up to
    // the cut, and nothing after it is left.
    cursor_ = DiskPosition{segment->id, segment->bytes, segment->records};
    return;
  }
  cursor_ = saved;
}

absl::Status DiskBuffer::WriteCursor() {
  char data[kCursorBytes];
  PutU64(cursor_.segment, data);
  PutU64(cursor_.offset, data + 8);
  PutU64(cursor_.index, data + 16);
  PutU32(Checksum(data, 24), data + 24);
  absl::Status written = PwriteFully(cursor_fd_, data, sizeof(data), 0);
  if (written.ok() &&
      options_.fsync == DiskBufferOptions::FsyncPolicy::kEveryBatch &&
      fdatasync(cursor_fd_) != 0) {
    written = ErrnoStatus(errno, "disk buffer: fsync of its cursor");
  }
  if (!written.ok()) ++stats_.write_errors;
  return written;
}

absl::Status DiskBuffer::OpenNewSegment() {
  if (active_fd_ >= 0) {
    if (dirty_ && options_.fsync != DiskBufferOptions::FsyncPolicy::kNever) {
      absl::Status synced = SyncLocked();
      if (!synced.ok()) return synced;
    }
    close(active_fd_);
    active_fd_ = -1;
  }
  const uint64_t id = segments_.empty() ? std::max<uint64_t>(1, cursor_.segment)
                                        : segments_.back().id + 1;
  const std::string path = SegmentPath(id);
  active_fd_ =
      open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (active_fd_ < 0) {
    ++stats_.write_errors;
    return ErrnoStatus(errno, "disk buffer: creating " + path);
  }
  Segment segment;
  segment.id = id;
  segments_.push_back(segment);
  if (options_.fsync == DiskBufferOptions::FsyncPolicy::kEveryBatch) {
    return SyncDirectory(options_.dir);
  }
  return absl::OkStatus();
}

absl::Status DiskBuffer::WriteEncoded(const std::string& encoded,
                                      uint64_t records) {
  if (encoded.empty()) return absl::OkStatus();
  if (active_fd_ < 0) {  // creating the last segment failed
    absl::Status opened = OpenNewSegment();
    if (!opened.ok()) return opened;
  }
  Segment& active = segments_.back();
  // Written at the segment's known end, so bytes a failed write left
  // behind are overwritten by the next one (or cut when reopened).
  absl::Status written =
      PwriteFully(active_fd_, encoded.data(), encoded.size(), active.bytes);
  if (!written.ok()) {
    ++stats_.write_errors;
    // A partial write (ENOSPC midway) gives its bytes back, and leaves no
    // tail a restart would have to cut as corrupt.
    if (ftruncate(active_fd_, static_cast<off_t>(active.bytes)) != 0) {
      LOG_EVERY_T(WARNING, 5)
          << "disk buffer: cutting a failed write: " << std::strerror(errno);
    }
    return written;
  }
  active.bytes += encoded.size();
  active.records += records;
  stats_.appended += records;
  dirty_ = true;
  return absl::OkStatus();
}

uint64_t DiskBuffer::TotalBytes() const {
  uint64_t total = 0;
  for (const Segment& segment : segments_) total += segment.bytes;
  return total;
}

uint64_t DiskBuffer::RecordsFrom(const DiskPosition& pos) const {
  uint64_t records = 0;
  for (const Segment& segment : segments_) {
    if (segment.id > pos.segment) {
      records += segment.records;
    } else if (segment.id == pos.segment) {
      records += segment.records - std::min(pos.index, segment.records);
    }
  }
  return records;
}

DiskBuffer::Segment* DiskBuffer::FindSegment(uint64_t id) {
  for (Segment& segment : segments_) {
    if (segment.id == id) return &segment;
  }
  return nullptr;
}

void DiskBuffer::Normalize(DiskPosition* pos) const {
  for (size_t i = 0; i < segments_.size(); ++i) {
    const Segment& segment = segments_[i];
    if (segment.id < pos->segment) continue;
    if (segment.id > pos->segment) {
      *pos = DiskPosition{segment.id, 0, 0};  // its segment was deleted
      return;
    }
    if (pos->offset < segment.bytes || i + 1 == segments_.size()) return;
    *pos = DiskPosition{segments_[i + 1].id, 0, 0};
  }
}

void DiskBuffer::DeleteSegmentFile(uint64_t id) {
  if (read_fd_ >= 0 && read_fd_segment_ == id) {
    close(read_fd_);
    read_fd_ = -1;
  }
  if (unlink(SegmentPath(id).c_str()) != 0 && errno != ENOENT) {
    LOG(WARNING) << "disk buffer: deleting " << SegmentPath(id) << ": "
                 << std::strerror(errno);
  }
}

void DiskBuffer::DropOldestSegment() {
  const Segment oldest = segments_.front();
  uint64_t unread = 0;
  if (read_.segment == oldest.id) {
    unread = oldest.records - std::min(read_.index, oldest.records);
  } else if (read_.segment < oldest.id) {
    unread = oldest.records;
  }
  stats_.dropped_oldest += unread;
  LOG(WARNING) << "disk buffer " << options_.dir << " is full: deleted "
               << SegmentPath(oldest.id) << " with " << unread
               << " records not yet read";
  DeleteSegmentFile(oldest.id);
  segments_.pop_front();
  const DiskPosition next{segments_.front().id, 0, 0};
  if (read_.segment <= oldest.id) read_ = next;
  if (cursor_.segment <= oldest.id) {
    cursor_ = next;
    WriteCursor().IgnoreError();  // counted in write_errors
  }
}

absl::Status DiskBuffer::MakeRoom(uint64_t bytes, absl::Time deadline) {
  while (TotalBytes() + bytes > options_.max_total_bytes) {
    switch (options_.full_action) {
      case DiskBufferOptions::FullAction::kRefuseNew:
        return absl::ResourceExhaustedError(absl::StrCat(
            "disk buffer ", options_.dir, " is full (max_total_bytes ",
            options_.max_total_bytes, ")"));
      case DiskBufferOptions::FullAction::kDropOldestSegment:
        if (segments_.size() < 2) {
          return absl::ResourceExhaustedError(
              absl::StrCat("disk buffer ", options_.dir, " is full"));
        }
        DropOldestSegment();
        break;
      case DiskBufferOptions::FullAction::kBlock:
        if (closed_) {
          return absl::UnavailableError(
              absl::StrCat("disk buffer ", options_.dir, " is closed"));
        }
        if (room_ready_.WaitWithDeadline(&mu_,
                                         std::min(deadline, waits_end_by_)) &&
            TotalBytes() + bytes > options_.max_total_bytes) {
          return absl::DeadlineExceededError(absl::StrCat(
              "disk buffer ", options_.dir, " stayed full until the deadline"));
        }
        break;
    }
  }
  return absl::OkStatus();
}

bool DiskBuffer::AwaitDiskSpace(const absl::Status& failed,
                                absl::Time deadline) {
  if (options_.full_action != DiskBufferOptions::FullAction::kBlock ||
      failed.code() != absl::StatusCode::kResourceExhausted || closed_) {
    return false;
  }
  const absl::Time end = std::min(deadline, waits_end_by_);
  if (absl::Now() >= end) return false;
  LOG_EVERY_T(WARNING, 5) << failed << "; waiting for space (full_action "
                          << "BLOCK)";
  room_ready_.WaitWithDeadline(&mu_, std::min(end, absl::Now() + kSpacePoll));
  return !closed_;
}

absl::Status DiskBuffer::OpenNewSegmentWaiting(absl::Time deadline) {
  absl::Status opened = OpenNewSegment();
  while (!opened.ok() && AwaitDiskSpace(opened, deadline)) {
    opened = OpenNewSegment();
  }
  return opened;
}

DiskAppendResult DiskBuffer::Append(absl::Span<const absl::string_view> records,
                                    absl::Time deadline) {
  DiskAppendResult result;
  absl::MutexLock lock(&mu_);
  if (closed_) {
    result.status = absl::FailedPreconditionError("disk buffer is closed");
    stats_.refused += records.size();
    return result;
  }
  const uint64_t dropped_oldest_before = stats_.dropped_oldest;
  char time_bytes[8];
  PutU64(static_cast<uint64_t>(absl::ToUnixMicros(absl::Now())), time_bytes);
  std::string encoded;
  size_t encoded_records = 0;
  auto flush = [&]() {
    absl::Status written = WriteEncoded(encoded, encoded_records);
    while (!written.ok() && AwaitDiskSpace(written, deadline)) {
      // Another Append may have filled the active segment meanwhile.
      written =
          segments_.back().bytes + encoded.size() > options_.max_segment_bytes
              ? OpenNewSegment()
              : absl::OkStatus();
      if (written.ok()) written = WriteEncoded(encoded, encoded_records);
    }
    if (written.ok()) result.accepted += encoded_records;
    encoded.clear();
    encoded_records = 0;
    return written;
  };
  for (absl::string_view record : records) {
    const uint64_t record_bytes = kHeaderBytes + record.size();
    if (record_bytes > options_.max_segment_bytes) {
      result.status = absl::InvalidArgumentError(absl::StrCat(
          "a record of ", record.size(),
          " bytes does not fit the disk buffer's max_segment_bytes"));
      break;
    }
    if (segments_.back().bytes + encoded.size() + record_bytes >
        options_.max_segment_bytes) {
      result.status = flush();
      if (result.status.ok()) result.status = OpenNewSegmentWaiting(deadline);
      if (!result.status.ok()) break;
    }
    if (TotalBytes() + encoded.size() + record_bytes >
        options_.max_total_bytes) {
      // Written first, so nothing accepted waits unwritten meanwhile.
      result.status = flush();
      if (result.status.ok()) result.status = MakeRoom(record_bytes, deadline);
      // Another Append may have filled the active segment while this waited.
      if (result.status.ok() &&
          segments_.back().bytes + record_bytes > options_.max_segment_bytes) {
        result.status = OpenNewSegmentWaiting(deadline);
      }
      if (!result.status.ok()) break;
    }
    char header[kHeaderBytes];
    PutU32(static_cast<uint32_t>(record.size()), header);
    std::memcpy(header + 8, time_bytes, 8);
    uint32_t crc = static_cast<uint32_t>(
        crc32(0, reinterpret_cast<const Bytef*>(time_bytes), 8));
    crc = static_cast<uint32_t>(
        crc32(crc, reinterpret_cast<const Bytef*>(record.data()),
              static_cast<uInt>(record.size())));
    PutU32(crc, header + 4);
    encoded.append(header, kHeaderBytes);
    encoded.append(record.data(), record.size());
    ++encoded_records;
  }
  if (result.status.ok()) {
    result.status = flush();
  } else {
    absl::Status written = flush();
    if (!written.ok()) result.status = written;
  }
  if (result.accepted > 0) {
    if (options_.fsync == DiskBufferOptions::FsyncPolicy::kEveryBatch) {
      absl::Status synced = SyncLocked();
      if (!synced.ok()) result.status = synced;
    } else {
      MaybeSyncLocked();
    }
  }
  stats_.refused += records.size() - result.accepted;
  result.dropped_oldest = stats_.dropped_oldest - dropped_oldest_before;
  return result;
}

int DiskBuffer::ReadFd(uint64_t segment) {
  if (read_fd_ >= 0 && read_fd_segment_ == segment) return read_fd_;
  if (read_fd_ >= 0) close(read_fd_);
  read_fd_ = open(SegmentPath(segment).c_str(), O_RDONLY | O_CLOEXEC);
  read_fd_segment_ = segment;
  return read_fd_;
}

void DiskBuffer::CutAt(Segment* segment, uint64_t offset) {
  const uint64_t lost =
      segment->records - std::min(read_.index, segment->records);
  LOG(ERROR) << "disk buffer: " << SegmentPath(segment->id)
             << " holds a bad record at byte " << offset << "; "
             << (segment->bytes - offset) << " bytes and " << lost
             << " records cut";
  ++stats_.corrupted_cuts;
  stats_.corrupted_bytes += segment->bytes - offset;
  stats_.corrupted_records += lost;
  cut_records_ += lost;
  segment->bytes = offset;
  segment->records = read_.index;
  if (truncate(SegmentPath(segment->id).c_str(), static_cast<off_t>(offset)) !=
      0) {
    LOG(ERROR) << "disk buffer: cutting " << SegmentPath(segment->id) << ": "
               << std::strerror(errno);
  }
}

DiskReadBatch DiskBuffer::Read(size_t max_records, uint64_t max_bytes) {
  DiskReadBatch batch;
  absl::MutexLock lock(&mu_);
  cut_records_ = 0;
  uint64_t bytes = 0;
  std::string chunk;
  while (batch.records.size() < max_records &&
         (batch.records.empty() || bytes < max_bytes)) {
    Normalize(&read_);
    Segment* segment = FindSegment(read_.segment);
    if (segment == nullptr || read_.offset >= segment->bytes) break;
    const int fd = ReadFd(segment->id);
    const uint64_t room = segment->bytes - read_.offset;
    chunk.resize(std::min<uint64_t>(room, kReadChunkBytes));
    absl::Status read =
        fd < 0 ? ErrnoStatus(errno, "disk buffer: opening")
               : PreadFully(fd, chunk.data(), chunk.size(), read_.offset);
    if (!read.ok()) {
      LOG(ERROR) << "disk buffer: " << read;
      ++stats_.write_errors;
      break;
    }
    uint64_t at = 0;
    uint64_t record_bytes = 0;
    Parse parse = Parse::kRecord;
    while (batch.records.size() < max_records &&
           (batch.records.empty() || bytes < max_bytes)) {
      parse = ParseRecord(chunk.data() + at, chunk.size() - at, room - at,
                          &record_bytes);
      if (parse == Parse::kNeedMore && batch.records.empty() && at == 0) {
        // One record larger than the chunk.
        chunk.resize(kHeaderBytes + GetU32(chunk.data()));
        if (!PreadFully(fd, chunk.data(), chunk.size(), read_.offset).ok()) {
          parse = Parse::kBad;
          break;
        }
        continue;
      }
      if (parse != Parse::kRecord) break;
      batch.records.emplace_back(chunk.data() + at + kHeaderBytes,
                                 record_bytes - kHeaderBytes);
      if (Before(read_, open_end_)) ++stats_.replayed;
      at += record_bytes;
      bytes += record_bytes;
      read_.offset += record_bytes;
      ++read_.index;
      if (at == chunk.size()) break;
    }
    if (parse == Parse::kBad) CutAt(segment, read_.offset);
    if (parse == Parse::kNeedMore && at == 0) break;
  }
  batch.end = read_;
  batch.cut_records = cut_records_;
  return batch;
}

absl::Status DiskBuffer::Commit(const DiskPosition& end) {
  absl::MutexLock lock(&mu_);
  if (closed_) return absl::FailedPreconditionError("disk buffer is closed");
  if (Before(end, cursor_)) return absl::OkStatus();  // its segment was dropped
  stats_.committed += RecordsFrom(cursor_) - RecordsFrom(end);
  cursor_ = end;
  Normalize(&cursor_);
  while (segments_.size() > 1 && segments_.front().id < cursor_.segment) {
    DeleteSegmentFile(segments_.front().id);
    segments_.pop_front();
  }
  absl::Status written = WriteCursor();
  room_ready_.SignalAll();
  if (options_.fsync == DiskBufferOptions::FsyncPolicy::kInterval) {
    MaybeSyncLocked();
  }
  return written;
}

void DiskBuffer::Rewind() {
  absl::MutexLock lock(&mu_);
  read_ = cursor_;
}

absl::Status DiskBuffer::SyncLocked() {
  if (active_fd_ >= 0 && fdatasync(active_fd_) != 0) {
    ++stats_.write_errors;
    return ErrnoStatus(errno, "disk buffer: fsync of a segment");
  }
  if (fdatasync(cursor_fd_) != 0) {
    ++stats_.write_errors;
    return ErrnoStatus(errno, "disk buffer: fsync of its cursor");
  }
  dirty_ = false;
  last_sync_ = absl::Now();
  ++stats_.syncs;
  return absl::OkStatus();
}

void DiskBuffer::MaybeSyncLocked() {
  if (options_.fsync != DiskBufferOptions::FsyncPolicy::kInterval) return;
  if (absl::Now() - last_sync_ < options_.fsync_interval) return;
  absl::Status synced = SyncLocked();
  if (!synced.ok()) LOG(WARNING) << synced;
}

absl::Status DiskBuffer::SyncIfDue() {
  absl::MutexLock lock(&mu_);
  if (options_.fsync != DiskBufferOptions::FsyncPolicy::kInterval || !dirty_ ||
      absl::Now() - last_sync_ < options_.fsync_interval) {
    return absl::OkStatus();
  }
  return SyncLocked();
}

absl::Status DiskBuffer::Sync() {
  absl::MutexLock lock(&mu_);
  return SyncLocked();
}

void DiskBuffer::EndWaitsBy(absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  waits_end_by_ = std::min(waits_end_by_, deadline);
  room_ready_.SignalAll();
}

absl::Status DiskBuffer::Close() {
  absl::MutexLock lock(&mu_);
  if (closed_) return absl::OkStatus();
  closed_ = true;
  room_ready_.SignalAll();
  absl::Status written = WriteCursor();
  if (written.ok() &&
      options_.fsync != DiskBufferOptions::FsyncPolicy::kNever) {
    written = SyncLocked();
  }
  // Nothing is written after this: the next buffer on the directory (a
  // reload's new instance) may take it over.
  close(lock_fd_);
  lock_fd_ = -1;
  return written;
}

bool DiskBuffer::HasUnread() const {
  absl::MutexLock lock(&mu_);
  return RecordsFrom(read_) > 0;
}

DiskBufferStats DiskBuffer::Stats() const {
  absl::MutexLock lock(&mu_);
  DiskBufferStats stats = stats_;
  stats.bytes_on_disk = TotalBytes();
  stats.records_on_disk = RecordsFrom(cursor_);
  stats.records_unread = RecordsFrom(read_);
  if (stats.records_on_disk > 0) {
    // The oldest record not delivered: the first at or after the cursor.
    DiskPosition oldest = cursor_;
    Normalize(&oldest);
    const int fd =
        open(SegmentPath(oldest.segment).c_str(), O_RDONLY | O_CLOEXEC);
    char header[kHeaderBytes];
    if (fd >= 0) {
      if (PreadFully(fd, header, sizeof(header), oldest.offset).ok()) {
        stats.oldest_record_age =
            absl::Now() -
            absl::FromUnixMicros(static_cast<int64_t>(GetU64(header + 8)));
      }
      close(fd);
    }
  }
  return stats;
}

}  // namespace metlog
