#include "tools/testing/router_process.h"

#include <algorithm>
#include <fstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace metlog::testing {

absl::StatusOr<RouterProcess> RouterProcess::Start(
    const std::string& name, const std::string& config_text,
    const std::vector<std::string>& command_prefix) {
  const std::string config_path = TempPath(name + ".textproto");
  std::ofstream(config_path) << config_text;
  std::vector<std::string> argv = command_prefix;
  argv.push_back(Runfile("router/router"));
  argv.push_back(absl::StrCat("--config=", config_path));
  absl::StatusOr<PeerProcess> process = PeerProcess::Start(name, argv);
  if (!process.ok()) return process.status();
  RouterProcess router(*std::move(process));
  // The router logs "admin listening on port N", then "input NAME
  // ENDPOINT listening" per input once it serves.
  constexpr absl::string_view kAdmin = "admin listening on port ";
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  while (absl::Now() < deadline) {
    for (absl::string_view line : absl::StrSplit(router.Stderr(), '\n')) {
      if (const size_t at = line.find(kAdmin); at != absl::string_view::npos) {
        router.admin_address_ =
            absl::StrCat("127.0.0.1:", line.substr(at + kAdmin.size()));
      }
      size_t at = line.find("tcp://");
      if (at == absl::string_view::npos) at = line.find("udp://");
      if (at != absl::string_view::npos &&
          line.find(" listening") != absl::string_view::npos) {
        const absl::string_view rest = line.substr(at);
        router.endpoint_ = std::string(rest.substr(0, rest.find(' ')));
        return router;
      }
    }
    if (!router.process_.Running()) {
      return absl::InternalError(
          absl::StrCat("router exited at start:\n", router.Stderr()));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("router did not start listening:\n", router.Stderr()));
}

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

}  // namespace metlog::testing
