#include "sinks/file/file_sink.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "sinks/message/message_batch.h"

namespace metlog {
namespace {

using ::testing::HasSubstr;

std::string TempPath(const std::string& name) {
  return absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name);
}

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream file(path);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(file, line)) lines.push_back(line);
  return lines;
}

// The payload of a JSON line; fails the test if the line is not JSON.
std::string Payload(const std::string& line) {
  rapidjson::Document json;
  json.Parse(line.c_str());
  EXPECT_FALSE(json.HasParseError()) << line;
  if (json.HasParseError() || !json.IsObject() || !json.HasMember("payload")) {
    return "";
  }
  return json["payload"].GetString();
}

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

MessageBatch Batch(int first, int count) {
  std::vector<v1::Message> batch;
  for (int i = first; i < first + count; ++i) {
    v1::Message m;
    m.set_type("log");
    m.set_payload(absl::StrCat("message ", i));
    batch.push_back(m);
  }
  return MessageBatch(batch);
}

TEST(FileSinkTest, WritesJsonLinesThatParseBack) {
  sinks::FileOptions options;
  options.set_path(TempPath("json.jsonl"));
  options.set_sync(sinks::FileOptions::EVERY_BATCH);
  FileSink sink(options);
  ASSERT_TRUE(sink.Start().ok());
  ASSERT_TRUE(sink.Write(Batch(0, 3).views(), absl::InfiniteFuture()).ok());
  ASSERT_TRUE(sink.Write(Batch(3, 2).views(), absl::InfiniteFuture()).ok());
  sink.Stop();
  const auto lines = Lines(options.path());
  ASSERT_EQ(lines.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Payload(lines[i]), absl::StrCat("message ", i));
  }
  EXPECT_FALSE(sink.ReadsMessages());  // encodes from the wire view
}

TEST(FileSinkTest, EncodingOptionChoosesTheCodec) {
  sinks::FileOptions options;
  options.set_path(TempPath("records.bin"));
  options.mutable_encoding()->set_codec(sinks::EncodingOptions::PROTOBUF);
  options.set_format(sinks::FileOptions::TEXT);  // encoding wins
  FileSink sink(options);
  ASSERT_TRUE(sink.Start().ok());
  ASSERT_TRUE(sink.Write(Batch(0, 2).views(), absl::InfiniteFuture()).ok());
  sink.Stop();
  std::ifstream file(options.path(), std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(file)),
                          std::istreambuf_iterator<char>());
  // Two length-delimited records: the first's length, then its message.
  ASSERT_FALSE(bytes.empty());
  const size_t first = static_cast<uint8_t>(bytes[0]);
  ASSERT_LT(first, 0x80u);
  v1::Message m;
  ASSERT_TRUE(m.ParseFromString(bytes.substr(1, first)));
  EXPECT_EQ(m.payload(), "message 0");
  EXPECT_EQ(m.uuid().size(), 16u);
}

TEST(FileSinkTest, TextFormatIsTheConsoleLine) {
  sinks::FileOptions options;
  options.set_path(TempPath("text.log"));
  options.set_format(sinks::FileOptions::TEXT);
  FileSink sink(options);
  ASSERT_TRUE(sink.Start().ok());
  ASSERT_TRUE(sink.Write(Batch(0, 1).views(), absl::InfiniteFuture()).ok());
  sink.Stop();
  EXPECT_THAT(Lines(options.path())[0],
              HasSubstr("type=\"log\" logger=\"\" host=\"\" pid=0 "
                        "payload=\"message 0\""));
}

TEST(FileSinkTest, RotatesBySizeAndKeepsTheNewestFiles) {
  sinks::FileOptions options;
  options.set_path(TempPath("rotating.jsonl"));
  options.set_max_bytes(300);
  options.set_keep_files(2);
  FileSink sink(options);
  ASSERT_TRUE(sink.Start().ok());
  for (int i = 0; i < 40; ++i)
    ASSERT_TRUE(sink.Write(Batch(i, 1).views(), absl::InfiniteFuture()).ok());
  sink.Stop();
  const std::string& path = options.path();
  EXPECT_TRUE(Exists(path));
  EXPECT_TRUE(Exists(path + ".1"));
  EXPECT_TRUE(Exists(path + ".2"));
  EXPECT_FALSE(Exists(path + ".3"));
  for (const std::string& file : {path, path + ".1", path + ".2"}) {
    std::ifstream in(file, std::ios::ate);
    EXPECT_LE(in.tellg(), 300) << file;
  }
  // Reading .2, .1, then the live file gives the newest messages in order,
  // ending with the last one written.
  std::vector<std::string> lines;
  for (const std::string& file : {path + ".2", path + ".1", path}) {
    for (const std::string& line : Lines(file)) lines.push_back(line);
  }
  ASSERT_FALSE(lines.empty());
  EXPECT_THAT(lines.back(), HasSubstr("message 39"));
  int previous = -1;
  for (const std::string& line : lines) {
    int n = 0;
    ASSERT_TRUE(absl::SimpleAtoi(Payload(line).substr(8), &n));
    if (previous >= 0) {
      EXPECT_EQ(n, previous + 1);
    }
    previous = n;
  }
}

TEST(FileSinkTest, ReopenFollowsAnOutsideRotation) {
  sinks::FileOptions options;
  options.set_path(TempPath("logrotate.jsonl"));
  FileSink sink(options);
  ASSERT_TRUE(sink.Start().ok());
  ASSERT_TRUE(sink.Write(Batch(0, 1).views(), absl::InfiniteFuture()).ok());
  ASSERT_EQ(
      std::rename(options.path().c_str(), (options.path() + ".old").c_str()),
      0);
  ASSERT_TRUE(sink.Write(Batch(1, 1).views(), absl::InfiniteFuture())
                  .ok());  // still the renamed file
  ASSERT_TRUE(sink.Reopen().ok());
  ASSERT_TRUE(sink.Write(Batch(2, 1).views(), absl::InfiniteFuture()).ok());
  sink.Stop();
  EXPECT_EQ(Lines(options.path() + ".old").size(), 2u);
  ASSERT_EQ(Lines(options.path()).size(), 1u);
  EXPECT_THAT(Lines(options.path())[0], HasSubstr("message 2"));
}

TEST(FileSinkTest, APathThatIsADirectoryIsAPermanentError) {
  sinks::FileOptions options;
  options.set_path(std::getenv("TEST_TMPDIR"));
  FileSink sink(options);
  const absl::Status status = sink.Start();
  ASSERT_FALSE(status.ok());
  // Retrying cannot help: the runner drops and counts instead of stalling.
  EXPECT_FALSE(IsTransient(status)) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("Is a directory"));
}

TEST(FileSinkTest, UnwritablePathIsATransientError) {
  sinks::FileOptions options;
  options.set_path("/nonexistent-dir/x.jsonl");
  FileSink sink(options);
  const absl::Status status = sink.Start();
  EXPECT_TRUE(IsTransient(status)) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("/nonexistent-dir"));
}

}  // namespace
}  // namespace metlog
