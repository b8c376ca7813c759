#include "client/metlog.h"

#include <cxxabi.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <typeinfo>

#include "absl/base/attributes.h"
#include "absl/container/flat_hash_map.h"
#include "absl/random/random.h"
#include "client/fork_observer.h"
#include "client/fork_safe_clock.h"
#include "client/stack_trace.h"

namespace metlog {
namespace {

std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "";
  return name;
}

std::string Demangle(const char* mangled) {
  int status = 0;
  char* readable = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string name = status == 0 && readable != nullptr ? readable : mangled;
  std::free(readable);
  return name;
}

absl::string_view TypeOf(PendingMessage::Kind kind) {
  switch (kind) {
    case PendingMessage::Kind::kCounter:
      return "counter";
    case PendingMessage::Kind::kTimer:
      return "timer";
    case PendingMessage::Kind::kHistogram:
      return "histogram";
    case PendingMessage::Kind::kGauge:
      return "gauge";
    case PendingMessage::Kind::kLog:
      return "log";
    case PendingMessage::Kind::kFull:
      break;
  }
  return "";
}

// Stands in for a sender that could not be made: drops and counts.
class NoSender : public Sender {
 public:
  void Send(PendingMessage&&) override {
    dropped_.fetch_add(1, std::memory_order_relaxed);
  }
  bool Flush(absl::Duration) override { return true; }
  bool Shutdown(absl::Duration) override { return true; }
  SenderStats Stats() const override {
    SenderStats stats;
    stats.dropped_no_sender = dropped_.load(std::memory_order_relaxed);
    return stats;
  }

 private:
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace

// What a Client owns, shared with its ScopedTimers (weakly), so that a timer
// that outlives the client finds it gone instead of dangling.
struct ClientCore : private ForkObserver {
  ClientCore(std::unique_ptr<Sender> sender_in, absl::Status status_in,
             std::string logger, int32_t severity, MessageFilter filter_in)
      : origin{std::move(logger), HostName(), static_cast<int32_t>(getpid()),
               Client::ClampSeverity(severity)},
        filter(std::move(filter_in)),
        status(std::move(status_in)),
        sender(sender_in != nullptr ? std::move(sender_in)
                                    : std::make_unique<NoSender>()) {
    RegisterForkObserver(this);
  }
  ~ClientCore() override { UnregisterForkObserver(this); }

  bool Admit(absl::string_view type, int32_t severity) {
    if (filter.Allows(type, severity)) return true;
    filtered.fetch_add(1, std::memory_order_relaxed);
    return false;
  }

  // Applies sampling (and counts what it skips); `rate` is clamped to 1.
  bool Sampled(double& rate) {
    if (rate >= 1.0) {
      rate = 1.0;
      return true;
    }
    if (std::isnan(rate)) {
      invalid.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    thread_local absl::InsecureBitGen random;
    if (rate > 0 && absl::Bernoulli(random, rate)) return true;
    sampled_out.fetch_add(1, std::memory_order_relaxed);
    return false;
  }

  void SendMetric(PendingMessage::Kind kind, absl::string_view name,
                  int64_t count, double value, double rate,
                  std::unique_ptr<MetricExtras> extras) {
    const int32_t severity = extras != nullptr && extras->severity >= 0
                                 ? extras->severity
                                 : origin.severity;
    if (!Admit(TypeOf(kind), severity)) return;
    if (kind != PendingMessage::Kind::kCounter && !std::isfinite(value)) {
      invalid.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (kind != PendingMessage::Kind::kGauge && !Sampled(rate)) return;
    Enqueue(kind, name, count, value, rate, std::move(extras));
  }

  // The plain counter, the most frequent call: no fields, no overrides.
  void SendCounter(absl::string_view name, int64_t count, double rate) {
    if (!Admit("counter", origin.severity) || !Sampled(rate)) return;
    Enqueue(PendingMessage::Kind::kCounter, name, count, 0, rate, nullptr);
  }

  void Enqueue(PendingMessage::Kind kind, absl::string_view name, int64_t count,
               double value, double rate,
               std::unique_ptr<MetricExtras> extras) {
    PendingMessage pending;
    pending.kind = kind;
    pending.origin = &origin;
    pending.timestamp_ns = WallNanos();
    pending.text.assign(name.data(), name.size());
    if (kind == PendingMessage::Kind::kCounter) {
      pending.count = count;
    } else {
      pending.value = value;
    }
    pending.rate = rate;
    pending.extras = std::move(extras);
    sender->Send(std::move(pending));
  }

  // A log line: its payload travels in the pending message itself.
  void SendLog(int32_t severity, std::string payload) {
    PendingMessage pending;
    pending.kind = PendingMessage::Kind::kLog;
    pending.severity = static_cast<int8_t>(severity);
    pending.origin = &origin;
    pending.timestamp_ns = WallNanos();
    pending.text = std::move(payload);
    sender->Send(std::move(pending));
  }

  void SendMessage(std::unique_ptr<v1::Message> message,
                   std::unique_ptr<RawStackTrace> stack = nullptr,
                   std::unique_ptr<MetricExtras> extras = nullptr) {
    // What the router would refuse whole (a field without a name, which no
    // matcher could name) is refused here, counted; what has one right
    // value is set to it (a uuid is 16 bytes or made here, severity 0..7).
    for (const v1::Field& field : message->fields()) {
      if (field.name().empty()) {
        invalid.fetch_add(1, std::memory_order_relaxed);
        return;
      }
    }
    if (message->has_uuid() && message->uuid().size() != 16) {
      message->clear_uuid();
    }
    if (message->has_severity()) {
      message->set_severity(Client::ClampSeverity(message->severity()));
    }
    PendingMessage pending;
    pending.origin = &origin;
    pending.timestamp_ns = WallNanos();
    pending.message = std::move(message);
    pending.stack = std::move(stack);
    pending.extras = std::move(extras);
    sender->Send(std::move(pending));
  }

  void BeforeFork() override ABSL_NO_THREAD_SAFETY_ANALYSIS {
    plugins_mu.lock();
  }
  void AfterForkInParent() override ABSL_NO_THREAD_SAFETY_ANALYSIS {
    plugins_mu.unlock();
  }
  void AfterForkInChild() override ABSL_NO_THREAD_SAFETY_ANALYSIS {
    // Only this thread exists: nothing reads the origin concurrently.
    origin.pid = static_cast<int32_t>(getpid());
    plugins_mu.unlock();
  }

  // Every message the sender holds points here, so it is declared before
  // the sender, which is destroyed first.
  Origin origin;
  const MessageFilter filter;
  const absl::Status status;
  const std::unique_ptr<Sender> sender;

  std::atomic<uint64_t> filtered{0};
  std::atomic<uint64_t> sampled_out{0};
  std::atomic<uint64_t> invalid{0};
  std::atomic<uint64_t> format_errors{0};

  std::mutex plugins_mu;
  absl::flat_hash_map<std::string, std::shared_ptr<const Client::Plugin>>
      plugins ABSL_GUARDED_BY(plugins_mu);
};

namespace {

// The router refuses a message with a field without a name.
bool HasUnnamedTag(absl::Span<const Tag> tags) {
  for (const Tag& tag : tags) {
    if (tag.name().empty()) return true;
  }
  return false;
}

std::unique_ptr<MetricExtras> MakeExtras(absl::Span<const Tag> fields,
                                         absl::string_view logger,
                                         std::optional<int32_t> severity) {
  auto extras = std::make_unique<MetricExtras>();
  extras->SetFields(fields);
  if (!logger.empty()) extras->logger.assign(logger.data(), logger.size());
  if (severity.has_value()) {
    extras->severity = Client::ClampSeverity(*severity);
  }
  return extras;
}

}  // namespace

ScopedTimer::ScopedTimer(std::weak_ptr<ClientCore> core, absl::string_view name,
                         std::string fields_wire, const MetricOptions& options)
    : core_(std::move(core)),
      name_(core_.expired() ? "" : std::string(name)),
      fields_wire_(std::move(fields_wire)),
      logger_(options.logger),
      severity_(options.severity),
      rate_(options.rate),
      start_(std::chrono::steady_clock::now()) {}

ScopedTimer::~ScopedTimer() {
  const std::shared_ptr<ClientCore> core = core_.lock();
  if (core == nullptr) return;
  const std::chrono::duration<double, std::milli> elapsed =
      std::chrono::steady_clock::now() - start_;
  std::unique_ptr<MetricExtras> extras;
  if (!fields_wire_.empty() || !logger_.empty() || severity_.has_value()) {
    extras = std::make_unique<MetricExtras>();
    extras->SetFieldsWire(fields_wire_);
    extras->logger = std::move(logger_);
    if (severity_.has_value()) {
      extras->severity = Client::ClampSeverity(*severity_);
    }
  }
  core->SendMetric(PendingMessage::Kind::kTimer, name_, 0, elapsed.count(),
                   rate_, std::move(extras));
}

Client::Client(std::unique_ptr<Sender> sender, std::string logger,
               int32_t severity, MessageFilter filter)
    : core_(std::make_shared<ClientCore>(std::move(sender), absl::OkStatus(),
                                         std::move(logger), severity,
                                         std::move(filter))) {}

Client::Client(FromStatusOr, absl::StatusOr<std::unique_ptr<Sender>> sender,
               std::string logger, int32_t severity, MessageFilter filter)
    : core_(std::make_shared<ClientCore>(
          sender.ok() ? *std::move(sender) : nullptr, sender.status(),
          std::move(logger), severity, std::move(filter))) {}

Client::~Client() {
  // Explicitly, so that a ScopedTimer still holding the core cannot make
  // its own thread wait for the shutdown later.
  core_->sender->Shutdown(core_->sender->shutdown_timeout());
}

absl::Status Client::status() const { return core_->status; }

bool Client::Admit(absl::string_view type, int32_t severity) {
  return core_->Admit(type, severity);
}

void Client::Metlog(absl::string_view type, absl::string_view payload,
                    std::vector<v1::Field> fields,
                    std::optional<int32_t> severity,
                    std::optional<std::string> logger) {
  if (severity.has_value()) severity = ClampSeverity(*severity);
  if (!Admit(type, severity.value_or(core_->origin.severity))) return;
  if (type == "log" && fields.empty() && !logger.has_value()) {
    core_->SendLog(severity.value_or(core_->origin.severity),
                   std::string(payload));
    return;
  }
  auto message = std::make_unique<v1::Message>();
  message->set_type(std::string(type));
  message->set_payload(std::string(payload));
  if (severity.has_value()) message->set_severity(*severity);
  if (logger.has_value()) message->set_logger(std::move(*logger));
  for (v1::Field& field : fields) message->add_fields()->Swap(&field);
  core_->SendMessage(std::move(message));
}

void Client::Log(int32_t severity, absl::string_view text) {
  severity = ClampSeverity(severity);
  if (!Admit("log", severity)) return;
  SendLog(severity, std::string(text));
}

void Client::SendLog(int32_t severity, std::string payload) {
  core_->SendLog(severity, std::move(payload));
}

void Client::SendUnformatted(int32_t severity,
                             const absl::UntypedFormatSpec& format) {
  core_->format_errors.fetch_add(1, std::memory_order_relaxed);
  // Abseil offers no public way back to the text; a ParsedFormat has none.
  const auto& spec =
      absl::str_format_internal::UntypedFormatSpecImpl::Extract(format);
  SendLog(severity, spec.has_parsed_conversion()
                        ? std::string("(unformattable log message)")
                        : std::string(spec.str()));
}

void Client::SendMetric(PendingMessage::Kind kind, absl::string_view name,
                        int64_t count, double value, double rate) {
  core_->SendMetric(kind, name, count, value, rate, nullptr);
}

void Client::SendMetricWithFields(PendingMessage::Kind kind,
                                  absl::string_view name, int64_t count,
                                  double value, absl::Span<const Tag> fields,
                                  const MetricOptions& options) {
  if (HasUnnamedTag(fields)) {
    core_->invalid.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  core_->SendMetric(kind, name, count, value, options.rate,
                    MakeExtras(fields, options.logger, options.severity));
}

void Client::Incr(absl::string_view name, int64_t count, double rate) {
  core_->SendCounter(name, count, rate);
}

void Client::Incr(absl::string_view name, int64_t count,
                  absl::Span<const Tag> fields, const MetricOptions& options) {
  SendMetricWithFields(PendingMessage::Kind::kCounter, name, count, 0, fields,
                       options);
}

void Client::TimerSend(absl::string_view name, double milliseconds,
                       double rate) {
  if (!core_->filter.TimerEnabled(name)) {
    core_->filtered.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  SendMetric(PendingMessage::Kind::kTimer, name, 0, milliseconds, rate);
}

void Client::TimerSend(absl::string_view name, double milliseconds,
                       absl::Span<const Tag> fields,
                       const MetricOptions& options) {
  if (!core_->filter.TimerEnabled(name)) {
    core_->filtered.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  SendMetricWithFields(PendingMessage::Kind::kTimer, name, 0, milliseconds,
                       fields, options);
}

void Client::Gauge(absl::string_view name, double value) {
  SendMetric(PendingMessage::Kind::kGauge, name, 0, value, 1.0);
}

void Client::Gauge(absl::string_view name, double value,
                   absl::Span<const Tag> fields, const MetricOptions& options) {
  SendMetricWithFields(PendingMessage::Kind::kGauge, name, 0, value, fields,
                       options);
}

void Client::Histogram(absl::string_view name, double value, double rate) {
  SendMetric(PendingMessage::Kind::kHistogram, name, 0, value, rate);
}

void Client::Histogram(absl::string_view name, double value,
                       absl::Span<const Tag> fields,
                       const MetricOptions& options) {
  SendMetricWithFields(PendingMessage::Kind::kHistogram, name, 0, value, fields,
                       options);
}

void Client::Set(absl::string_view name, absl::string_view member) {
  Set(name, member, {});
}

void Client::Set(absl::string_view name, absl::string_view member,
                 absl::Span<const Tag> fields, const MetricOptions& options) {
  const int32_t severity = options.severity.has_value()
                               ? ClampSeverity(*options.severity)
                               : core_->origin.severity;
  if (!Admit("set", severity)) return;
  // The router and every back end refuse an empty member.
  if (member.empty() || HasUnnamedTag(fields)) {
    core_->invalid.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // A member is text, which the numeric metric path has no room for: a set
  // travels as a whole message, with its tags and overrides as extras.
  auto message = std::make_unique<v1::Message>();
  message->set_type("set");
  message->set_payload(std::string(member));
  *message->add_fields() = MakeField("name", name);
  core_->SendMessage(std::move(message), nullptr,
                     MakeExtras(fields, options.logger, options.severity));
}

ScopedTimer Client::Timer(absl::string_view name, double rate) {
  MetricOptions options;
  options.rate = rate;
  return Timer(name, {}, options);
}

ScopedTimer Client::Timer(absl::string_view name, absl::Span<const Tag> fields,
                          const MetricOptions& options) {
  // A disabled timer never reads the clock or sends.
  if (!core_->filter.TimerEnabled(name)) {
    return ScopedTimer({}, name, "", options);
  }
  if (HasUnnamedTag(fields)) {
    core_->invalid.fetch_add(1, std::memory_order_relaxed);
    return ScopedTimer({}, name, "", options);
  }
  std::string fields_wire;
  AppendTagsAsFields(fields, &fields_wire);
  return ScopedTimer(core_, name, std::move(fields_wire), options);
}

// Not inlined, so that the frame CaptureStackTrace leaves out is this one.
ABSL_ATTRIBUTE_NOINLINE void Client::Exception(const std::exception& error,
                                               absl::string_view message) {
  if (!Admit("exception", kAlert)) return;
  auto stack = std::make_unique<RawStackTrace>();
  CaptureStackTrace(/*skip=*/1, stack.get());
  auto built = std::make_unique<v1::Message>();
  built->set_type("exception");
  built->set_payload(std::string(message.empty() ? error.what() : message));
  built->set_severity(kAlert);
  *built->add_fields() =
      MakeField("exception_type", Demangle(typeid(error).name()));
  *built->add_fields() = MakeField("what", error.what());
  core_->SendMessage(std::move(built), std::move(stack));
}

void Client::AddPlugin(std::string name, Plugin plugin) {
  auto shared = std::make_shared<const Plugin>(std::move(plugin));
  std::lock_guard<std::mutex> lock(core_->plugins_mu);
  core_->plugins[std::move(name)] = std::move(shared);
}

bool Client::Call(absl::string_view plugin_name) {
  std::shared_ptr<const Plugin> plugin;
  {
    std::lock_guard<std::mutex> lock(core_->plugins_mu);
    auto it = core_->plugins.find(plugin_name);
    if (it == core_->plugins.end()) return false;
    plugin = it->second;
  }
  auto message = std::make_unique<v1::Message>();
  (*plugin)(message.get());
  if (message->has_severity()) {
    message->set_severity(ClampSeverity(message->severity()));
  }
  if (!Admit(message->type(), message->has_severity()
                                  ? message->severity()
                                  : core_->origin.severity)) {
    return true;
  }
  core_->SendMessage(std::move(message));
  return true;
}

bool Client::Flush(absl::Duration timeout) {
  return core_->sender->Flush(timeout);
}

bool Client::Shutdown(absl::Duration timeout) {
  return core_->sender->Shutdown(timeout);
}

ClientStats Client::Stats() const {
  ClientStats stats;
  static_cast<SenderStats&>(stats) = core_->sender->Stats();
  stats.filtered = core_->filtered.load(std::memory_order_relaxed);
  stats.sampled_out = core_->sampled_out.load(std::memory_order_relaxed);
  stats.invalid = core_->invalid.load(std::memory_order_relaxed);
  stats.format_errors = core_->format_errors.load(std::memory_order_relaxed);
  return stats;
}

const std::string& Client::logger() const { return core_->origin.logger; }

Sender& Client::sender() { return *core_->sender; }

}  // namespace metlog
