#include "tools/bench_memory.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "absl/time/clock.h"
#include "tools/bench_config.h"
#include "tools/bench_load.h"
#include "tools/bench_router.h"

namespace metlog {
namespace {

// A named pipe read at most 1 MiB/s: a file sink writing into it is a sink
// on a slow disk, slower than any input. Unthrottle() drains it at full
// speed, so that the router's shutdown is not held by a blocked write.
class SlowPipe {
 public:
  static absl::StatusOr<std::unique_ptr<SlowPipe>> Create(
      const std::string& path) {
    // Opened for reading (without waiting for a writer) before the router
    // starts, so the sink's open for writing does not wait either.
    const int fd = mkfifo(path.c_str(), 0600) == 0
                       ? open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC)
                       : -1;
    if (fd < 0) return absl::InternalError("cannot make a pipe at " + path);
    return std::unique_ptr<SlowPipe>(new SlowPipe(fd));
  }

  ~SlowPipe() {
    stop_.store(true);
    thread_.join();
    close(fd_);
  }

  void Unthrottle() { unthrottled_.store(true); }

 private:
  static constexpr size_t kReadPerTick = 10 << 10;  // every 10 ms

  explicit SlowPipe(int fd) : fd_(fd) {
    thread_ = std::thread([this] {
      char buffer[kReadPerTick];
      while (!stop_.load()) {
        absl::SleepFor(unthrottled_.load() ? absl::Microseconds(100)
                                           : absl::Milliseconds(10));
        while (read(fd_, buffer, sizeof(buffer)) > 0 && unthrottled_.load()) {
        }
      }
    });
  }

  const int fd_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> unthrottled_{false};
  std::thread thread_;
};

}  // namespace

absl::StatusOr<RouterMemory> MeasureRouterMemory(
    const BenchEnvironment& environment, const std::string& packet,
    absl::Duration duration) {
  const std::string path = environment.scratch_dir + "/slow_sink.pipe";
  absl::StatusOr<std::unique_ptr<SlowPipe>> pipe = SlowPipe::Create(path);
  if (!pipe.ok()) return pipe.status();
  BenchSink slow;
  slow.name = "slow";
  slow.options = ProtobufFileSinkOptions(path);
  absl::StatusOr<std::unique_ptr<BenchRouter>> router =
      BenchRouter::Start(environment.router_binary, BenchRouterConfig({slow}),
                         environment.scratch_dir);
  if (!router.ok()) return router.status();
  RouterMemory memory;
  // Let start-up settle (threads, the admin server's first call).
  absl::SleepFor(absl::Milliseconds(500));
  if (absl::Status status = (*router)->Stats().status(); !status.ok()) {
    return status;
  }
  absl::StatusOr<uint64_t> idle = (*router)->ResidentBytes();
  if (!idle.ok()) return idle.status();
  memory.idle_bytes = *idle;
  {
    FramePusher pusher((*router)->endpoint(), packet);
    absl::SleepFor(duration);
    absl::StatusOr<uint64_t> end = (*router)->ResidentBytes();
    absl::StatusOr<uint64_t> peak = (*router)->PeakResidentBytes();
    if (!end.ok()) return end.status();
    if (!peak.ok()) return peak.status();
    memory.overload_end_bytes = *end;
    memory.overload_peak_bytes = *peak;
  }
  absl::StatusOr<v1::StatsResponse> stats = (*router)->Stats();
  (*pipe)->Unthrottle();
  if (!stats.ok()) return stats.status();
  for (const v1::SinkStats& sink : stats->sinks()) {
    memory.received += sink.received();
    memory.delivered += sink.delivered();
    memory.queued += sink.queued();
    memory.queued_bytes += sink.queued_bytes();
    for (const auto& [reason, count] : sink.dropped()) memory.dropped += count;
  }
  return memory;
}

}  // namespace metlog
