// A disk buffer on a file system that runs out of inodes, so that creating
// its next segment fails with ENOSPC: full_action BLOCK must wait for space
// there too (as it does when a write fails), not refuse at once. The test
// re-runs itself in a user and mount namespace (unshare -Urm, no root
// needed) on a tmpfs of a few inodes.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <cstdlib>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "router/disk_buffer.h"

namespace metlog {
namespace {

constexpr char kInsideVariable[] = "METLOG_SMALL_TMPFS";

// Inside the namespace: appends ten segments' worth into room for about
// four, while a reader delivers (and so deletes) segments from time to time.
void AppendEverythingWhileAReaderFreesSegments(const std::string& root) {
  DiskBufferOptions options;
  options.dir = root + "/buffer";
  options.max_segment_bytes = 4096;
  options.full_action = DiskBufferOptions::FullAction::kBlock;
  auto buffer = DiskBuffer::Open(options);
  ASSERT_TRUE(buffer.ok()) << buffer.status();
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done.load()) {
      absl::SleepFor(absl::Milliseconds(300));
      DiskReadBatch batch = (*buffer)->Read(1000, 1 << 20);
      if (!batch.records.empty()) (*buffer)->Commit(batch.end);
    }
  });
  const std::string record(1000, 'x');
  const absl::string_view one[] = {record};
  for (int i = 0; i < 40; ++i) {
    const DiskAppendResult result =
        (*buffer)->Append(one, absl::Now() + absl::Seconds(30));
    EXPECT_EQ(result.accepted, 1u) << "append " << i << ": " << result.status;
    if (result.accepted != 1) break;
  }
  done.store(true);
  reader.join();
  EXPECT_GT((*buffer)->Stats().write_errors, 0u)
      << "the file system never ran out of inodes: the test tested nothing";
}

TEST(DiskBufferEnospcTest, BlockWaitsWhenANewSegmentCannotBeCreated) {
  if (const char* root = std::getenv(kInsideVariable)) {
    AppendEverythingWhileAReaderFreesSegments(root);
    return;
  }
  char self[PATH_MAX] = {};
  ASSERT_GT(readlink("/proc/self/exe", self, sizeof(self) - 1), 0);
  const std::string root = absl::StrCat(std::getenv("TEST_TMPDIR"), "/small");
  ASSERT_EQ(mkdir(root.c_str(), 0755), 0);
  if (std::system("unshare -Urm true 2>/dev/null") != 0) {
    GTEST_SKIP() << "this kernel refuses unprivileged user namespaces";
  }
  const int status = std::system(
      absl::StrCat("unshare -Urm /bin/sh -c 'mount -t tmpfs -o "
                   "size=1m,nr_inodes=8 tmpfs ",
                   root, " && exec env -u TEST_PREMATURE_EXIT_FILE -u ",
                   "XML_OUTPUT_FILE ", kInsideVariable, "=", root, " ", self,
                   " --gtest_filter=DiskBufferEnospcTest.*'")
          .c_str());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "the run inside the namespace failed (its output is above)";
}

}  // namespace
}  // namespace metlog
