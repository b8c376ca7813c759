#include "router/router.h"

#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/field.h"
#include "client/uuid.h"
#include "glog/logging.h"
#include "google/protobuf/util/message_differencer.h"
#include "router/inputs/heka/heka_input.h"
#include "router/inputs/metlog_json/metlog_json_decoder.h"
#include "router/inputs/statsd/statsd_decoder.h"
#include "router/packet_verifier.h"
#include "router/udp_input.h"
#include "router/zmq_input.h"
#include "sinks/sink.h"

namespace metlog {
namespace {

using google::protobuf::util::MessageDifferencer;

struct CompiledSink {
  std::shared_ptr<const Matcher> matcher;
  std::unique_ptr<Sink> sink;
};

// Compiles the match expression and creates the (not yet started) sink.
absl::StatusOr<CompiledSink> CompileSink(const v1::SinkConfig& config) {
  absl::StatusOr<Matcher> matcher = Matcher::Compile(config.match());
  if (!matcher.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("sink \"", config.name(), "\": match \"", config.match(),
                     "\": ", matcher.status().message()));
  }
  absl::StatusOr<std::unique_ptr<Sink>> sink =
      SinkRegistry::Global().Create(config.options());
  if (!sink.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "sink \"", config.name(), "\": ", sink.status().message()));
  }
  return CompiledSink{std::make_shared<const Matcher>(*std::move(matcher)),
                      *std::move(sink)};
}

absl::StatusOr<std::unique_ptr<Input>> CreateInput(
    const v1::InputConfig& config, const v1::LimitsConfig& limits,
    const std::shared_ptr<const SignerKeys>& keys, Dispatcher* dispatcher) {
  std::shared_ptr<const PacketVerifier> verifier;
  if (config.require_signature() || keys != nullptr) {
    verifier =
        std::make_shared<PacketVerifier>(keys, config.require_signature());
  }
  switch (config.kind_case()) {
    case v1::InputConfig::kZmq: {
      auto input =
          ZmqInput::Create(config.name().empty() ? "zmq" : config.name(),
                           config.zmq(), limits, verifier, dispatcher);
      if (!input.ok()) return input.status();
      return std::unique_ptr<Input>(*std::move(input));
    }
    case v1::InputConfig::kUdp: {
      auto input =
          UdpInput::Create(config.name().empty() ? "udp" : config.name(),
                           config.udp(), limits, verifier, dispatcher);
      if (!input.ok()) return input.status();
      return std::unique_ptr<Input>(*std::move(input));
    }
    case v1::InputConfig::kStatsd: {
      std::vector<std::unique_ptr<DatagramDecoder>> decoders;
      for (uint32_t i = 0; i < config.statsd().reader_threads(); ++i) {
        decoders.push_back(std::make_unique<StatsdDecoder>(limits));
      }
      return UdpInput::Create(config.name().empty() ? "statsd" : config.name(),
                              config.statsd().address(),
                              config.statsd().receive_buffer_bytes(),
                              std::move(decoders), dispatcher);
    }
    case v1::InputConfig::kMetlogJson:
      return UdpInput::Create(
          config.name().empty() ? "metlog_json" : config.name(),
          config.metlog_json().address(),
          config.metlog_json().receive_buffer_bytes(),
          std::make_unique<MetlogJsonDecoder>(limits), dispatcher);
    case v1::InputConfig::kHeka: {
      auto input = HekaInput::Create(
          config.name().empty() ? "heka" : config.name(), config.heka(), limits,
          keys, config.require_signature(), dispatcher);
      if (!input.ok()) return input.status();
      return std::unique_ptr<Input>(*std::move(input));
    }
    case v1::InputConfig::KIND_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("input \"", config.name(), "\" names no kind"));
}

// Whether two configs differ in what a reload cannot change.
bool RestartNeeded(const v1::RouterConfig& a, const v1::RouterConfig& b) {
  v1::RouterConfig fixed_a = a, fixed_b = b;
  for (v1::RouterConfig* c : {&fixed_a, &fixed_b}) {
    c->clear_sinks();
    c->clear_shutdown_deadline_ms();
  }
  return !MessageDifferencer::Equals(fixed_a, fixed_b);
}

void AddCounter(absl::string_view name, uint64_t value, v1::Message* m) {
  *m->add_fields() = MakeField(name, static_cast<int64_t>(value), "count");
}

}  // namespace

absl::Status Router::Check(const v1::RouterConfig& config) {
  if (auto keys = SignerKeys::Create(config.signers()); !keys.ok()) {
    return keys.status();
  }
  for (const v1::SinkConfig& sink_config : config.sinks()) {
    if (absl::StatusOr<CompiledSink> compiled = CompileSink(sink_config);
        !compiled.ok()) {
      return compiled.status();
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const Router::RoutingTable>> Router::BuildTable(
    const v1::RouterConfig& config, const RoutingTable* current) {
  auto table = std::make_shared<RoutingTable>();
  for (const v1::SinkConfig& sink_config : config.sinks()) {
    const Route* kept = nullptr;
    if (current != nullptr) {
      for (const Route& route : current->routes) {
        if (MessageDifferencer::Equals(route.config, sink_config)) {
          kept = &route;
        }
      }
    }
    if (kept != nullptr) {
      table->routes.push_back(*kept);
      continue;
    }
    absl::StatusOr<CompiledSink> compiled = CompileSink(sink_config);
    if (!compiled.ok()) return compiled.status();
    auto runner = std::make_shared<SinkRunner>(
        sink_config.name(), std::move(compiled->sink), sink_config.queue());
    if (absl::Status status = runner->Start(); !status.ok()) return status;
    table->routes.push_back(
        {sink_config, std::move(compiled->matcher), std::move(runner)});
  }
  return table;
}

Router::Router(const v1::RouterConfig& config)
    : config_(config), table_(std::make_shared<const RoutingTable>()) {}

absl::StatusOr<std::unique_ptr<Router>> Router::Create(
    const v1::RouterConfig& config) {
  std::unique_ptr<Router> router(new Router(config));
  auto table = BuildTable(config, nullptr);
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
  for (const v1::InputConfig& input_config : config.inputs()) {
    auto input = CreateInput(input_config, config.limits(), keys, router.get());
    if (!input.ok()) return input.status();
    router->inputs_.push_back(*std::move(input));
  }
  return router;
}

Router::~Router() { Stop(); }

void Router::AddInput(std::unique_ptr<Input> input) {
  inputs_.push_back(std::move(input));
}

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

std::shared_ptr<const Router::RoutingTable> Router::table() const {
  absl::MutexLock lock(&table_mu_);
  return table_;
}

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
  auto new_table = BuildTable(config, old_table.get());
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

void Router::ReopenSinks() {
  for (const Route& route : table()->routes) route.runner->RequestReopen();
}

uint64_t Router::Dispatch(absl::Span<const PacketRef> packets,
                          absl::string_view signer) {
  return RouteMessages(packets, signer, /*count_unmatched=*/true);
}

uint64_t Router::RouteMessages(absl::Span<const PacketRef> packets,
                               absl::string_view signer, bool count_unmatched) {
  const std::shared_ptr<const RoutingTable> routing = table();
  uint64_t refused = 0;
  // Reused by each input thread: an allocation per group costs more than
  // matching a small one.
  thread_local std::vector<MessageRef> matched;
  // Per message of the group, in order: whether any sink took it.
  thread_local std::vector<uint8_t> taken;
  if (count_unmatched) {
    size_t messages = 0;
    for (const PacketRef& packet : packets) messages += packet->size();
    taken.assign(messages, 0);
  }
  for (const Route& route : routing->routes) {
    if (!route.config.signers().empty() &&
        std::find(route.config.signers().begin(), route.config.signers().end(),
                  signer) == route.config.signers().end()) {
      continue;
    }
    matched.clear();
    size_t index = 0;
    for (const PacketRef& packet : packets) {
      const size_t before = matched.size();
      for (uint32_t i = 0; i < packet->size(); ++i, ++index) {
        const MessageRef message(packet.get(), i);
        if (route.matcher->Matches(message)) {
          matched.push_back(message);
          if (count_unmatched) taken[index] = 1;
        }
      }
      if (const size_t n = matched.size() - before; n > 0) {
        // One atomic step for all of this sink's references to the packet.
        packet->Retain(static_cast<uint32_t>(n));
        // Parsed here, while its bytes are in this core's cache, and on a
        // thread decode_threads can multiply.
        if (route.runner->reads_messages()) packet->Parse();
      }
    }
    if (!matched.empty()) {
      refused += route.runner->Enqueue(absl::MakeConstSpan(matched));
    }
  }
  if (count_unmatched) {
    if (const auto n = std::count(taken.begin(), taken.end(), 0); n > 0) {
      unmatched_.fetch_add(n, std::memory_order_relaxed);
    }
  }
  if (tail_count_.load(std::memory_order_relaxed) > 0) {
    absl::MutexLock lock(&tails_mu_);
    for (const auto& tail : tails_) {
      for (const PacketRef& packet : packets) {
        for (uint32_t i = 0; i < packet->size(); ++i) {
          tail->Offer(MessageRef(packet.get(), i));
        }
      }
    }
  }
  return refused;
}

std::shared_ptr<Tail> Router::AddTail(std::string match, Matcher matcher,
                                      TailBounds bounds) {
  auto tail =
      std::make_shared<Tail>(std::move(match), std::move(matcher), bounds);
  absl::MutexLock lock(&tails_mu_);
  tails_.push_back(tail);
  tail_count_.store(static_cast<int>(tails_.size()));
  return tail;
}

void Router::RemoveTail(const std::shared_ptr<Tail>& tail) {
  absl::MutexLock lock(&tails_mu_);
  tails_.erase(std::remove(tails_.begin(), tails_.end(), tail), tails_.end());
  tail_count_.store(static_cast<int>(tails_.size()));
}

namespace {

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
    for (int i = 0; i < static_cast<int>(RejectReason::kCount); ++i) {
      if (const uint64_t n = counters.rejected[i].load(); n > 0) {
        (*stats->mutable_rejected())[std::string(
            RejectReasonName(static_cast<RejectReason>(i)))] = n;
      }
    }
  }
  response.set_unmatched(unmatched_.load(std::memory_order_relaxed));
  response.set_unparseable(PacketMessages::parse_failures());
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
    for (const auto& [reason, n] : input.rejected()) {
      AddCounter(absl::StrCat(prefix, "rejected.", reason), n, &message);
    }
  }
  AddCounter("unmatched", stats.unmatched(), &message);
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
  absl::StatusOr<PacketRef> packet = PacketMessages::FromMessages({message});
  if (!packet.ok()) {
    LOG(DFATAL) << "router stats: " << packet.status();
    return;
  }
  // Not an input's message: a report no sink takes is not "unmatched".
  RouteMessages({*std::move(packet)}, /*signer=*/"", /*count_unmatched=*/false);
}

std::vector<std::string> Router::InputAddresses() const {
  std::vector<std::string> addresses;
  for (const auto& input : inputs_) {
    addresses.push_back(absl::StrCat(input->name(), " ", input->address()));
  }
  return addresses;
}

}  // namespace metlog
