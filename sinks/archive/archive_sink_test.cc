#include "sinks/archive/archive_sink.h"

#include <zlib.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "sinks/archive/gzip_part_file.h"
#include "sinks/message/message_batch.h"

namespace metlog {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// 2026-11-25T10:00:00Z and an hour later.
constexpr int64_t kTen = int64_t{1795600800} * 1000000000;
constexpr int64_t kEleven = kTen + int64_t{3600} * 1000000000;

std::string Root(const std::string& name) {
  const std::string root = absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name);
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root);
  return root;
}

sinks::ArchiveOptions Options(const std::string& root) {
  sinks::ArchiveOptions options;
  options.set_root(root);
  options.set_router("r1");
  return options;
}

MessageBatch Batch(const std::vector<std::pair<std::string, int64_t>>& types,
                   int first = 0) {
  std::vector<v1::Message> messages;
  for (const auto& [type, timestamp] : types) {
    v1::Message message;
    message.set_type(type);
    message.set_timestamp(timestamp);
    message.set_payload(absl::StrCat("message ", first++));
    messages.push_back(message);
  }
  return MessageBatch(messages);
}

// Files under root, relative to it, sorted.
std::vector<std::string> Files(const std::string& root) {
  std::vector<std::string> files;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(root)) {
    if (entry.is_regular_file()) {
      files.push_back(std::filesystem::relative(entry.path(), root).string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<std::string> Published(const std::string& root) {
  std::vector<std::string> files;
  for (const std::string& file : Files(root)) {
    if (absl::EndsWith(file, ".jsonl.gz")) files.push_back(file);
  }
  return files;
}

// The payloads of the JSON lines in a gzip file.
std::vector<std::string> Payloads(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  EXPECT_NE(file, nullptr) << path;
  if (file == nullptr) return {};
  std::string text;
  char buffer[4096];
  int got;
  while ((got = gzread(file, buffer, sizeof(buffer))) > 0) {
    text.append(buffer, got);
  }
  gzclose(file);
  std::vector<std::string> payloads;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    rapidjson::Document json;
    json.Parse(line.data(), line.size());
    EXPECT_FALSE(json.HasParseError()) << line;
    if (!json.HasParseError()) payloads.push_back(json["payload"].GetString());
  }
  return payloads;
}

std::string Directory(const std::string& file) {
  return file.substr(0, file.rfind('/'));
}

TEST(ArchiveSinkTest, WritesPartitionedGzipJsonLinesPublishedOnFlush) {
  const std::string root = Root("partitions");
  ArchiveSink sink(Options(root));
  ASSERT_TRUE(sink.Start().ok());
  ASSERT_TRUE(sink.Write(Batch({{"log", kTen},
                                {"timer", kTen},
                                {"log", kEleven},
                                {"log", kTen + 1}})
                             .views(),
                         absl::InfiniteFuture())
                  .ok());
  // Written, but only under hidden temporary names until published.
  EXPECT_THAT(Published(root), IsEmpty());
  EXPECT_THAT(Files(root), SizeIs(3));
  ASSERT_TRUE(sink.Flush().ok());
  const std::vector<std::string> files = Published(root);
  ASSERT_THAT(files, SizeIs(3));
  EXPECT_THAT(Files(root), SizeIs(3));  // no temporary file left
  std::map<std::string, std::vector<std::string>> by_directory;
  for (const std::string& file : files) {
    EXPECT_THAT(file, HasSubstr("/part-r1-"));
    by_directory[Directory(file)] = Payloads(root + "/" + file);
  }
  EXPECT_THAT(by_directory["metlog/dt=2026-11-25/hour=10/type=log"],
              ElementsAre("message 0", "message 3"));
  EXPECT_THAT(by_directory["metlog/dt=2026-11-25/hour=10/type=timer"],
              ElementsAre("message 1"));
  EXPECT_THAT(by_directory["metlog/dt=2026-11-25/hour=11/type=log"],
              ElementsAre("message 2"));
  sink.Stop();
}

TEST(ArchiveSinkTest, RollsBySizeIntoNewFiles) {
  const std::string root = Root("size");
  sinks::ArchiveOptions options = Options(root);
  options.set_max_file_bytes(1);  // every batch fills a file
  ArchiveSink sink(options);
  ASSERT_TRUE(sink.Start().ok());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(sink.Write(Batch({{"log", kTen}, {"log", kTen}}, 2 * i).views(),
                           absl::InfiniteFuture())
                    .ok());
    EXPECT_THAT(Published(root), SizeIs(i + 1));
  }
  std::vector<std::string> payloads;
  for (const std::string& file : Published(root)) {
    for (std::string& payload : Payloads(root + "/" + file)) {
      payloads.push_back(payload);
    }
  }
  std::sort(payloads.begin(), payloads.end());
  EXPECT_THAT(payloads, ElementsAre("message 0", "message 1", "message 2",
                                    "message 3", "message 4", "message 5"));
  sink.Stop();
}

TEST(ArchiveSinkTest, RollsByAge) {
  const std::string root = Root("age");
  sinks::ArchiveOptions options = Options(root);
  options.set_max_file_age_ms(60000);
  absl::Time now = absl::FromUnixSeconds(1795600800);
  ArchiveSink sink(options, [&now] { return now; });
  ASSERT_TRUE(
      sink.Write(Batch({{"log", kTen}}).views(), absl::InfiniteFuture()).ok());
  now += absl::Seconds(59);
  ASSERT_TRUE(sink.PublishAged().ok());
  EXPECT_THAT(Published(root), IsEmpty());
  now += absl::Seconds(1);
  ASSERT_TRUE(sink.PublishAged().ok());
  EXPECT_THAT(Published(root), SizeIs(1));
  // The next message starts a new file.
  ASSERT_TRUE(
      sink.Write(Batch({{"log", kTen}}, 1).views(), absl::InfiniteFuture())
          .ok());
  ASSERT_TRUE(sink.Flush().ok());
  EXPECT_THAT(Published(root), SizeIs(2));
}

TEST(ArchiveSinkTest, PublishesTheOldestFileWhenTooManyAreOpen) {
  const std::string root = Root("open_files");
  sinks::ArchiveOptions options = Options(root);
  options.set_max_open_files(1);
  ArchiveSink sink(options);
  ASSERT_TRUE(
      sink.Write(Batch({{"log", kTen}}).views(), absl::InfiniteFuture()).ok());
  ASSERT_TRUE(
      sink.Write(Batch({{"timer", kTen}}, 1).views(), absl::InfiniteFuture())
          .ok());
  const std::vector<std::string> files = Published(root);
  ASSERT_THAT(files, SizeIs(1));
  EXPECT_EQ(Directory(files[0]), "metlog/dt=2026-11-25/hour=10/type=log");
  EXPECT_THAT(Files(root), SizeIs(2));  // timer's still temporary
}

TEST(ArchiveSinkTest, StartFinishesThisRoutersLeftoversOnly) {
  const std::string root = Root("recovery");
  const std::string directory = root + "/metlog/dt=2026-11-25/hour=10/type=log";
  std::filesystem::create_directories(directory);
  // A file cut in its second member, one with nothing whole, and another
  // router's file, which may still be being written.
  GzipCompressor compressor(1);
  std::string first, second;
  ASSERT_TRUE(compressor.Compress("{\"payload\":\"kept\"}\n", &first).ok());
  ASSERT_TRUE(compressor.Compress("{\"payload\":\"cut\"}\n", &second).ok());
  std::ofstream(directory + "/.part-r1-1-000000.jsonl.gz.tmp", std::ios::binary)
      << first << second.substr(0, 10);
  std::ofstream(directory + "/.part-r1-1-000001.jsonl.gz.tmp", std::ios::binary)
      << second.substr(0, 10);
  std::ofstream(directory + "/.part-r2-1-000000.jsonl.gz.tmp", std::ios::binary)
      << first;
  ArchiveSink sink(Options(root));
  ASSERT_TRUE(sink.Start().ok());
  EXPECT_EQ(sink.recovery().published, 1u);
  EXPECT_EQ(sink.recovery().removed, 1u);
  EXPECT_EQ(sink.recovery().failed, 0u);
  EXPECT_THAT(Files(root), ElementsAre("metlog/dt=2026-11-25/hour=10/type=log/"
                                       ".part-r2-1-000000.jsonl.gz.tmp",
                                       "metlog/dt=2026-11-25/hour=10/type=log/"
                                       "part-r1-1-000000.jsonl.gz"));
  EXPECT_THAT(Payloads(directory + "/part-r1-1-000000.jsonl.gz"),
              ElementsAre("kept"));
  sink.Stop();
}

TEST(ArchiveSinkTest, RegistrationChecksOptions) {
  const std::string root = Root("options");
  EXPECT_TRUE(CheckArchiveOptions(Options(root)).ok());
  sinks::ArchiveOptions options = Options(root);
  options.set_root(root + "/missing");
  EXPECT_THAT(std::string(CheckArchiveOptions(options).message()),
              HasSubstr("not a directory"));
  options = Options(root);
  options.set_table("../x");
  EXPECT_THAT(std::string(CheckArchiveOptions(options).message()),
              HasSubstr("table"));
  options = Options(root);
  options.set_layout("{dt}/{type}");
  EXPECT_THAT(std::string(CheckArchiveOptions(options).message()),
              HasSubstr("{hour}"));
  options = Options(root);
  options.set_compression_level(0);
  EXPECT_THAT(std::string(CheckArchiveOptions(options).message()),
              HasSubstr("compression_level"));

  google::protobuf::Any any;
  options = Options(root);
  options.set_router("bad/name");
  any.PackFrom(options);
  const auto sink = SinkRegistry::Global().Create(any);
  ASSERT_FALSE(sink.ok());
  EXPECT_THAT(std::string(sink.status().message()),
              HasSubstr("archive sink: router"));
}

}  // namespace
}  // namespace metlog
