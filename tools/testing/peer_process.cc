#include "tools/testing/peer_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "httplib.h"

extern char** environ;

namespace metlog::testing {
namespace {

int FreePort(int type) {
  const int fd = socket(AF_INET, type, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

int ConnectTcp(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) !=
      0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Whether /proc/net/udp lists a socket bound to port on 127.0.0.1 or any.
bool UdpBound(int port) {
  std::ifstream table("/proc/net/udp");
  std::string line;
  const std::string port_hex =
      absl::AsciiStrToUpper(absl::StrCat(absl::Hex(port, absl::kZeroPad4)));
  while (std::getline(table, line)) {
    std::vector<std::string> columns =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (columns.size() > 1 && (columns[1] == "0100007F:" + port_hex ||
                               columns[1] == "00000000:" + port_hex)) {
      return true;
    }
  }
  return false;
}

}  // namespace

std::string TempPath(const std::string& name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  return absl::StrCat(tmp ? tmp : "/tmp", "/", name);
}

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

int FreeTcpPort() { return FreePort(SOCK_STREAM); }
int FreeUdpPort() { return FreePort(SOCK_DGRAM); }

absl::Status SendLoopbackDatagram(const std::string& endpoint,
                                  absl::string_view datagram) {
  constexpr absl::string_view kPrefix = "udp://127.0.0.1:";
  int port = 0;
  if (!absl::StartsWith(endpoint, kPrefix) ||
      !absl::SimpleAtoi(endpoint.substr(kPrefix.size()), &port) || port <= 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("not udp://127.0.0.1:PORT: ", endpoint));
  }
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return absl::InternalError("socket() failed");
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const ssize_t sent =
      sendto(fd, datagram.data(), datagram.size(), 0,
             reinterpret_cast<const sockaddr*>(&to), sizeof(to));
  close(fd);
  if (sent != static_cast<ssize_t>(datagram.size())) {
    return absl::InternalError(absl::StrCat("sendto ", endpoint, " failed"));
  }
  return absl::OkStatus();
}

absl::StatusOr<PeerProcess> PeerProcess::Start(
    const std::string& name, const std::vector<std::string>& argv) {
  PeerProcess process;
  process.stdout_path_ = TempPath(name + ".stdout");
  process.stderr_path_ = TempPath(name + ".stderr");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO,
                                   process.stdout_path_.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO,
                                   process.stderr_path_.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> args;
  for (const std::string& arg : argv)
    args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const int error = posix_spawn(&process.pid_, argv[0].c_str(), &actions,
                                nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) {
    process.pid_ = -1;
    return absl::InternalError(absl::StrCat("cannot start ", argv[0]));
  }
  return process;
}

PeerProcess::PeerProcess(PeerProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      stdout_path_(std::move(other.stdout_path_)),
      stderr_path_(std::move(other.stderr_path_)) {}

PeerProcess& PeerProcess::operator=(PeerProcess&& other) noexcept {
  if (this != &other) {
    Stop().IgnoreError();
    pid_ = std::exchange(other.pid_, -1);
    stdout_path_ = std::move(other.stdout_path_);
    stderr_path_ = std::move(other.stderr_path_);
  }
  return *this;
}

PeerProcess::~PeerProcess() { Stop(absl::Seconds(5)).IgnoreError(); }

bool PeerProcess::Running() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

std::string PeerProcess::Stdout() const { return ReadFile(stdout_path_); }
std::string PeerProcess::Stderr() const { return ReadFile(stderr_path_); }

absl::StatusOr<int> PeerProcess::Stop(absl::Duration timeout) {
  if (pid_ <= 0) return absl::FailedPreconditionError("not running");
  kill(pid_, SIGTERM);
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (absl::Now() > deadline) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
      return absl::DeadlineExceededError("did not stop after SIGTERM; killed");
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
}

absl::Status WaitForTcpPort(int port, PeerProcess& peer,
                            absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (!peer.Running()) {
      return absl::InternalError(absl::StrCat("exited before listening on ",
                                              port, ":\n", peer.Stdout(),
                                              peer.Stderr()));
    }
    if (const int fd = ConnectTcp(port); fd >= 0) {
      close(fd);
      return absl::OkStatus();
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "nothing listens on ", port, ":\n", peer.Stdout(), peer.Stderr()));
}

absl::Status WaitForUdpPort(int port, PeerProcess& peer,
                            absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (!peer.Running()) {
      return absl::InternalError(absl::StrCat("exited before binding udp ",
                                              port, ":\n", peer.Stdout(),
                                              peer.Stderr()));
    }
    if (UdpBound(port)) return absl::OkStatus();
    absl::SleepFor(absl::Milliseconds(50));
  }
  return absl::DeadlineExceededError(absl::StrCat("udp ", port, " not bound"));
}

absl::StatusOr<std::string> TcpExchange(int port, const std::string& request,
                                        const std::string& end_marker) {
  const int fd = ConnectTcp(port);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("connect ", port));
  timeval timeout{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  if (write(fd, request.data(), request.size()) !=
      static_cast<ssize_t>(request.size())) {
    close(fd);
    return absl::UnavailableError("write");
  }
  std::string response;
  char buffer[4096];
  ssize_t n;
  while (!absl::StrContains(response, end_marker) &&
         (n = read(fd, buffer, sizeof(buffer))) > 0) {
    response.append(buffer, n);
  }
  close(fd);
  return response;
}

absl::StatusOr<std::string> HttpGet(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(5, 0);
  httplib::Result result = client.Get(path.c_str());
  if (!result) {
    return absl::UnavailableError(
        absl::StrCat("GET ", path, ": ", httplib::to_string(result.error())));
  }
  if (result->status != 200) {
    return absl::UnavailableError(absl::StrCat(
        "GET ", path, ": HTTP ", result->status, ": ", result->body));
  }
  return result->body;
}

}  // namespace metlog::testing
