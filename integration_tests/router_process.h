// Runs the real //router binary for a test: writes its config, starts it,
// learns the endpoint it bound (configs use port "*"), captures its output,
// and stops it with SIGTERM.
#ifndef METLOG_INTEGRATION_TESTS_ROUTER_PROCESS_H_
#define METLOG_INTEGRATION_TESTS_ROUTER_PROCESS_H_

#include <sys/types.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace metlog::testing {

class RouterProcess {
 public:
  // Starts the router with `config_text` (a RouterConfig text proto) and
  // waits until its inputs listen. Configs should bind port "*"/0 for
  // inputs and "127.0.0.1:0" for admin, so parallel tests never collide. Output goes to files in
  // $TEST_TMPDIR named after `name`.
  static absl::StatusOr<RouterProcess> Start(const std::string& name,
                                             const std::string& config_text);

  RouterProcess(RouterProcess&& other) noexcept;
  RouterProcess& operator=(RouterProcess&&) = delete;
  // Kills the router if the test did not stop it.
  ~RouterProcess();

  // The first input's endpoint, e.g. tcp://127.0.0.1:40123 or
  // udp://127.0.0.1:40124.
  const std::string& endpoint() const { return endpoint_; }
  // The admin service's host:port, when the config enables it.
  const std::string& admin_address() const { return admin_address_; }
  pid_t pid() const { return pid_; }

  std::string Stdout() const;
  std::string Stderr() const;

  // Waits until stdout holds at least `lines` lines, or the timeout.
  bool WaitForStdoutLines(int lines, absl::Duration timeout) const;

  // SIGTERM, then waits; returns the exit status (or an error on timeout).
  absl::StatusOr<int> Stop(absl::Duration timeout = absl::Seconds(10));

 private:
  RouterProcess() = default;

  pid_t pid_ = -1;
  std::string stdout_path_;
  std::string stderr_path_;
  std::string endpoint_;
  std::string admin_address_;
};

// Path of a runfile given its workspace-relative path, e.g. "router/router".
std::string Runfile(const std::string& path);

// Whole contents of a file ("" when it cannot be read).
std::string ReadFile(const std::string& path);

}  // namespace metlog::testing

#endif  // METLOG_INTEGRATION_TESTS_ROUTER_PROCESS_H_
