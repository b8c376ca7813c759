// The real router binary, run as a child process by //tools:bench: the
// bench measures what a user deploys (its own allocator, main and threads),
// and the router's memory is its own, readable from /proc.
#ifndef METLOG_TOOLS_BENCH_ROUTER_H_
#define METLOG_TOOLS_BENCH_ROUTER_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/admin.grpc.pb.h"

namespace metlog {

class BenchRouter {
 public:
  // Writes `config_text` into `scratch_dir`, starts `binary` on it (output
  // to files there) and waits until its admin service and first input
  // listen. The config must enable admin.
  static absl::StatusOr<std::unique_ptr<BenchRouter>> Start(
      const std::string& binary, const std::string& config_text,
      const std::string& scratch_dir);

  // Stop().
  ~BenchRouter();

  BenchRouter(const BenchRouter&) = delete;
  BenchRouter& operator=(const BenchRouter&) = delete;

  // The first input's endpoint, e.g. tcp://127.0.0.1:40123.
  const std::string& endpoint() const { return endpoint_; }

  // The Admin service's counters.
  absl::StatusOr<v1::StatsResponse> Stats() const;

  // Messages delivered so far by the sinks whose name starts with `prefix`,
  // summed.
  absl::StatusOr<uint64_t> Delivered(absl::string_view prefix = "") const;

  // The router's VmRSS (resident memory) and VmHWM (its peak), in bytes.
  absl::StatusOr<uint64_t> ResidentBytes() const;
  absl::StatusOr<uint64_t> PeakResidentBytes() const;

  // SIGTERM, and SIGKILL when it has not exited within 5 s. Idempotent.
  void Stop();

 private:
  BenchRouter(pid_t pid, std::string stderr_path)
      : pid_(pid), stderr_path_(std::move(stderr_path)) {}

  absl::StatusOr<uint64_t> StatusField(absl::string_view field) const;

  pid_t pid_;
  std::string stderr_path_;
  std::string endpoint_;
  std::unique_ptr<v1::Admin::Stub> admin_;
};

}  // namespace metlog

#endif  // METLOG_TOOLS_BENCH_ROUTER_H_
