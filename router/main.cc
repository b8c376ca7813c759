// The Metlog router: `router [--config=FILE] [--check]`.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "glog/logging.h"
#include "router/admin_service.h"
#include "router/config_loader.h"
#include "router/grpc_tls.h"
#include "router/input_exposure.h"
#include "router/protobuf_log.h"
#include "router/router.h"

ABSL_FLAG(std::string, config, "",
          "Router config (text proto). Empty: the embedded default, ZeroMQ "
          "on tcp://127.0.0.1:5565, admin (with Publish) on 127.0.0.1:5566, "
          "a console sink and a file sink (metlog.jsonl in the working "
          "directory).");
ABSL_FLAG(bool, check, false,
          "Validate the config (parse, matchers, input and sink options), "
          "print what is wrong by line and column, and exit: 0 valid, 1 not.");

namespace metlog {
namespace {

absl::StatusOr<v1::RouterConfig> ReadConfig() {
  const std::string path = absl::GetFlag(FLAGS_config);
  if (path.empty()) return DefaultRouterConfig();
  return LoadRouterConfig(path);
}

// Re-reads the config file and applies it; the embedded default has nothing
// to re-read. `shutdown_deadline_ms` follows the applied config.
absl::Status ReloadFromFile(Router& router,
                            std::atomic<uint32_t>& shutdown_deadline_ms) {
  absl::StatusOr<v1::RouterConfig> config = ReadConfig();
  if (!config.ok()) return config.status();
  if (absl::Status status = Router::Check(*config); !status.ok()) {
    return status;
  }
  if (absl::Status status = router.Reload(*config); !status.ok()) {
    return status;
  }
  shutdown_deadline_ms.store(config->shutdown_deadline_ms());
  return absl::OkStatus();
}

int Run() {
  absl::StatusOr<v1::RouterConfig> config = ReadConfig();
  // Start-up refuses exactly what --check refuses, before anything starts.
  if (config.ok()) {
    if (absl::Status status = Router::Check(*config); !status.ok()) {
      config = status;
    }
  }
  if (!config.ok()) {
    std::cerr << "router: " << config.status().message() << "\n";
    return 1;
  }
  for (const std::string& warning : ExposedInputWarnings(*config)) {
    if (absl::GetFlag(FLAGS_check)) {
      std::cerr << "router: warning: " << warning << "\n";
    } else {
      LOG(WARNING) << warning;
    }
  }
  if (absl::GetFlag(FLAGS_check)) {
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
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  absl::StatusOr<std::unique_ptr<Router>> created = Router::Create(*config);
  if (!created.ok()) {
    std::cerr << "router: " << created.status().message() << "\n";
    return 1;
  }
  Router& router = **created;
  std::atomic<uint32_t> shutdown_deadline_ms(config->shutdown_deadline_ms());
  AdminService admin(&router, [&router, &shutdown_deadline_ms] {
    return ReloadFromFile(router, shutdown_deadline_ms);
  });
  std::unique_ptr<grpc::Server> admin_server;
  if (!config->admin().listen_address().empty()) {
    auto credentials =
        AdminServerCredentials(config->admin(), router.admin_clients_refused());
    if (!credentials.ok()) {
      std::cerr << "router: " << credentials.status().message() << "\n";
      return 1;
    }
    int port = 0;
    auto server = StartAdminServer(config->admin().listen_address(),
                                   *std::move(credentials), &admin, &port);
    if (!server.ok()) {
      std::cerr << "router: " << server.status().message() << "\n";
      return 1;
    }
    admin_server = *std::move(server);
    LOG(INFO) << "admin listening on port " << port;
  }
  router.Start();
  for (const std::string& address : router.InputAddresses()) {
    LOG(INFO) << "input " << address << " listening";
  }

  for (;;) {
    int signal_number = 0;
    sigwait(&signals, &signal_number);
    if (signal_number != SIGHUP) break;
    if (absl::Status status = ReloadFromFile(router, shutdown_deadline_ms);
        !status.ok()) {
      LOG(ERROR) << "SIGHUP: config rejected, the running one stays: "
                 << status;
    }
    router.ReopenSinks();
  }
  LOG(INFO) << "stopping: inputs closed, draining sinks";
  const absl::Time deadline =
      absl::Now() + absl::Milliseconds(shutdown_deadline_ms.load());
  admin.SetDraining();
  const uint64_t undelivered = router.Stop();
  // Without a deadline gRPC waits for every call still open (it took 10 s
  // with a client that had published); past it, they are cancelled.
  if (admin_server != nullptr) {
    admin_server->Shutdown(absl::ToChronoTime(deadline));
  }
  LOG(INFO) << "stopped; " << undelivered << " messages undelivered";
  return 0;
}

}  // namespace
}  // namespace metlog

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Metlog router: receives messages and fans them out to sinks.\n"
      "  router [--config=router.textproto] [--check]\n"
      "SIGHUP re-reads the config and reopens sink files; SIGTERM/SIGINT "
      "drain and stop.");
  absl::ParseCommandLine(argc, argv);
  // A peer that goes away mid-write (a Prometheus scrape reset, `router |
  // head -1` closing stdout) must cost that write an EPIPE error, not kill
  // the process and everything its queues hold.
  signal(SIGPIPE, SIG_IGN);
  // Debian builds Abseil with its debug checks on; their deadlock detector
  // takes a global lock on every Mutex acquisition.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // Under `bazel run`, relative paths (--config, file sinks) mean the
  // directory the command was typed in, not Bazel's runfiles tree.
  if (const char* dir = std::getenv("BUILD_WORKING_DIRECTORY");
      dir != nullptr && chdir(dir) != 0) {
    std::cerr << "router: cannot enter " << dir << "\n";
    return 1;
  }
  FLAGS_logtostderr = true;
  google::InitGoogleLogging(argv[0]);
  metlog::RateLimitProtobufLogs();
  return metlog::Run();
}
