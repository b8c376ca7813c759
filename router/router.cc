// The router's life: checked, created (sinks, then inputs through the
// InputRegistry), started, stopped within the shutdown deadline.
#include "router/router.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "glog/logging.h"
#include "router/input_registry.h"
#include "router/packet_verifier.h"

namespace metlog {

absl::Status Router::Check(const v1::RouterConfig& config) {
  if (auto keys = SignerKeys::Create(config.signers()); !keys.ok()) {
    return keys.status();
  }
  for (const v1::SinkConfig& sink_config : config.sinks()) {
    if (absl::Status status = CheckSink(sink_config); !status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

Router::Router(const v1::RouterConfig& config)
    : config_(config), table_(std::make_shared<const RoutingTable>()) {}

absl::StatusOr<std::unique_ptr<Router>> Router::Create(
    const v1::RouterConfig& config) {
  std::unique_ptr<Router> router(new Router(config));
  auto table = BuildRoutingTable(config, nullptr);
  if (!table.ok()) return table.status();
  {
    absl::MutexLock lock(&router->table_mu_);
    router->table_ = *std::move(table);
  }
  std::shared_ptr<const SignerKeys> keys;
  if (config.signers_size() > 0) {
    auto created = SignerKeys::Create(config.signers());
    if (!created.ok()) return created.status();
    keys = *std::move(created);
  }
  InputEnvironment environment;
  environment.limits = config.limits();
  environment.signer_keys = keys;
  environment.dispatcher = router.get();
  if (!config.admin().listen_address().empty()) {
    environment.admin_publish = &router->admin_publish_;
  }
  for (const v1::InputConfig& input_config : config.inputs()) {
    auto input = InputRegistry::Global().Create(input_config, environment);
    if (!input.ok()) return input.status();
    router->inputs_.push_back(*std::move(input));
  }
  return router;
}

Router::~Router() { Stop(); }

void Router::Start() {
  for (auto& input : inputs_) input->Start();
  uint32_t interval_ms = 0;
  {
    absl::MutexLock lock(&reload_mu_);
    interval_ms = config_.stats_interval_ms();
  }
  if (interval_ms > 0) {
    stats_thread_ = std::thread([this, interval_ms] {
      const absl::Duration interval = absl::Milliseconds(interval_ms);
      while (!stopping_.WaitForNotificationWithTimeout(interval)) {
        ReportStats();
      }
    });
  }
}

uint64_t Router::Stop() {
  // Holding the reload lock keeps a concurrent Reload from swapping sinks
  // (and config_) under the drain.
  absl::MutexLock reload_lock(&reload_mu_);
  if (stopped_) return 0;
  stopped_ = true;
  const absl::Time deadline =
      absl::Now() + absl::Milliseconds(config_.shutdown_deadline_ms());
  const std::shared_ptr<const RoutingTable> routing = table();
  // First bound every wait an input may be in (a BLOCK queue) by the
  // deadline, so that stopping the inputs, which joins them, is bounded.
  for (const Route& route : routing->routes) {
    route.runner->BeginShutdown(deadline);
  }
  {
    absl::MutexLock lock(&retiring_mu_);
    for (const Retiring& retiring : retiring_) {
      retiring.runner->BeginShutdown(deadline);
    }
  }
  for (auto& input : inputs_) input->Stop(deadline);
  stopping_.Notify();
  if (stats_thread_.joinable()) stats_thread_.join();
  {
    absl::MutexLock lock(&tails_mu_);
    for (auto& tail : tails_) tail->Close();
  }
  uint64_t undelivered = 0;
  for (const Route& route : routing->routes) {
    const uint64_t lost = route.runner->Stop(deadline);
    if (lost > 0) {
      LOG(WARNING) << "sink " << route.config.name() << ": " << lost
                   << " messages undelivered at shutdown";
    }
    undelivered += lost;
  }
  // Retirements end by the deadline too (theirs or this one, the nearer).
  for (Retirement& retirement : retirements_) retirement.thread.join();
  retirements_.clear();
  return undelivered;
}

std::shared_ptr<const RoutingTable> Router::table() const {
  absl::MutexLock lock(&table_mu_);
  return table_;
}

void Router::ReopenSinks() {
  for (const Route& route : table()->routes) route.runner->RequestReopen();
}

std::vector<std::string> Router::InputAddresses() const {
  std::vector<std::string> addresses;
  for (const auto& input : inputs_) {
    addresses.push_back(absl::StrCat(input->name(), " ", input->address()));
  }
  return addresses;
}

}  // namespace metlog
