// The disk buffer's throughput: append a batch, read it back, commit it, as
// a DISK sink's spill-and-drain does, under each fsync policy.
//   TMPDIR=/dir/on/the/disk bazel run -c opt //router:disk_buffer_benchmark
// (files go under $TMPDIR, /tmp by default: measure on the disk you use).
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "router/disk_buffer.h"

namespace metlog {
namespace {

std::string BenchmarkDir(const std::string& name) {
  const char* tmp = std::getenv("TMPDIR");
  std::string dir = absl::StrCat(tmp != nullptr ? tmp : "/tmp",
                                 "/metlog_disk_buffer_benchmark_", name);
  std::filesystem::remove_all(dir);
  return dir;
}

// range(0): records per batch; range(1): FsyncPolicy; records of 200 bytes,
// about a log line's wire size.
void BM_AppendReadCommit(benchmark::State& state) {
  DiskBufferOptions options;
  options.fsync = static_cast<DiskBufferOptions::FsyncPolicy>(state.range(1));
  options.dir = BenchmarkDir(absl::StrCat(state.range(1)));
  auto buffer = DiskBuffer::Open(options);
  if (!buffer.ok()) {
    state.SkipWithError(std::string(buffer.status().message()).c_str());
    return;
  }
  const std::string record(200, 'm');
  const std::vector<absl::string_view> batch(state.range(0), record);
  for (auto _ : state) {
    DiskAppendResult appended =
        (*buffer)->Append(batch, absl::InfiniteFuture());
    DiskReadBatch read = (*buffer)->Read(batch.size(), 64 << 20);
    if (appended.accepted != batch.size() ||
        read.records.size() != batch.size() ||
        !(*buffer)->Commit(read.end).ok()) {
      state.SkipWithError("the disk buffer failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(state.iterations() * state.range(0) * record.size());
  buffer->reset();
  std::filesystem::remove_all(options.dir);
}
BENCHMARK(BM_AppendReadCommit)
    ->ArgNames({"batch", "fsync"})
    ->Args({1000, static_cast<int>(DiskBufferOptions::FsyncPolicy::kNever)})
    ->Args({100, static_cast<int>(DiskBufferOptions::FsyncPolicy::kNever)})
    ->Args({1000, static_cast<int>(DiskBufferOptions::FsyncPolicy::kInterval)})
    ->Args({1000,
            static_cast<int>(DiskBufferOptions::FsyncPolicy::kEveryBatch)})
    ->Args({100, static_cast<int>(DiskBufferOptions::FsyncPolicy::kEveryBatch)})
    ->UseRealTime();

}  // namespace
}  // namespace metlog
