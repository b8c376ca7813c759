// Runs the real //router binary for a test: writes its config, starts it,
// learns the endpoints it bound (configs use port "*" or 0), captures its
// output, and stops it with SIGTERM.
#ifndef METLOG_TOOLS_TESTING_ROUTER_PROCESS_H_
#define METLOG_TOOLS_TESTING_ROUTER_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "tools/testing/peer_process.h"

namespace metlog::testing {

class RouterProcess {
 public:
  // Starts the router with `config_text` (a RouterConfig text proto) and
  // waits until its inputs listen. Configs should bind port "*"/0 for
  // inputs and "127.0.0.1:0" for admin, so parallel tests never collide.
  // Output goes to files in $TEST_TMPDIR named after `name`. A non-empty
  // `command_prefix` runs the router through it (e.g. `unshare ... sh -c`,
  // which must exec the router so pid() stays the router's).
  static absl::StatusOr<RouterProcess> Start(
      const std::string& name, const std::string& config_text,
      const std::vector<std::string>& command_prefix = {});

  // The first input's endpoint, e.g. tcp://127.0.0.1:40123 or
  // udp://127.0.0.1:40124.
  const std::string& endpoint() const { return endpoint_; }
  // The admin service's host:port, when the config enables it.
  const std::string& admin_address() const { return admin_address_; }
  pid_t pid() const { return process_.pid(); }

  std::string Stdout() const { return process_.Stdout(); }
  std::string Stderr() const { return process_.Stderr(); }

  // Waits until stdout holds at least `lines` lines, or the timeout.
  bool WaitForStdoutLines(int lines, absl::Duration timeout) const;

  // SIGTERM, then waits; returns the exit status (or an error on timeout).
  absl::StatusOr<int> Stop(absl::Duration timeout = absl::Seconds(10)) {
    return process_.Stop(timeout);
  }

 private:
  explicit RouterProcess(PeerProcess process) : process_(std::move(process)) {}

  PeerProcess process_;
  std::string endpoint_;
  std::string admin_address_;
};

}  // namespace metlog::testing

#endif  // METLOG_TOOLS_TESTING_ROUTER_PROCESS_H_
