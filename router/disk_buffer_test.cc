#include "router/disk_buffer.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace metlog {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

// A fresh directory under the test's temporary directory.
std::string FreshDir(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  std::string dir = absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/", name);
  std::filesystem::remove_all(dir);
  return dir;
}

std::vector<std::string> SegmentFiles(const std::string& dir) {
  std::vector<std::string> files;
  DIR* d = opendir(dir.c_str());
  while (const dirent* entry = readdir(d)) {
    std::string name = entry->d_name;
    if (name.rfind("segment-", 0) == 0) files.push_back(dir + "/" + name);
  }
  closedir(d);
  std::sort(files.begin(), files.end());
  return files;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << data;
}

std::vector<std::string> Numbered(int from, int to, size_t size = 10) {
  std::vector<std::string> records;
  for (int i = from; i < to; ++i) {
    std::string record = absl::StrCat("record-", i, "-");
    record.resize(std::max(size, record.size()), 'x');
    records.push_back(record);
  }
  return records;
}

DiskAppendResult AppendAll(DiskBuffer& buffer,
                           const std::vector<std::string>& records,
                           absl::Time deadline = absl::InfiniteFuture()) {
  std::vector<absl::string_view> views(records.begin(), records.end());
  return buffer.Append(views, deadline);
}

std::unique_ptr<DiskBuffer> OpenOrDie(const DiskBufferOptions& options) {
  absl::StatusOr<std::unique_ptr<DiskBuffer>> buffer =
      DiskBuffer::Open(options);
  EXPECT_TRUE(buffer.ok()) << buffer.status();
  return buffer.ok() ? std::move(*buffer) : nullptr;
}

DiskBufferOptions Options(const std::string& dir) {
  DiskBufferOptions options;
  options.dir = dir;
  options.max_segment_bytes = 4096;
  options.max_total_bytes = 64 * 1024;
  options.fsync = DiskBufferOptions::FsyncPolicy::kNever;
  return options;
}

TEST(DiskBufferTest, ReadsWhatWasAppendedInOrder) {
  auto buffer = OpenOrDie(Options(FreshDir("in_order")));
  const auto records = Numbered(0, 100);
  DiskAppendResult appended = AppendAll(*buffer, records);
  ASSERT_TRUE(appended.status.ok()) << appended.status;
  EXPECT_EQ(appended.accepted, 100u);

  std::vector<std::string> read;
  for (DiskReadBatch batch = buffer->Read(30, 1 << 20); !batch.records.empty();
       batch = buffer->Read(30, 1 << 20)) {
    EXPECT_LE(batch.records.size(), 30u);
    read.insert(read.end(), batch.records.begin(), batch.records.end());
  }
  EXPECT_THAT(read, ElementsAreArray(records));
  EXPECT_FALSE(buffer->HasUnread());
  // Read but not committed: still on disk.
  EXPECT_EQ(buffer->Stats().records_on_disk, 100u);
  EXPECT_EQ(buffer->Stats().records_unread, 0u);
}

TEST(DiskBufferTest, AReopenReplaysWhatWasNotCommitted) {
  const std::string dir = FreshDir("replay");
  {
    auto buffer = OpenOrDie(Options(dir));
    ASSERT_TRUE(AppendAll(*buffer, Numbered(0, 10)).status.ok());
    DiskReadBatch delivered = buffer->Read(4, 1 << 20);
    ASSERT_TRUE(buffer->Commit(delivered.end).ok());
    // Handed to a sink, never reported delivered: a crash here.
    EXPECT_EQ(buffer->Read(3, 1 << 20).records.size(), 3u);
  }
  auto buffer = OpenOrDie(Options(dir));
  EXPECT_EQ(buffer->Stats().pending_at_open, 6u);
  DiskReadBatch replay = buffer->Read(100, 1 << 20);
  EXPECT_THAT(replay.records, ElementsAreArray(Numbered(4, 10)));
  EXPECT_EQ(buffer->Stats().replayed, 6u);
  ASSERT_TRUE(AppendAll(*buffer, Numbered(10, 12)).status.ok());
  EXPECT_THAT(buffer->Read(100, 1 << 20).records,
              ElementsAreArray(Numbered(10, 12)));
  EXPECT_EQ(buffer->Stats().replayed, 6u);  // new records are not replays
}

TEST(DiskBufferTest, ATornTailIsCutAndCountedNeverReplayed) {
  const std::string dir = FreshDir("torn");
  {
    auto buffer = OpenOrDie(Options(dir));
    ASSERT_TRUE(AppendAll(*buffer, Numbered(0, 5)).status.ok());
  }
  const std::vector<std::string> files = SegmentFiles(dir);
  ASSERT_EQ(files.size(), 1u);
  const std::string whole = ReadFile(files[0]);
  // A sixth record whose write was torn by a crash: its header and half its
  // payload reached the file.
  const std::string source = FreshDir("torn_source");
  {
    auto other = OpenOrDie(Options(source));
    ASSERT_TRUE(AppendAll(*other, Numbered(5, 6, 100)).status.ok());
  }
  const std::string sixth = ReadFile(SegmentFiles(source)[0]);
  ASSERT_GT(sixth.size(), 60u);
  WriteFile(files[0], whole + sixth.substr(0, 60));

  auto buffer = OpenOrDie(Options(dir));
  DiskBufferStats stats = buffer->Stats();
  EXPECT_EQ(stats.corrupted_cuts, 1u);
  EXPECT_EQ(stats.corrupted_bytes, 60u);
  EXPECT_EQ(stats.records_on_disk, 5u);
  EXPECT_THAT(buffer->Read(100, 1 << 20).records,
              ElementsAreArray(Numbered(0, 5)));
  EXPECT_EQ(ReadFile(files[0]), whole);  // the tail is gone from the file
  // Appends continue where the good records end.
  ASSERT_TRUE(AppendAll(*buffer, Numbered(5, 7)).status.ok());
  EXPECT_THAT(buffer->Read(100, 1 << 20).records,
              ElementsAreArray(Numbered(5, 7)));
}

TEST(DiskBufferTest, AHeaderCutShortIsATornTailToo) {
  const std::string dir = FreshDir("torn_header");
  {
    auto buffer = OpenOrDie(Options(dir));
    ASSERT_TRUE(AppendAll(*buffer, Numbered(0, 3)).status.ok());
  }
  const std::string path = SegmentFiles(dir)[0];
  WriteFile(path, ReadFile(path) + std::string("\x05\x00\x00", 3));
  auto buffer = OpenOrDie(Options(dir));
  EXPECT_EQ(buffer->Stats().corrupted_cuts, 1u);
  EXPECT_EQ(buffer->Stats().corrupted_bytes, 3u);
  EXPECT_THAT(buffer->Read(100, 1 << 20).records,
              ElementsAreArray(Numbered(0, 3)));
}

TEST(DiskBufferTest, AFlippedByteEndsItsSegmentAtThatRecord) {
  const std::string dir = FreshDir("flipped");
  {
    auto buffer = OpenOrDie(Options(dir));
    ASSERT_TRUE(AppendAll(*buffer, Numbered(0, 5)).status.ok());
  }
  const std::string path = SegmentFiles(dir)[0];
  std::string data = ReadFile(path);
  const size_t record_bytes = data.size() / 5;
  data[3 * record_bytes + 20] ^= 0x01;  // in the fourth record's payload
  WriteFile(path, data);
  auto buffer = OpenOrDie(Options(dir));
  EXPECT_EQ(buffer->Stats().corrupted_cuts, 1u);
  EXPECT_EQ(buffer->Stats().corrupted_bytes, 2 * record_bytes);
  EXPECT_THAT(buffer->Read(100, 1 << 20).records,
              ElementsAreArray(Numbered(0, 3)));
}

TEST(DiskBufferTest, DamageFoundWhileReadingIsCutAndItsRecordsCounted) {
  const std::string dir = FreshDir("damaged_live");
  auto buffer = OpenOrDie(Options(dir));
  ASSERT_TRUE(AppendAll(*buffer, Numbered(0, 5)).status.ok());
  const std::string path = SegmentFiles(dir)[0];
  const int fd = open(path.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  const off_t record_bytes = static_cast<off_t>(ReadFile(path).size() / 5);
  ASSERT_EQ(pwrite(fd, "?", 1, 2 * record_bytes + 20), 1);
  close(fd);

  EXPECT_THAT(buffer->Read(100, 1 << 20).records,
              ElementsAreArray(Numbered(0, 2)));
  DiskBufferStats stats = buffer->Stats();
  EXPECT_EQ(stats.corrupted_cuts, 1u);
  EXPECT_EQ(stats.corrupted_records, 3u);
  // The segment goes on after the cut.
  ASSERT_TRUE(AppendAll(*buffer, Numbered(5, 6)).status.ok());
  EXPECT_THAT(buffer->Read(100, 1 << 20).records, ElementsAre("record-5-x"));
}

TEST(DiskBufferTest, SegmentsRotateAndAreDeletedOnceDelivered) {
  const std::string dir = FreshDir("rotate");
  auto buffer = OpenOrDie(Options(dir));
  // 1000-byte records: four fit a 4096-byte segment.
  const auto records = Numbered(0, 20, 1000);
  ASSERT_TRUE(AppendAll(*buffer, records).status.ok());
  EXPECT_EQ(SegmentFiles(dir).size(), 5u);
  EXPECT_EQ(buffer->Stats().bytes_on_disk, 20u * 1016);

  DiskReadBatch first = buffer->Read(6, 1 << 20);
  ASSERT_TRUE(buffer->Commit(first.end).ok());
  EXPECT_EQ(SegmentFiles(dir).size(), 4u);  // the first segment is done
  EXPECT_EQ(buffer->Stats().records_on_disk, 14u);
  EXPECT_EQ(buffer->Stats().committed, 6u);

  DiskReadBatch rest = buffer->Read(100, 1 << 20);
  EXPECT_THAT(rest.records, ElementsAreArray(Numbered(6, 20, 1000)));
  ASSERT_TRUE(buffer->Commit(rest.end).ok());
  EXPECT_EQ(SegmentFiles(dir).size(), 1u);  // the active one stays
  EXPECT_EQ(buffer->Stats().records_on_disk, 0u);
}

TEST(DiskBufferTest, ReadStopsAtMaxBytesButReturnsAtLeastOneRecord) {
  auto buffer = OpenOrDie(Options(FreshDir("max_bytes")));
  ASSERT_TRUE(AppendAll(*buffer, Numbered(0, 10, 100)).status.ok());
  EXPECT_EQ(buffer->Read(100, 1).records.size(), 1u);
  EXPECT_EQ(buffer->Read(100, 250).records.size(), 3u);  // 116 bytes each
}

TEST(DiskBufferTest, ARecordLargerThanTheReadChunkIsReadWhole) {
  DiskBufferOptions options = Options(FreshDir("large"));
  options.max_segment_bytes = 4 << 20;
  options.max_total_bytes = 16 << 20;
  const std::string dir = options.dir;
  std::vector<std::string> records = {std::string(3 << 20, 'a'), "small"};
  {
    auto buffer = OpenOrDie(options);
    ASSERT_TRUE(AppendAll(*buffer, records).status.ok());
    EXPECT_THAT(buffer->Read(10, 1).records, ElementsAre(records[0]));
  }
  auto reopened = OpenOrDie(options);  // scans it too
  EXPECT_EQ(reopened->Stats().corrupted_cuts, 0u);
  EXPECT_THAT(reopened->Read(10, 64 << 20).records, ElementsAreArray(records));
}

TEST(DiskBufferTest, ARecordLargerThanASegmentIsRefused) {
  auto buffer = OpenOrDie(Options(FreshDir("too_large")));
  DiskAppendResult result =
      AppendAll(*buffer, {"fits", std::string(5000, 'x'), "after"});
  EXPECT_EQ(result.accepted, 1u);
  EXPECT_EQ(result.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(buffer->Stats().refused, 2u);
  EXPECT_THAT(buffer->Read(10, 1 << 20).records, ElementsAre("fits"));
}

TEST(DiskBufferTest, RefuseNewAcceptsWhatFitsAndRefusesTheRest) {
  DiskBufferOptions options = Options(FreshDir("refuse"));
  options.max_total_bytes = 8192;
  options.full_action = DiskBufferOptions::FullAction::kRefuseNew;
  auto buffer = OpenOrDie(options);
  DiskAppendResult result = AppendAll(*buffer, Numbered(0, 12, 1000));
  EXPECT_EQ(result.accepted, 8u);  // two segments of four
  EXPECT_EQ(result.status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(buffer->Stats().refused, 4u);

  // Deliveries make room again.
  DiskReadBatch batch = buffer->Read(4, 1 << 20);
  ASSERT_TRUE(buffer->Commit(batch.end).ok());
  result = AppendAll(*buffer, Numbered(12, 14, 1000));
  EXPECT_EQ(result.accepted, 2u);
  EXPECT_TRUE(result.status.ok()) << result.status;
  std::vector<std::string> expected = Numbered(4, 8, 1000);
  for (const std::string& r : Numbered(12, 14, 1000)) expected.push_back(r);
  EXPECT_THAT(buffer->Read(100, 1 << 20).records, ElementsAreArray(expected));
}

TEST(DiskBufferTest, DropOldestSegmentKeepsTheNewestAndCountsTheLoss) {
  DiskBufferOptions options = Options(FreshDir("drop_oldest"));
  options.max_total_bytes = 8192;
  options.full_action = DiskBufferOptions::FullAction::kDropOldestSegment;
  auto buffer = OpenOrDie(options);
  DiskAppendResult result = AppendAll(*buffer, Numbered(0, 12, 1000));
  EXPECT_EQ(result.accepted, 12u);
  EXPECT_TRUE(result.status.ok());
  DiskBufferStats stats = buffer->Stats();
  EXPECT_EQ(stats.dropped_oldest, 4u);
  std::vector<std::string> read = buffer->Read(100, 1 << 20).records;
  EXPECT_EQ(read.size() + stats.dropped_oldest, 12u);
  EXPECT_THAT(read, ElementsAreArray(Numbered(4, 12, 1000)));
}

TEST(DiskBufferTest, BlockWaitsForDeliveriesAndEndsAtTheDeadline) {
  DiskBufferOptions options = Options(FreshDir("block"));
  options.max_total_bytes = 8192;
  options.full_action = DiskBufferOptions::FullAction::kBlock;
  auto buffer = OpenOrDie(options);
  DiskAppendResult result = AppendAll(*buffer, Numbered(0, 10, 1000),
                                      absl::Now() + absl::Milliseconds(50));
  EXPECT_EQ(result.accepted, 8u);
  EXPECT_EQ(result.status.code(), absl::StatusCode::kDeadlineExceeded);

  // A reader that delivers lets a blocked Append through.
  std::thread reader([&buffer] {
    size_t delivered = 0;
    while (delivered < 8 + 10) {
      DiskReadBatch batch = buffer->Read(3, 1 << 20);
      delivered += batch.records.size();
      ASSERT_TRUE(buffer->Commit(batch.end).ok());
      if (batch.records.empty()) absl::SleepFor(absl::Milliseconds(1));
    }
  });
  result = AppendAll(*buffer, Numbered(10, 20, 1000));
  reader.join();
  EXPECT_EQ(result.accepted, 10u);
  EXPECT_TRUE(result.status.ok()) << result.status;
  EXPECT_EQ(buffer->Stats().records_on_disk, 0u);
}

TEST(DiskBufferTest, CloseReleasesABlockedAppend) {
  DiskBufferOptions options = Options(FreshDir("block_close"));
  options.max_total_bytes = 8192;
  auto buffer = OpenOrDie(options);
  std::thread closer([&buffer] {
    absl::SleepFor(absl::Milliseconds(20));
    ASSERT_TRUE(buffer->Close().ok());
  });
  DiskAppendResult result = AppendAll(*buffer, Numbered(0, 10, 1000));
  closer.join();
  EXPECT_EQ(result.accepted, 8u);
  EXPECT_EQ(result.status.code(), absl::StatusCode::kUnavailable);
}

TEST(DiskBufferTest, EveryFsyncPolicyKeepsWhatWasAccepted) {
  for (auto policy : {DiskBufferOptions::FsyncPolicy::kEveryBatch,
                      DiskBufferOptions::FsyncPolicy::kInterval,
                      DiskBufferOptions::FsyncPolicy::kNever}) {
    DiskBufferOptions options =
        Options(FreshDir(absl::StrCat("fsync_", static_cast<int>(policy))));
    options.fsync = policy;
    options.fsync_interval = absl::ZeroDuration();
    {
      auto buffer = OpenOrDie(options);
      ASSERT_TRUE(AppendAll(*buffer, Numbered(0, 10, 1000)).status.ok());
      DiskReadBatch batch = buffer->Read(3, 1 << 20);
      ASSERT_TRUE(buffer->Commit(batch.end).ok());
      ASSERT_TRUE(buffer->Sync().ok());
    }
    auto buffer = OpenOrDie(options);
    EXPECT_THAT(buffer->Read(100, 1 << 20).records,
                ElementsAreArray(Numbered(3, 10, 1000)));
  }
}

TEST(DiskBufferTest, SyncIfDueSyncsOnlyWrittenDataAfterTheInterval) {
  DiskBufferOptions options = Options(FreshDir("sync_if_due"));
  options.fsync = DiskBufferOptions::FsyncPolicy::kInterval;
  options.fsync_interval = absl::Milliseconds(20);
  auto buffer = OpenOrDie(options);
  absl::SleepFor(absl::Milliseconds(25));
  ASSERT_TRUE(buffer->SyncIfDue().ok());
  EXPECT_EQ(buffer->Stats().syncs, 0u);  // nothing written
  ASSERT_TRUE(AppendAll(*buffer, Numbered(0, 1)).status.ok());  // synced
  const uint64_t after_append = buffer->Stats().syncs;
  ASSERT_TRUE(AppendAll(*buffer, Numbered(1, 2)).status.ok());
  absl::SleepFor(absl::Milliseconds(25));
  ASSERT_TRUE(buffer->SyncIfDue().ok());
  EXPECT_EQ(buffer->Stats().syncs, after_append + 1);
  ASSERT_TRUE(buffer->SyncIfDue().ok());
  EXPECT_EQ(buffer->Stats().syncs, after_append + 1);  // nothing new
}

TEST(DiskBufferTest, ADamagedCursorReplaysFromTheOldestSegment) {
  const std::string dir = FreshDir("bad_cursor");
  {
    auto buffer = OpenOrDie(Options(dir));
    ASSERT_TRUE(AppendAll(*buffer, Numbered(0, 5)).status.ok());
    ASSERT_TRUE(buffer->Commit(buffer->Read(3, 1 << 20).end).ok());
  }
  std::string cursor = ReadFile(dir + "/cursor");
  ASSERT_EQ(cursor.size(), 28u);
  cursor[8] ^= 0x40;
  WriteFile(dir + "/cursor", cursor);
  auto buffer = OpenOrDie(Options(dir));
  // Duplicates rather than loss.
  EXPECT_THAT(buffer->Read(100, 1 << 20).records,
              ElementsAreArray(Numbered(0, 5)));
}

TEST(DiskBufferTest, RewindHandsOutUndeliveredRecordsAgain) {
  auto buffer = OpenOrDie(Options(FreshDir("rewind")));
  ASSERT_TRUE(AppendAll(*buffer, Numbered(0, 4)).status.ok());
  ASSERT_TRUE(buffer->Commit(buffer->Read(1, 1 << 20).end).ok());
  EXPECT_EQ(buffer->Read(2, 1 << 20).records.size(), 2u);
  buffer->Rewind();
  EXPECT_THAT(buffer->Read(100, 1 << 20).records,
              ElementsAreArray(Numbered(1, 4)));
}

TEST(DiskBufferTest, OldestRecordAgeIsZeroOnlyWhenAllIsDelivered) {
  auto buffer = OpenOrDie(Options(FreshDir("age")));
  EXPECT_EQ(buffer->Stats().oldest_record_age, absl::ZeroDuration());
  ASSERT_TRUE(AppendAll(*buffer, Numbered(0, 2)).status.ok());
  absl::SleepFor(absl::Milliseconds(5));
  EXPECT_GE(buffer->Stats().oldest_record_age, absl::Milliseconds(5));
  ASSERT_TRUE(buffer->Commit(buffer->Read(100, 1 << 20).end).ok());
  EXPECT_EQ(buffer->Stats().oldest_record_age, absl::ZeroDuration());
}

TEST(DiskBufferTest, BadOptionsAndAnUnusableDirectoryAreClearErrors) {
  DiskBufferOptions options = Options(FreshDir("options"));
  options.max_total_bytes = options.max_segment_bytes;
  EXPECT_EQ(DiskBuffer::Open(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options = Options("");
  EXPECT_EQ(DiskBuffer::Open(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  // A path under a regular file can never be a directory, even for root.
  const std::string file = FreshDir("options_file");
  WriteFile(file, "not a directory");
  options = Options(file + "/buffer");
  absl::StatusOr<std::unique_ptr<DiskBuffer>> opened =
      DiskBuffer::Open(options);
  EXPECT_FALSE(opened.ok());
  EXPECT_THAT(std::string(opened.status().message()),
              ::testing::HasSubstr(file));
}

TEST(DiskBufferTest, ADirectoryServesOneBufferAtATime) {
  const std::string dir = FreshDir("locked");
  auto buffer = OpenOrDie(Options(dir));
  EXPECT_EQ(DiskBuffer::Open(Options(dir)).status().code(),
            absl::StatusCode::kFailedPrecondition);
  buffer.reset();
  EXPECT_TRUE(DiskBuffer::Open(Options(dir)).ok());
}

TEST(DiskBufferTest, AnEmptyAppendWritesNothing) {
  auto buffer = OpenOrDie(Options(FreshDir("empty")));
  DiskAppendResult result = buffer->Append({}, absl::InfiniteFuture());
  EXPECT_TRUE(result.status.ok());
  EXPECT_EQ(result.accepted, 0u);
  EXPECT_THAT(buffer->Read(10, 1 << 20).records, IsEmpty());
}

}  // namespace
}  // namespace metlog
