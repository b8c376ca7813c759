// Starts real servers (and the router) for tests: a child process with its
// output in $TEST_TMPDIR, stopped with SIGTERM (then SIGKILL) when the
// handle goes away; plus free loopback ports and readiness checks.
#ifndef METLOG_TOOLS_TESTING_PEER_PROCESS_H_
#define METLOG_TOOLS_TESTING_PEER_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace metlog::testing {

class PeerProcess {
 public:
  // Runs argv[0] (an absolute path) with argv; stdout and stderr go to
  // $TEST_TMPDIR/<name>.stdout and .stderr.
  static absl::StatusOr<PeerProcess> Start(
      const std::string& name, const std::vector<std::string>& argv);

  PeerProcess(PeerProcess&& other) noexcept;
  PeerProcess& operator=(PeerProcess&& other) noexcept;
  ~PeerProcess();

  bool Running();
  pid_t pid() const { return pid_; }
  std::string Stdout() const;
  std::string Stderr() const;

  // SIGTERM, then waits up to `timeout` (SIGKILL after); returns the exit
  // status, or 128 + signal.
  absl::StatusOr<int> Stop(absl::Duration timeout = absl::Seconds(10));

 private:
  PeerProcess() = default;

  pid_t pid_ = -1;
  std::string stdout_path_;
  std::string stderr_path_;
};

// $TEST_TMPDIR (or /tmp) joined with `name`.
std::string TempPath(const std::string& name);

// Path of a runfile given its workspace-relative path, e.g. "router/router".
std::string Runfile(const std::string& path);

// Whole contents of a file ("" when it cannot be read).
std::string ReadFile(const std::string& path);

// A loopback port free right now (bound to 0 and released).
int FreeTcpPort();
int FreeUdpPort();

// Sends one datagram to `endpoint`, "udp://127.0.0.1:PORT" as a router logs
// its UDP inputs; an error when the endpoint is not that or the send fails.
absl::Status SendLoopbackDatagram(const std::string& endpoint,
                                  absl::string_view datagram);

// Waits until `port` accepts TCP connections on 127.0.0.1, or the peer dies,
// or the timeout passes.
absl::Status WaitForTcpPort(int port, PeerProcess& peer,
                            absl::Duration timeout = absl::Seconds(20));

// Waits until a UDP socket is bound to 127.0.0.1:`port` (a datagram sent
// earlier would be lost).
absl::Status WaitForUdpPort(int port, PeerProcess& peer,
                            absl::Duration timeout = absl::Seconds(20));

// Sends `request` over TCP to 127.0.0.1:`port` and returns what comes back
// until the server closes or `end_marker` arrives.
absl::StatusOr<std::string> TcpExchange(int port, const std::string& request,
                                        const std::string& end_marker);

// GET http://127.0.0.1:`port``path`; the body, or an error for non-200.
absl::StatusOr<std::string> HttpGet(int port, const std::string& path);

}  // namespace metlog::testing

#endif  // METLOG_TOOLS_TESTING_PEER_PROCESS_H_
