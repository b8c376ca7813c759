#include "sinks/archive/gzip_part_file.h"

#include <unistd.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace metlog {
namespace {

std::string TestDirectory(const std::string& name) {
  const std::string directory =
      absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name);
  std::filesystem::remove_all(directory);
  return directory;
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

// Everything in a (multi-member) gzip file, read with zlib's gz* reader, as
// gzip(1) would.
std::string Gunzip(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  EXPECT_NE(file, nullptr) << path;
  if (file == nullptr) return "";
  std::string text;
  char buffer[4096];
  int got;
  while ((got = gzread(file, buffer, sizeof(buffer))) > 0) {
    text.append(buffer, got);
  }
  EXPECT_EQ(got, 0) << "gzread error in " << path;
  gzclose(file);
  return text;
}

std::string Member(const std::string& text) {
  GzipCompressor compressor(6);
  std::string member;
  EXPECT_TRUE(compressor.Compress(text, &member).ok());
  return member;
}

TEST(GzipPartFileTest, NamesTemporaryFilesHiddenAndBack) {
  EXPECT_EQ(TemporaryName("part-r-1.jsonl.gz"), ".part-r-1.jsonl.gz.tmp");
  EXPECT_EQ(FinalName(".part-r-1.jsonl.gz.tmp"), "part-r-1.jsonl.gz");
  EXPECT_EQ(FinalName("part-r-1.jsonl.gz"), "");
  EXPECT_EQ(FinalName("..tmp"), "");
}

TEST(GzipPartFileTest, IsHiddenUntilPublishedThenOneGzipFile) {
  const std::string directory = TestDirectory("publish") + "/a/b";
  auto file = GzipPartFile::Create(directory, "part.jsonl.gz", absl::Now());
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_TRUE((*file)->Append(Member("one\n")).ok());
  ASSERT_TRUE((*file)->Append(Member("two\n")).ok());
  EXPECT_TRUE(Exists(directory + "/.part.jsonl.gz.tmp"));
  EXPECT_FALSE(Exists(directory + "/part.jsonl.gz"));
  ASSERT_TRUE((*file)->Publish().ok());
  EXPECT_FALSE(Exists(directory + "/.part.jsonl.gz.tmp"));
  EXPECT_EQ(Gunzip(directory + "/part.jsonl.gz"), "one\ntwo\n");
}

TEST(GzipPartFileTest, DiscardRemovesTheTemporaryFile) {
  const std::string directory = TestDirectory("discard");
  auto file = GzipPartFile::Create(directory, "p.jsonl.gz", absl::Now());
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Discard().ok());
  EXPECT_TRUE(std::filesystem::is_empty(directory));
}

TEST(GzipPartFileTest, RecoveryKeepsWholeMembersOfAFileCutMidMember) {
  const std::string directory = TestDirectory("cut");
  std::filesystem::create_directories(directory);
  const std::string second = Member("line 3\nline 4\n");
  WriteFile(directory + "/.p.jsonl.gz.tmp",
            Member("line 1\nline 2\n") + second.substr(0, second.size() / 2));
  const auto recovered = RecoverTemporaryFile(directory + "/.p.jsonl.gz.tmp");
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  EXPECT_TRUE(recovered->published);
  EXPECT_EQ(recovered->dropped_bytes, second.size() / 2);
  EXPECT_FALSE(Exists(directory + "/.p.jsonl.gz.tmp"));
  EXPECT_EQ(Gunzip(directory + "/p.jsonl.gz"), "line 1\nline 2\n");
}

TEST(GzipPartFileTest, RecoveryDropsAMemberWhoseChecksumIsWrong) {
  const std::string directory = TestDirectory("corrupt");
  std::filesystem::create_directories(directory);
  std::string second = Member("line 3\n");
  second[second.size() - 5] ^= 0x55;  // the CRC-32 in the trailer
  WriteFile(directory + "/.p.jsonl.gz.tmp", Member("line 1\n") + second);
  const auto recovered = RecoverTemporaryFile(directory + "/.p.jsonl.gz.tmp");
  ASSERT_TRUE(recovered.ok()) << recovered.status();
  EXPECT_EQ(Gunzip(directory + "/p.jsonl.gz"), "line 1\n");
}

TEST(GzipPartFileTest, RecoveryRemovesAFileWithNoWholeMember) {
  const std::string directory = TestDirectory("nothing");
  std::filesystem::create_directories(directory);
  const std::string member = Member("only line\n");
  WriteFile(directory + "/.p.jsonl.gz.tmp", member.substr(0, 12));
  WriteFile(directory + "/.q.jsonl.gz.tmp", "");
  for (const char* name : {"/.p.jsonl.gz.tmp", "/.q.jsonl.gz.tmp"}) {
    const auto recovered = RecoverTemporaryFile(directory + name);
    ASSERT_TRUE(recovered.ok()) << recovered.status();
    EXPECT_FALSE(recovered->published);
  }
  EXPECT_TRUE(std::filesystem::is_empty(directory));
}

}  // namespace
}  // namespace metlog
