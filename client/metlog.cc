#include "client/metlog.h"

#include <cxxabi.h>
#include <unistd.h>

#include <cstdlib>
#include <typeinfo>

#include "absl/random/random.h"
#include "absl/time/clock.h"

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

}  // namespace

ScopedTimer::ScopedTimer(Client* client, absl::string_view name, double rate)
    : client_(client),
      name_(client == nullptr ? "" : std::string(name)),
      rate_(rate),
      start_(std::chrono::steady_clock::now()) {}

ScopedTimer::ScopedTimer(ScopedTimer&& other) noexcept
    : client_(std::exchange(other.client_, nullptr)),
      name_(std::move(other.name_)),
      rate_(other.rate_),
      start_(other.start_) {}

ScopedTimer::~ScopedTimer() {
  if (client_ == nullptr) return;
  const std::chrono::duration<double, std::milli> elapsed =
      std::chrono::steady_clock::now() - start_;
  client_->TimerSend(name_, elapsed.count(), rate_);
}

Client::Client(std::unique_ptr<Sender> sender, std::string logger,
               int32_t severity, MessageFilter filter)
    : origin_{std::move(logger), HostName(), static_cast<int32_t>(getpid()),
              severity},
      filter_(std::move(filter)),
      sender_(std::move(sender)) {}

Client::~Client() { sender_->Flush(absl::Seconds(1)); }

bool Client::Admit(absl::string_view type, int32_t severity) {
  if (filter_.Allows(type, severity)) return true;
  filtered_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

bool Client::Sampled(double rate) {
  if (rate >= 1.0) return true;
  thread_local absl::InsecureBitGen random;
  if (absl::Bernoulli(random, rate)) return true;
  sampled_out_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

void Client::Metlog(absl::string_view type, absl::string_view payload,
                    std::vector<v1::Field> fields,
                    std::optional<int32_t> severity,
                    std::optional<std::string> logger) {
  if (!Admit(type, severity.value_or(origin_.severity))) return;
  auto message = std::make_unique<v1::Message>();
  message->set_type(std::string(type));
  message->set_payload(std::string(payload));
  if (severity.has_value()) message->set_severity(*severity);
  if (logger.has_value()) message->set_logger(std::move(*logger));
  for (v1::Field& field : fields) message->add_fields()->Swap(&field);
  SendMessage(std::move(message));
}

void Client::SendLog(int32_t severity, std::string payload) {
  auto message = std::make_unique<v1::Message>();
  message->set_type("log");
  message->set_payload(std::move(payload));
  message->set_severity(severity);
  SendMessage(std::move(message));
}

void Client::SendMessage(std::unique_ptr<v1::Message> message) {
  PendingMessage pending;
  pending.origin = &origin_;
  pending.timestamp_ns = absl::GetCurrentTimeNanos();
  pending.message = std::move(message);
  sender_->Send(std::move(pending));
}

void Client::SendMetric(PendingMessage::Kind kind, absl::string_view type,
                        absl::string_view name, int64_t count, double value,
                        double rate) {
  if (!Admit(type, origin_.severity) || !Sampled(rate)) return;
  PendingMessage pending;
  pending.kind = kind;
  pending.origin = &origin_;
  pending.timestamp_ns = absl::GetCurrentTimeNanos();
  pending.name.assign(name.data(), name.size());
  pending.count = count;
  pending.value = value;
  pending.rate = rate;
  sender_->Send(std::move(pending));
}

void Client::Incr(absl::string_view name, int64_t count, double rate) {
  SendMetric(PendingMessage::Kind::kCounter, "counter", name, count, 0, rate);
}

void Client::TimerSend(absl::string_view name, double milliseconds,
                       double rate) {
  if (!filter_.TimerEnabled(name)) {
    filtered_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  SendMetric(PendingMessage::Kind::kTimer, "timer", name, 0, milliseconds,
             rate);
}

void Client::Gauge(absl::string_view name, double value) {
  SendMetric(PendingMessage::Kind::kGauge, "gauge", name, 0, value, 1.0);
}

ScopedTimer Client::Timer(absl::string_view name, double rate) {
  // A disabled timer never reads the clock or sends.
  return ScopedTimer(filter_.TimerEnabled(name) ? this : nullptr, name, rate);
}

void Client::Exception(const std::exception& error, absl::string_view message) {
  Metlog("exception", message.empty() ? error.what() : message,
         {MakeField("exception_type", Demangle(typeid(error).name())),
          MakeField("what", error.what())},
         kAlert);
}

void Client::AddPlugin(std::string name, Plugin plugin) {
  absl::MutexLock lock(&plugins_mu_);
  plugins_[std::move(name)] = std::move(plugin);
}

bool Client::Call(absl::string_view plugin_name) {
  auto message = std::make_unique<v1::Message>();
  {
    absl::ReaderMutexLock lock(&plugins_mu_);
    auto it = plugins_.find(plugin_name);
    if (it == plugins_.end()) return false;
    it->second(message.get());
  }
  if (!Admit(message->type(), message->has_severity() ? message->severity()
                                                      : origin_.severity)) {
    return true;
  }
  SendMessage(std::move(message));
  return true;
}

bool Client::Flush(absl::Duration timeout) { return sender_->Flush(timeout); }

ClientStats Client::Stats() const {
  ClientStats stats;
  static_cast<SenderStats&>(stats) = sender_->Stats();
  stats.filtered = filtered_.load(std::memory_order_relaxed);
  stats.sampled_out = sampled_out_.load(std::memory_order_relaxed);
  return stats;
}

}  // namespace metlog
