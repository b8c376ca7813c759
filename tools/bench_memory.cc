#include "tools/bench_memory.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tools/bench_config.h"
#include "tools/bench_load.h"
#include "tools/bench_router.h"

namespace metlog {
namespace {

// A TCP back end on loopback that accepts every connection and reads from
// them at most 1 MiB/s in all: a slow carbon server.
class SlowTcpPeer {
 public:
  static absl::StatusOr<std::unique_ptr<SlowTcpPeer>> Start() {
    const int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (listener < 0 ||
        bind(listener, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
        listen(listener, 16) != 0 ||
        getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) !=
            0) {
      if (listener >= 0) close(listener);
      return absl::InternalError("cannot listen on loopback");
    }
    return std::unique_ptr<SlowTcpPeer>(
        new SlowTcpPeer(listener, ntohs(address.sin_port)));
  }

  ~SlowTcpPeer() {
    stop_.store(true);
    thread_.join();
    for (const pollfd& entry : fds_) close(entry.fd);
  }

  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }

 private:
  static constexpr size_t kReadPerTick = 10 << 10;  // every 10 ms

  SlowTcpPeer(int listener, int port) : port_(port) {
    fds_.push_back({listener, POLLIN, 0});
    thread_ = std::thread([this] { Serve(); });
  }

  void Serve() {
    char buffer[kReadPerTick];
    while (!stop_.load()) {
      absl::SleepFor(absl::Milliseconds(10));
      if (poll(fds_.data(), fds_.size(), 0) <= 0) continue;
      if (fds_[0].revents & POLLIN) {
        const int connection =
            accept4(fds_[0].fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (connection >= 0) fds_.push_back({connection, POLLIN, 0});
      }
      size_t budget = kReadPerTick;
      for (size_t i = 1; i < fds_.size() && budget > 0; ++i) {
        if (!(fds_[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        const ssize_t got = read(fds_[i].fd, buffer, budget);
        if (got > 0) {
          budget -= got;
        } else if (got == 0) {
          close(fds_[i].fd);
          fds_.erase(fds_.begin() + i--);
        }
      }
    }
  }

  const int port_;
  std::vector<pollfd> fds_;  // the listener, then the connections
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace

absl::StatusOr<RouterMemory> MeasureRouterMemory(
    const BenchEnvironment& environment, const std::string& packet,
    absl::Duration duration) {
  absl::StatusOr<std::unique_ptr<SlowTcpPeer>> peer = SlowTcpPeer::Start();
  if (!peer.ok()) return peer.status();
  BenchSink slow;
  slow.name = "slow";
  slow.options = CarbonSinkOptions((*peer)->address());
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
  if (!stats.ok()) return stats.status();
  for (const v1::SinkStats& sink : stats->sinks()) {
    memory.received += sink.received();
    for (const auto& [reason, count] : sink.dropped()) memory.dropped += count;
  }
  return memory;
}

}  // namespace metlog
