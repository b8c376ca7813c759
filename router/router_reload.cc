// Reload: a new routing table swapped in, replaced sinks drained into
// their old instances in the background.
#include <algorithm>
#include <utility>

#include "absl/time/clock.h"
#include "glog/logging.h"
#include "google/protobuf/util/message_differencer.h"
#include "router/router.h"

namespace metlog {
namespace {

using google::protobuf::util::MessageDifferencer;

// Whether two configs differ in what a reload cannot change.
bool RestartNeeded(const v1::RouterConfig& a, const v1::RouterConfig& b) {
  v1::RouterConfig fixed_a = a, fixed_b = b;
  for (v1::RouterConfig* c : {&fixed_a, &fixed_b}) {
    c->clear_sinks();
    c->clear_shutdown_deadline_ms();
  }
  return !MessageDifferencer::Equals(fixed_a, fixed_b);
}

}  // namespace

absl::Status Router::Reload(const v1::RouterConfig& config) {
  absl::MutexLock reload_lock(&reload_mu_);
  if (stopped_) {
    return absl::FailedPreconditionError(
        "the router is stopping: reload refused");
  }
  if (RestartNeeded(config_, config)) {
    return absl::FailedPreconditionError(
        "inputs, limits, admin or stats_interval_ms changed: those need a "
        "restart; the running config stays");
  }
  std::shared_ptr<const RoutingTable> old_table = table();
  auto new_table = BuildRoutingTable(config, old_table.get());
  if (!new_table.ok()) return new_table.status();
  const absl::Time deadline =
      absl::Now() + absl::Milliseconds(config.shutdown_deadline_ms());
  std::vector<Retiring> retired;
  for (const Route& route : old_table->routes) {
    const auto& now = (*new_table)->routes;
    if (std::none_of(now.begin(), now.end(), [&](const Route& r) {
          return r.runner == route.runner;
        })) {
      retired.push_back({route.config.name(), route.runner});
      // An input blocked on its full queue must not hold the retirement.
      route.runner->BeginShutdown(deadline);
    }
  }
  {
    absl::MutexLock retiring_lock(&retiring_mu_);
    {
      absl::MutexLock lock(&table_mu_);
      table_ = *new_table;
    }
    retiring_.insert(retiring_.end(), retired.begin(), retired.end());
    // Stopped instances whose table is gone can change no more.
    stopped_instances_.erase(
        std::remove_if(stopped_instances_.begin(), stopped_instances_.end(),
                       [this](const Stopped& stopped)
                           ABSL_EXCLUSIVE_LOCKS_REQUIRED(retiring_mu_) {
                             if (!stopped.table.expired()) return false;
                             retired_totals_[stopped.name].AddTotals(
                                 stopped.runner->Stats());
                             return true;
                           }),
        stopped_instances_.end());
  }
  config_ = config;
  LOG(INFO) << "reload: " << (*new_table)->routes.size() << " sinks ("
            << old_table->routes.size() - retired.size()
            << " kept with their queues, " << retired.size() << " retired)";
  // Forget the retirements that have finished.
  retirements_.erase(std::remove_if(retirements_.begin(), retirements_.end(),
                                    [](Retirement& retirement) {
                                      if (!retirement.done->HasBeenNotified())
                                        return false;
                                      retirement.thread.join();
                                      return true;
                                    }),
                     retirements_.end());
  if (!retired.empty()) {
    auto done = std::make_shared<absl::Notification>();
    retirements_.push_back(
        {std::thread([this, old_table = std::move(old_table),
                      retired = std::move(retired), deadline, done]() mutable {
           Retire(std::move(old_table), std::move(retired), deadline);
           done->Notify();
         }),
         done});
  }
  return absl::OkStatus();
}

void Router::Retire(std::shared_ptr<const RoutingTable> old_table,
                    std::vector<Retiring> retired, absl::Time deadline) {
  // Until no Dispatch() call still holds the old table, messages may still
  // reach the retiring instances; they drain them too.
  while (old_table.use_count() > 1 && absl::Now() < deadline &&
         !stopping_.HasBeenNotified()) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  const std::weak_ptr<const RoutingTable> table = old_table;
  old_table.reset();
  for (const Retiring& retiring : retired) {
    if (uint64_t lost = retiring.runner->Stop(deadline); lost > 0) {
      LOG(WARNING) << "reload: sink " << retiring.name << ": " << lost
                   << " messages undelivered while retiring it";
    }
    absl::MutexLock lock(&retiring_mu_);
    stopped_instances_.push_back({retiring.name, retiring.runner, table});
    retiring_.erase(std::find_if(
        retiring_.begin(), retiring_.end(),
        [&](const Retiring& r) { return r.runner == retiring.runner; }));
  }
}

}  // namespace metlog
