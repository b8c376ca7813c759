// The Metlog router: `router [--config=FILE] [--check]`.
#include <signal.h>

#include <cstdio>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "glog/logging.h"
#include "router/config_loader.h"
#include "router/router.h"

ABSL_FLAG(std::string, config, "",
          "Router config (text proto). Empty: the embedded default, ZeroMQ "
          "on tcp://127.0.0.1:5565 and a console sink.");
ABSL_FLAG(bool, check, false,
          "Validate the config (parse, matchers, sink options), print what "
          "is wrong by line and column, and exit: 0 valid, 1 not.");

namespace metlog {
namespace {

absl::StatusOr<v1::RouterConfig> ReadConfig() {
  const std::string path = absl::GetFlag(FLAGS_config);
  if (path.empty()) return DefaultRouterConfig();
  return LoadRouterConfig(path);
}

int Run() {
  absl::StatusOr<v1::RouterConfig> config = ReadConfig();
  if (!config.ok()) {
    std::cerr << "router: " << config.status().message() << "\n";
    return 1;
  }
  if (absl::GetFlag(FLAGS_check)) {
    absl::Status status = Router::Check(*config);
    if (!status.ok()) {
      std::cerr << "router: " << status.message() << "\n";
      return 1;
    }
    std::cout << "config OK: " << config->inputs_size() << " inputs, "
              << config->sinks_size() << " sinks\n";
    return 0;
  }

  // Signals are taken synchronously by this thread; every thread started
  // below inherits the mask, so none is interrupted.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  absl::StatusOr<std::unique_ptr<Router>> router = Router::Create(*config);
  if (!router.ok()) {
    std::cerr << "router: " << router.status().message() << "\n";
    return 1;
  }
  (*router)->Start();
  for (const std::string& address : (*router)->InputAddresses()) {
    LOG(INFO) << "input " << address << " listening";
  }
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  LOG(INFO) << "signal " << signal_number << ": stopping";
  const uint64_t undelivered = (*router)->Stop();
  LOG(INFO) << "stopped; " << undelivered << " messages undelivered";
  return 0;
}

}  // namespace
}  // namespace metlog

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Metlog router: receives messages and fans them out to sinks.\n"
      "  router [--config=router.textproto] [--check]");
  absl::ParseCommandLine(argc, argv);
  FLAGS_logtostderr = true;
  google::InitGoogleLogging(argv[0]);
  return metlog::Run();
}
