#include "integration_tests/router_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

extern char** environ;

namespace metlog::testing {

std::string Runfile(const std::string& path) {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  return absl::StrCat(srcdir ? srcdir : ".", "/",
                      workspace ? workspace : "metlog", "/", path);
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

absl::StatusOr<RouterProcess> RouterProcess::Start(
    const std::string& name, const std::string& config_text) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = tmp ? tmp : "/tmp";
  const std::string config_path = absl::StrCat(dir, "/", name, ".textproto");
  std::ofstream(config_path) << config_text;

  RouterProcess process;
  process.stdout_path_ = absl::StrCat(dir, "/", name, ".stdout");
  process.stderr_path_ = absl::StrCat(dir, "/", name, ".stderr");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO,
                                   process.stdout_path_.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO,
                                   process.stderr_path_.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const std::string binary = Runfile("router/router");
  const std::string config_flag = absl::StrCat("--config=", config_path);
  char* argv[] = {const_cast<char*>(binary.c_str()),
                  const_cast<char*>(config_flag.c_str()), nullptr};
  const int error = posix_spawn(&process.pid_, binary.c_str(), &actions,
                                nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) {
    return absl::InternalError(absl::StrCat("cannot start ", binary));
  }
  // The router logs "admin listening on port N", then "input NAME
  // ENDPOINT listening" per input once it serves.
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  while (absl::Now() < deadline) {
    for (absl::string_view line : absl::StrSplit(process.Stderr(), '\n')) {
      if (const size_t at = line.find("admin listening on port ");
          at != absl::string_view::npos) {
        process.admin_address_ = absl::StrCat(
            "127.0.0.1:", line.substr(at + strlen("admin listening on port ")));
      }
      size_t at = line.find("tcp://");
      if (at == absl::string_view::npos) at = line.find("udp://");
      if (at != absl::string_view::npos &&
          line.find(" listening") != absl::string_view::npos) {
        const absl::string_view rest = line.substr(at);
        process.endpoint_ = std::string(rest.substr(0, rest.find(' ')));
        return process;
      }
    }
    int status = 0;
    if (waitpid(process.pid_, &status, WNOHANG) == process.pid_) {
      process.pid_ = -1;
      return absl::InternalError(
          absl::StrCat("router exited at start:\n", process.Stderr()));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("router did not start listening:\n", process.Stderr()));
}

RouterProcess::RouterProcess(RouterProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      stdout_path_(std::move(other.stdout_path_)),
      stderr_path_(std::move(other.stderr_path_)),
      endpoint_(std::move(other.endpoint_)),
      admin_address_(std::move(other.admin_address_)) {}

RouterProcess::~RouterProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

std::string RouterProcess::Stdout() const { return ReadFile(stdout_path_); }
std::string RouterProcess::Stderr() const { return ReadFile(stderr_path_); }

bool RouterProcess::WaitForStdoutLines(int lines,
                                       absl::Duration timeout) const {
  const absl::Time deadline = absl::Now() + timeout;
  do {
    const std::string out = Stdout();
    if (std::count(out.begin(), out.end(), '\n') >= lines) return true;
    absl::SleepFor(absl::Milliseconds(20));
  } while (absl::Now() < deadline);
  return false;
}

absl::StatusOr<int> RouterProcess::Stop(absl::Duration timeout) {
  if (pid_ <= 0) return absl::FailedPreconditionError("router not running");
  kill(pid_, SIGTERM);
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError("router did not stop after SIGTERM");
}

}  // namespace metlog::testing
