#include "router/key_file.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace metlog {
namespace {

using ::testing::HasSubstr;

std::string TempPath(const std::string& name) {
  return std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
}

TEST(KeyFileTest, ReadsAWholeRegularFile) {
  std::ofstream(TempPath("key")) << "line one\nline two\n";
  absl::StatusOr<std::string> contents = ReadKeyFile("k", TempPath("key"));
  ASSERT_TRUE(contents.ok()) << contents.status();
  EXPECT_EQ(*contents, "line one\nline two\n");
}

TEST(KeyFileTest, RefusesWhatCannotBeAKeyFile) {
  EXPECT_THAT(ReadKeyFile("tls cert_file", "").status().message(),
              HasSubstr("tls cert_file is not set"));
  EXPECT_THAT(ReadKeyFile("k", TempPath("missing")).status().message(),
              HasSubstr("No such file"));
  std::ofstream(TempPath("empty")).flush();
  EXPECT_THAT(ReadKeyFile("k", TempPath("empty")).status().message(),
              HasSubstr("empty"));
  std::ofstream(TempPath("large")) << std::string(kMaxKeyFileBytes + 1, 'x');
  EXPECT_THAT(ReadKeyFile("k", TempPath("large")).status().message(),
              HasSubstr("larger than"));
  // A FIFO would block a blocking read forever.
  ASSERT_EQ(mkfifo(TempPath("fifo").c_str(), 0600), 0);
  EXPECT_THAT(ReadKeyFile("k", TempPath("fifo")).status().message(),
              HasSubstr("not a regular file"));
  EXPECT_THAT(ReadKeyFile("k", TempPath("")).status().message(),
              HasSubstr("not a regular file"));  // a directory
}

}  // namespace
}  // namespace metlog
