// What the file sink's factory refuses (checked before any file is opened).
#include <sys/stat.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sinks/file/file_sink.h"
#include "sinks/sink.h"

namespace metlog {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<std::unique_ptr<Sink>> Create(const std::string& path,
                                             uint32_t keep_files = 5) {
  sinks::FileOptions options;
  options.set_path(path);
  options.set_keep_files(keep_files);
  google::protobuf::Any any;
  any.PackFrom(options);
  return SinkRegistry::Global().Create(any);
}

std::string TempDir() {
  const char* dir = std::getenv("TEST_TMPDIR");
  return dir != nullptr ? dir : "/tmp";
}

TEST(FileOptionsTest, FactoryRefusesPathsThatCannotBeWritten) {
  // Issue 9 item 5: both passed --check.
  const std::string dir = TempDir();
  const std::string file_in_the_way = absl::StrCat(dir, "/plain");
  FILE* plain = fopen(file_in_the_way.c_str(), "w");
  ASSERT_NE(plain, nullptr);
  fclose(plain);
  const struct {
    std::string path;
    std::string error;
  } cases[] = {
      {"", "file sink: path is empty"},
      {dir, absl::StrCat("file sink: path \"", dir, "\" is a directory")},
      {"/", "file sink: path \"/\" is a directory"},
      {absl::StrCat(dir, "/missing/x.jsonl"),
       absl::StrCat("file sink: path \"", dir,
                    "/missing/x.jsonl\": directory \"", dir,
                    "/missing\" does not exist")},
      {absl::StrCat(file_in_the_way, "/x.jsonl"),
       absl::StrCat("directory \"", file_in_the_way, "\" does not exist")},
  };
  for (const auto& c : cases) {
    absl::StatusOr<std::unique_ptr<Sink>> sink = Create(c.path);
    ASSERT_FALSE(sink.ok()) << c.path;
    EXPECT_TRUE(absl::IsInvalidArgument(sink.status())) << c.path;
    EXPECT_THAT(std::string(sink.status().message()), HasSubstr(c.error));
  }
  EXPECT_THAT(
      std::string(
          Create(absl::StrCat(dir, "/a.jsonl"), 1001).status().message()),
      HasSubstr("file sink: keep_files is 1001; at most 1000"));
}

TEST(FileOptionsTest, FactoryAcceptsAFileToCreate) {
  EXPECT_TRUE(Create(absl::StrCat(TempDir(), "/new.jsonl")).ok());
  EXPECT_TRUE(Create("relative.jsonl").ok());  // in the working directory
}

}  // namespace
}  // namespace metlog
