// The Metlog client: one line to count, time or log something.
//
//   metlog::Client metlog(*metlog::MakeZmqSender({"tcp://127.0.0.1:5565"}),
//                         "shop");
//   metlog.Incr("orders");
//   { auto t = metlog.Timer("db.query"); RunQuery(); }
//   metlog.Warn("stock low for %s: %d left", sku, n);
//
// Every call is fire-and-forget: it never blocks on the network and never
// throws. When the router is unreachable or the queue is full the message is
// dropped and counted (Stats()). A Client is thread-safe.
#ifndef METLOG_CLIENT_METLOG_H_
#define METLOG_CLIENT_METLOG_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "client/field.h"
#include "client/message_filter.h"
#include "client/pending_message.h"
#include "client/sender.h"
#include "proto/metlog.pb.h"

namespace metlog {

// RFC 5424 severities.
enum Severity : int32_t {
  kEmergency = 0,
  kAlert = 1,
  kCritical = 2,
  kError = 3,
  kWarning = 4,
  kNotice = 5,
  kInfo = 6,
  kDebug = 7,
};

struct ClientStats : SenderStats {
  uint64_t filtered = 0;     // refused by the client's filters
  uint64_t sampled_out = 0;  // skipped by sampling (rate < 1), by design
};

class Client;

// Sends a timer with the milliseconds elapsed between its construction and
// its destruction. Returned by Client::Timer; movable, not copyable.
class [[nodiscard]] ScopedTimer {
 public:
  ScopedTimer(ScopedTimer&& other) noexcept;
  ScopedTimer& operator=(ScopedTimer&&) = delete;
  ~ScopedTimer();

 private:
  friend class Client;
  ScopedTimer(Client* client, absl::string_view name, double rate);

  Client* client_;  // null when disabled or moved from
  std::string name_;
  double rate_;
  std::chrono::steady_clock::time_point start_;
};

class Client {
 public:
  // Builds a message's type, payload and fields; the client stamps the rest.
  using Plugin = std::function<void(v1::Message* message)>;

  // `logger` names the application on every message; `severity` is what
  // messages carry when the call does not say.
  Client(std::unique_ptr<Sender> sender, std::string logger,
         int32_t severity = kInfo, MessageFilter filter = MessageFilter());
  // Waits up to a second for queued messages to leave.
  ~Client();

  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Any message. Unset severity and logger take the client's.
  void Metlog(absl::string_view type, absl::string_view payload,
              std::vector<v1::Field> fields = {},
              std::optional<int32_t> severity = std::nullopt,
              std::optional<std::string> logger = std::nullopt);

  // A counter. With rate < 1 only that fraction of calls is sent, and the
  // rate travels with it so back ends scale the count back up.
  void Incr(absl::string_view name, int64_t count = 1, double rate = 1.0);

  // A timer sample in milliseconds (sampled like Incr).
  void TimerSend(absl::string_view name, double milliseconds,
                 double rate = 1.0);

  // A gauge: the current value of something.
  void Gauge(absl::string_view name, double value);

  // Times a scope: `auto t = client.Timer("db");` sends on destruction.
  ScopedTimer Timer(absl::string_view name, double rate = 1.0);

  // Calls fn(), sends how long it took, and returns its result.
  template <typename Fn>
  auto Time(absl::string_view name, Fn&& fn, double rate = 1.0) {
    ScopedTimer timer = Timer(name, rate);
    return std::forward<Fn>(fn)();
  }

  // Log messages (type "log"), formatted with absl::StrFormat. Filtered
  // messages are not formatted.
  template <typename... Args>
  void Debug(const absl::FormatSpec<Args...>& format, const Args&... args) {
    Log(kDebug, format, args...);
  }
  template <typename... Args>
  void Info(const absl::FormatSpec<Args...>& format, const Args&... args) {
    Log(kInfo, format, args...);
  }
  template <typename... Args>
  void Warn(const absl::FormatSpec<Args...>& format, const Args&... args) {
    Log(kWarning, format, args...);
  }
  template <typename... Args>
  void Error(const absl::FormatSpec<Args...>& format, const Args&... args) {
    Log(kError, format, args...);
  }
  template <typename... Args>
  void Critical(const absl::FormatSpec<Args...>& format, const Args&... args) {
    Log(kCritical, format, args...);
  }
  template <typename... Args>
  void Log(int32_t severity, const absl::FormatSpec<Args...>& format,
           const Args&... args) {
    if (!Admit("log", severity)) return;
    SendLog(severity, absl::StrFormat(format, args...));
  }

  // An exception (type "exception", severity ALERT): payload is `message`,
  // or what() when empty; fields "exception_type" (demangled) and "what".
  void Exception(const std::exception& error, absl::string_view message = "");

  // Registers a named builder; Call(name) builds a message with it and sends
  // it through the same stamping, filters and sender as every other call.
  void AddPlugin(std::string name, Plugin plugin);
  // False when no plugin has that name.
  bool Call(absl::string_view plugin_name);

  // Waits until everything sent so far has left or been dropped.
  bool Flush(absl::Duration timeout);

  ClientStats Stats() const;

  const std::string& logger() const { return origin_.logger; }
  // The sender, e.g. to read a CaptureSender's messages in a test.
  Sender& sender() { return *sender_; }

 private:
  friend class ScopedTimer;

  // Applies filters (and counts refusals).
  bool Admit(absl::string_view type, int32_t severity);
  // Applies sampling (and counts what it skips).
  bool Sampled(double rate);
  // Stamps and hands over a message built by the caller.
  void SendMessage(std::unique_ptr<v1::Message> message);
  // A log message already admitted by the filters.
  void SendLog(int32_t severity, std::string payload);
  void SendMetric(PendingMessage::Kind kind, absl::string_view type,
                  absl::string_view name, int64_t count, double value,
                  double rate);

  // Declared before sender_: every message the sender holds points here, so
  // it must outlive the sender.
  const Origin origin_;
  const MessageFilter filter_;
  const std::unique_ptr<Sender> sender_;

  std::atomic<uint64_t> filtered_{0};
  std::atomic<uint64_t> sampled_out_{0};

  mutable absl::Mutex plugins_mu_;
  absl::flat_hash_map<std::string, Plugin> plugins_
      ABSL_GUARDED_BY(plugins_mu_);
};

}  // namespace metlog

#endif  // METLOG_CLIENT_METLOG_H_
