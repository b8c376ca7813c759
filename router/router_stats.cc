// The router's counters (Admin.Stats), and the message about itself it
// routes every stats_interval_ms.
#include <unistd.h>

#include <map>
#include <string>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/envelope/field.h"
#include "client/envelope/uuid.h"
#include "glog/logging.h"
#include "router/router.h"

namespace metlog {
namespace {

void AddCounter(absl::string_view name, uint64_t value, v1::Message* m) {
  *m->add_fields() = MakeField(name, static_cast<int64_t>(value), "count");
}

void FillSinkStats(const std::string& name, const SinkRunnerStats& runner,
                   v1::SinkStats::State state, v1::SinkStats* stats) {
  stats->set_name(name);
  stats->set_state(state);
  stats->set_received(runner.received);
  stats->set_delivered(runner.delivered);
  for (const auto& [reason, count] : runner.dropped) {
    (*stats->mutable_dropped())[reason] = count;
  }
  stats->set_queued(runner.queued);
  stats->set_in_flight(runner.in_flight);
  stats->set_queued_bytes(runner.queued_bytes);
  stats->set_write_errors(runner.write_errors);
  stats->set_last_write_latency_us(
      absl::ToInt64Microseconds(runner.last_write_latency));
  if (runner.has_disk) {
    v1::DiskStats* disk = stats->mutable_disk();
    disk->set_bytes(runner.disk.bytes_on_disk);
    disk->set_records(runner.disk.records_on_disk);
    disk->set_unread(runner.disk.records_unread);
    disk->set_oldest_record_age_ms(
        absl::ToInt64Milliseconds(runner.disk.oldest_record_age));
    disk->set_pending_at_start(runner.disk.pending_at_open);
    disk->set_replayed(runner.disk.replayed);
    disk->set_corrupted_cuts(runner.disk.corrupted_cuts);
    disk->set_corrupted_bytes(runner.disk.corrupted_bytes);
    disk->set_errors(runner.disk.write_errors);
    if (!runner.disk_unavailable.empty()) {
      disk->set_unavailable(runner.disk_unavailable);
    }
  }
}

}  // namespace

v1::StatsResponse Router::Stats() const {
  v1::StatsResponse response;
  for (const auto& input : inputs_) {
    v1::InputStats* stats = response.add_inputs();
    stats->set_name(input->name());
    const InputCounters& counters = input->counters();
    stats->set_packets_received(counters.packets.load());
    stats->set_messages_accepted(counters.accepted.load());
    stats->set_clients_refused(input->clients_refused());
    for (int i = 0; i < static_cast<int>(RejectReason::kCount); ++i) {
      if (const uint64_t n = counters.rejected[i].load(); n > 0) {
        (*stats->mutable_rejected())[std::string(
            RejectReasonName(static_cast<RejectReason>(i)))] = n;
      }
    }
  }
  response.set_unmatched(unmatched_.load(std::memory_order_relaxed));
  response.set_unparseable(SharedPacket::parse_failures());
  response.set_admin_clients_refused(
      admin_clients_refused_->load(std::memory_order_relaxed));
  {
    absl::MutexLock lock(&retiring_mu_);
    std::map<std::string, SinkRunnerStats> removed = retired_totals_;
    for (const Stopped& stopped : stopped_instances_) {
      removed[stopped.name].AddTotals(stopped.runner->Stats());
    }
    for (const Route& route : table()->routes) {
      SinkRunnerStats runner = route.runner->Stats();
      if (auto earlier = removed.find(route.config.name());
          earlier != removed.end()) {
        runner.AddTotals(earlier->second);
        removed.erase(earlier);
      }
      FillSinkStats(route.config.name(), runner, v1::SinkStats::ACTIVE,
                    response.add_sinks());
    }
    for (const Retiring& retiring : retiring_) {
      FillSinkStats(retiring.name, retiring.runner->Stats(),
                    v1::SinkStats::RETIRING, response.add_sinks());
    }
    for (const auto& [name, totals] : removed) {
      FillSinkStats(name, totals, v1::SinkStats::REMOVED, response.add_sinks());
    }
  }
  absl::MutexLock lock(&tails_mu_);
  for (const auto& tail : tails_) *response.add_tails() = tail->Stats();
  return response;
}

void Router::ReportStats() {
  static const std::string hostname = [] {
    char name[256] = {};
    gethostname(name, sizeof(name) - 1);
    return std::string(name);
  }();
  static absl::InsecureBitGen random;
  const v1::StatsResponse stats = Stats();
  v1::Message message;
  message.set_uuid(RandomUuid(random));
  message.set_timestamp(absl::GetCurrentTimeNanos());
  message.set_type("metlog.router.stats");
  message.set_logger("metlog.router");
  message.set_severity(6);
  message.set_hostname(hostname);
  message.set_pid(getpid());
  message.set_env_version("1.0");
  uint64_t delivered = 0, dropped = 0;
  for (const v1::InputStats& input : stats.inputs()) {
    const std::string prefix = absl::StrCat("input.", input.name(), ".");
    AddCounter(prefix + "packets", input.packets_received(), &message);
    AddCounter(prefix + "accepted", input.messages_accepted(), &message);
    if (input.clients_refused() > 0) {
      AddCounter(prefix + "clients_refused", input.clients_refused(), &message);
    }
    for (const auto& [reason, n] : input.rejected()) {
      AddCounter(absl::StrCat(prefix, "rejected.", reason), n, &message);
    }
  }
  AddCounter("unmatched", stats.unmatched(), &message);
  if (stats.admin_clients_refused() > 0) {
    AddCounter("admin.clients_refused", stats.admin_clients_refused(),
               &message);
  }
  for (const v1::SinkStats& sink : stats.sinks()) {
    const std::string prefix = absl::StrCat(
        "sink.", sink.name(), ".",
        sink.state() == v1::SinkStats::RETIRING ? "retiring." : "");
    AddCounter(prefix + "received", sink.received(), &message);
    AddCounter(prefix + "delivered", sink.delivered(), &message);
    AddCounter(prefix + "queued", sink.queued(), &message);
    for (const auto& [reason, n] : sink.dropped()) {
      AddCounter(absl::StrCat(prefix, "dropped.", reason), n, &message);
      dropped += n;
    }
    delivered += sink.delivered();
  }
  message.set_payload(
      absl::StrCat("delivered=", delivered, " dropped=", dropped));
  absl::StatusOr<PacketRef> packet = SharedPacket::FromMessages({message});
  if (!packet.ok()) {
    LOG(DFATAL) << "router stats: " << packet.status();
    return;
  }
  // Not an input's message: a report no sink takes is not "unmatched".
  RouteMessages({*std::move(packet)}, /*signer=*/"", /*count_unmatched=*/false);
}

}  // namespace metlog
