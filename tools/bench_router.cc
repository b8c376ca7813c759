#include "tools/bench_router.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"

namespace metlog {
namespace {

std::string ReadWholeFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

bool Exited(pid_t pid) {
  int status = 0;
  return waitpid(pid, &status, WNOHANG) == pid;
}

}  // namespace

absl::StatusOr<std::unique_ptr<BenchRouter>> BenchRouter::Start(
    const std::string& binary, const std::string& config_text,
    const std::string& scratch_dir) {
  static std::atomic<int> started{0};
  const std::string base = absl::StrCat(scratch_dir, "/router", ++started);
  const std::string config_path = base + ".textproto";
  const std::string stderr_path = base + ".stderr";
  std::ofstream(config_path) << config_text;
  // Everything the child needs is made before fork(): between fork and exec
  // only async-signal-safe calls are allowed.
  const std::string config_flag = "--config=" + config_path;
  std::vector<char*> argv = {const_cast<char*>(binary.c_str()),
                             const_cast<char*>(config_flag.c_str()), nullptr};
  const int out =
      open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) return absl::InternalError("cannot create " + stderr_path);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    // The router dies with the bench, however the bench ends.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    dup2(out, STDOUT_FILENO);
    dup2(out, STDERR_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out);
  if (pid < 0) return absl::InternalError("fork failed");
  std::unique_ptr<BenchRouter> router(new BenchRouter(pid, stderr_path));

  // The router logs "admin listening on port N", then "input NAME ENDPOINT
  // listening" once it serves.
  constexpr absl::string_view kAdmin = "admin listening on port ";
  int admin_port = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  for (;;) {
    const std::string log = ReadWholeFile(stderr_path);
    for (absl::string_view line : absl::StrSplit(log, '\n')) {
      if (const size_t at = line.find(kAdmin); at != absl::string_view::npos) {
        (void)absl::SimpleAtoi(line.substr(at + kAdmin.size()), &admin_port);
      }
      const size_t at = line.find("tcp://");
      if (at != absl::string_view::npos && absl::EndsWith(line, " listening")) {
        const absl::string_view rest = line.substr(at);
        router->endpoint_ = std::string(rest.substr(0, rest.find(' ')));
      }
    }
    if (!router->endpoint_.empty()) break;
    if (Exited(pid)) {
      router->pid_ = -1;
      return absl::InternalError(
          absl::StrCat("the router exited at start:\n", log));
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("the router did not start listening:\n", log));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  if (admin_port == 0) {
    return absl::InternalError("the config has no admin service");
  }
  router->admin_ = v1::Admin::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", admin_port),
                          grpc::InsecureChannelCredentials()));
  return router;
}

BenchRouter::~BenchRouter() { Stop(); }

absl::StatusOr<v1::StatsResponse> BenchRouter::Stats() const {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(10));
  v1::StatsResponse stats;
  const grpc::Status status =
      admin_->Stats(&context, v1::StatsRequest(), &stats);
  if (!status.ok()) {
    return absl::UnavailableError(
        absl::StrCat("router Stats: ", status.error_message()));
  }
  return stats;
}

absl::StatusOr<uint64_t> BenchRouter::Delivered(
    absl::string_view prefix) const {
  absl::StatusOr<v1::StatsResponse> stats = Stats();
  if (!stats.ok()) return stats.status();
  uint64_t delivered = 0;
  for (const v1::SinkStats& sink : stats->sinks()) {
    if (absl::StartsWith(sink.name(), prefix)) delivered += sink.delivered();
  }
  return delivered;
}

absl::StatusOr<uint64_t> BenchRouter::StatusField(
    absl::string_view field) const {
  const std::string status =
      ReadWholeFile(absl::StrCat("/proc/", pid_, "/status"));
  for (absl::string_view line : absl::StrSplit(status, '\n')) {
    if (!absl::ConsumePrefix(&line, field) ||
        !absl::ConsumePrefix(&line, ":")) {
      continue;
    }
    uint64_t kib = 0;
    line = absl::StripAsciiWhitespace(line);
    if (absl::ConsumeSuffix(&line, " kB") && absl::SimpleAtoi(line, &kib)) {
      return kib * 1024;
    }
  }
  return absl::NotFoundError(
      absl::StrCat("no ", field, " in /proc/", pid_, "/status"));
}

absl::StatusOr<uint64_t> BenchRouter::ResidentBytes() const {
  return StatusField("VmRSS");
}

absl::StatusOr<uint64_t> BenchRouter::PeakResidentBytes() const {
  return StatusField("VmHWM");
}

void BenchRouter::Stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (!Exited(pid_)) {
    if (absl::Now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      break;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  pid_ = -1;
}

}  // namespace metlog
