// Archive throughput into local gzip files: batches of 1000 log messages
// (3 fields, 4 types, one hour) written and compressed, files rolled at the
// default 128 MiB.
//   bazel run -c opt //sinks/archive:archive_benchmark
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "client/envelope/field.h"
#include "sinks/archive/archive_sink.h"
#include "sinks/message/message_batch.h"

namespace metlog {
namespace {

constexpr int kBatch = 1000;

MessageBatch LogBatch() {
  std::vector<v1::Message> messages;
  const int64_t now = absl::ToUnixNanos(absl::Now());
  const char* types[] = {"log", "timer", "counter", "exception"};
  for (int i = 0; i < kBatch; ++i) {
    v1::Message message;
    message.set_uuid(std::string(16, static_cast<char>(i)));
    message.set_timestamp(now + i * 1000);
    message.set_type(types[i % 4]);
    message.set_logger("shop.checkout");
    message.set_severity(6);
    message.set_payload(absl::StrCat("order ", i, " paid by card in 42 ms"));
    message.set_env_version("0.8");
    message.set_pid(4242);
    message.set_hostname("web-17.example.net");
    *message.add_fields() = MakeField("order", i);
    *message.add_fields() = MakeField("method", "card");
    *message.add_fields() = MakeField("elapsed", 42.5, "ms");
    messages.push_back(message);
  }
  return MessageBatch(messages);
}

void BM_ArchiveWrite(benchmark::State& state) {
  const char* tmp = std::getenv("TMPDIR");
  const std::string root =
      absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/archive_benchmark");
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root);
  sinks::ArchiveOptions options;
  options.set_root(root);
  options.set_router("bench");
  options.set_compression_level(static_cast<int>(state.range(0)));
  const MessageBatch batch = LogBatch();
  {
    ArchiveSink sink(options);
    if (!sink.Start().ok()) state.SkipWithError("start failed");
    for (auto _ : state) {
      if (!sink.Write(batch.views(), absl::InfiniteFuture()).ok()) {
        state.SkipWithError("write failed");
        break;
      }
    }
    sink.Stop();
  }
  uint64_t bytes = 0;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(root)) {
    if (entry.is_regular_file()) bytes += entry.file_size();
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["gz_bytes_per_msg"] = benchmark::Counter(
      static_cast<double>(bytes) / (state.iterations() * kBatch));
  std::filesystem::remove_all(root);
}
// Real time: the figure is what one sink thread sustains, waits included.
BENCHMARK(BM_ArchiveWrite)
    ->Arg(1)
    ->Arg(6)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace metlog
