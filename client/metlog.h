// The Metlog client: one line to count, time or log something.
//
//   metlog::Client metlog(metlog::MakeZmqSender({"tcp://127.0.0.1:5565"}),
//                         "shop");
//   if (!metlog.status().ok()) { /* report metlog.status() */ }
//   metlog.Incr("orders");
//   metlog.Incr("requests", 1, {{"method", "GET"}, {"status", 200}});
//   { auto t = metlog.Timer("db.query"); RunQuery(); }
//   metlog.Warn("stock low for %s: %d left", sku, n);
//
// or the process-wide client, configured from the environment
// (default_client.h): metlog::DefaultClient().Incr("orders").
//
// Never aborts, never throws, never blocks on the network. A sender that
// could not be made (bad endpoint) leaves a client that drops and counts
// every message (dropped_no_sender) and says why in status(). When the router
// is unreachable or the queue is full messages are dropped and counted
// (Stats()). A Client is thread-safe, and keeps working in both processes
// after fork() (see queued_sender.h). It must outlive the calls made on it;
// for a client that outlives every thread, use DefaultClient().
//
// Edge cases, decided:
// - Severities are clamped to 0..7 (Log(-3) is EMERGENCY 0, Log(42) DEBUG 7),
//   the client's own default too, so every metric passes the default filter.
// - Metrics carry the client's severity (or the call's override) and are
//   filtered by it like any message.
// - rate: NaN drops the call (counted invalid); <= 0 never sends (counted
//   sampled_out); > 1 is 1. Gauges are never sampled.
// - TimerSend, Histogram and Gauge with NaN or an infinite value are dropped
//   and counted invalid (the router would refuse them); negative values are
//   sent. Set with an empty member is dropped and counted invalid.
// - A field or tag without a name (the router refuses such a message whole)
//   drops the call, counted invalid. A plugin's or Metlog() message with a
//   uuid that is not 16 bytes gets a random one; its severity is clamped.
// - A log call with arguments is formatted with absl::StrFormat; a format
//   that does not match its arguments (checked when compiling under clang,
//   at run time under GCC) sends the format string itself, counted in
//   format_errors. A call with no arguments is never formatted: "100%" stays.
// - Messages larger than the sender's max_message_bytes (64 KiB by default,
//   the router's limit) are dropped and counted (dropped_oversized).
// - Fields (tags) named "name" or "rate" on metrics are ignored: those are
//   the metric's own fields.
// - After Shutdown() (or while ~Client runs) calls are dropped and counted
//   (dropped_shutdown); a ScopedTimer that ends after its client is gone
//   sends nothing.
// - After fork() the child's counts start at zero and its messages carry its
//   own pid; messages queued before the fork are sent by the parent only.
#ifndef METLOG_CLIENT_METLOG_H_
#define METLOG_CLIENT_METLOG_H_

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

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "client/envelope/field.h"
#include "client/message_filter.h"
#include "client/pending_message.h"
#include "client/sender.h"
#include "client/tag.h"
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
  uint64_t invalid = 0;  // NaN or infinite values, NaN rates, unnamed fields
  uint64_t format_errors = 0;  // sent unformatted (counted in sent too)
};

// The optional parts of a metric call with fields, after metlog-py's
// incr(name, count, logger, severity, fields, rate):
//   metlog.Incr("hits", 1, {{"path", "/"}}, {0.1, kNotice, "edge"});
struct MetricOptions {
  double rate = 1.0;  // ignored by Gauge and Set
  std::optional<int32_t> severity;
  absl::string_view logger;  // empty: the client's
};

class Client;
struct ClientCore;

// Sends a timer with the milliseconds elapsed between its construction and
// its destruction. Returned by Client::Timer; movable, not copyable. It may
// outlive its client: it then sends nothing.
class [[nodiscard]] ScopedTimer {
 public:
  ScopedTimer(ScopedTimer&& other) noexcept = default;
  ScopedTimer& operator=(ScopedTimer&&) = delete;
  ~ScopedTimer();

  // Sends nothing when the timer ends.
  void Cancel() { core_.reset(); }

 private:
  friend class Client;
  ScopedTimer(std::weak_ptr<ClientCore> core, absl::string_view name,
              std::string fields_wire, const MetricOptions& options);

  std::weak_ptr<ClientCore> core_;  // empty when disabled or cancelled
  std::string name_;
  std::string fields_wire_;
  std::string logger_;
  std::optional<int32_t> severity_;
  double rate_;
  std::chrono::steady_clock::time_point start_;
};

class Client {
 public:
  // Builds a message's type, payload and fields; the client stamps the rest.
  using Plugin = std::function<void(v1::Message* message)>;

  // `logger` names the application on every message; `severity` is what
  // messages carry when the call does not say. A null sender is a client
  // that drops and counts everything.
  Client(std::unique_ptr<Sender> sender, std::string logger,
         int32_t severity = kInfo, MessageFilter filter = MessageFilter());
  // Takes MakeZmqSender()'s result as is, so no error can abort: on an error
  // the client drops and counts every message and status() returns it.
  // (A template only so that a unique_ptr picks the constructor above.)
  template <
      typename MadeSender,
      std::enable_if_t<
          std::is_same_v<MadeSender, absl::StatusOr<std::unique_ptr<Sender>>>,
          int> = 0>
  Client(MadeSender sender, std::string logger, int32_t severity = kInfo,
         MessageFilter filter = MessageFilter())
      : Client(FromStatusOr(), std::move(sender), std::move(logger), severity,
               std::move(filter)) {}
  // Shutdown(sender's shutdown_timeout, 1 s by default): returns within it
  // whatever other threads do.
  ~Client();

  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Why the client has no sender, or OK.
  absl::Status status() const;

  // Any message. Unset severity and logger take the client's.
  void Metlog(absl::string_view type, absl::string_view payload,
              std::vector<v1::Field> fields = {},
              std::optional<int32_t> severity = std::nullopt,
              std::optional<std::string> logger = std::nullopt);

  // A counter. With rate < 1 only that fraction of calls is sent, and the
  // rate travels with it so back ends scale the count back up.
  void Incr(absl::string_view name, int64_t count = 1, double rate = 1.0);
  // With fields (tags), and optionally its own rate, severity and logger.
  void Incr(absl::string_view name, int64_t count, absl::Span<const Tag> fields,
            const MetricOptions& options = MetricOptions());

  // A timer sample in milliseconds (sampled like Incr).
  void TimerSend(absl::string_view name, double milliseconds,
                 double rate = 1.0);
  void TimerSend(absl::string_view name, double milliseconds,
                 absl::Span<const Tag> fields,
                 const MetricOptions& options = MetricOptions());

  // A gauge: the current value of something.
  void Gauge(absl::string_view name, double value);
  void Gauge(absl::string_view name, double value, absl::Span<const Tag> fields,
             const MetricOptions& options = MetricOptions());

  // A histogram sample: a value in any unit (bytes, items, ratio) whose
  // distribution matters, sampled like Incr; type "histogram". The metric
  // sinks store it as they store timers (statsd "|ms", carbon the mean per
  // second, Prometheus a histogram NAME).
  void Histogram(absl::string_view name, double value, double rate = 1.0);
  void Histogram(absl::string_view name, double value,
                 absl::Span<const Tag> fields,
                 const MetricOptions& options = MetricOptions());

  // A set member (type "set", payload = member): back ends count the
  // distinct members of `name` (statsd "|s"; carbon per second; Prometheus
  // since the router's sink started). Never sampled. Costs one protobuf
  // message on the calling thread, unlike the numeric metrics.
  void Set(absl::string_view name, absl::string_view member);
  void Set(absl::string_view name, absl::string_view member,
           absl::Span<const Tag> fields,
           const MetricOptions& options = MetricOptions());

  // Times a scope: `auto t = client.Timer("db");` sends on destruction.
  ScopedTimer Timer(absl::string_view name, double rate = 1.0);
  ScopedTimer Timer(absl::string_view name, absl::Span<const Tag> fields,
                    const MetricOptions& options = MetricOptions());

  // Calls fn(), sends how long it took, and returns its result.
  template <typename Fn>
  auto Time(absl::string_view name, Fn&& fn, double rate = 1.0) {
    ScopedTimer timer = Timer(name, rate);
    return std::forward<Fn>(fn)();
  }

  // Log messages (type "log"). With arguments, formatted with
  // absl::StrFormat (filtered messages are not formatted); with none, the
  // text is sent as is.
  void Debug(absl::string_view text) { Log(kDebug, text); }
  void Info(absl::string_view text) { Log(kInfo, text); }
  void Warn(absl::string_view text) { Log(kWarning, text); }
  void Error(absl::string_view text) { Log(kError, text); }
  void Critical(absl::string_view text) { Log(kCritical, text); }
  void Log(int32_t severity, absl::string_view text);

  template <typename Arg, typename... Args>
  void Debug(const absl::FormatSpec<Arg, Args...>& format, const Arg& arg,
             const Args&... args) {
    Log(kDebug, format, arg, args...);
  }
  template <typename Arg, typename... Args>
  void Info(const absl::FormatSpec<Arg, Args...>& format, const Arg& arg,
            const Args&... args) {
    Log(kInfo, format, arg, args...);
  }
  template <typename Arg, typename... Args>
  void Warn(const absl::FormatSpec<Arg, Args...>& format, const Arg& arg,
            const Args&... args) {
    Log(kWarning, format, arg, args...);
  }
  template <typename Arg, typename... Args>
  void Error(const absl::FormatSpec<Arg, Args...>& format, const Arg& arg,
             const Args&... args) {
    Log(kError, format, arg, args...);
  }
  template <typename Arg, typename... Args>
  void Critical(const absl::FormatSpec<Arg, Args...>& format, const Arg& arg,
                const Args&... args) {
    Log(kCritical, format, arg, args...);
  }
  template <typename Arg, typename... Args>
  void Log(int32_t severity, const absl::FormatSpec<Arg, Args...>& format,
           const Arg& arg, const Args&... args) {
    severity = ClampSeverity(severity);
    if (!Admit("log", severity)) return;
    std::string text;
    if (!absl::FormatUntyped(
            &text, format, {absl::FormatArg(arg), absl::FormatArg(args)...})) {
      SendUnformatted(severity, format);
      return;
    }
    SendLog(severity, std::move(text));
  }

  // An exception (type "exception", severity ALERT): payload is `message`,
  // or what() when empty, and three string fields, which the Sentry sink
  // turns into the event's exception (sinks/sentry/sentry.proto):
  //   exception_type  the exception's dynamic type, demangled
  //                   ("std::runtime_error")
  //   what            error.what()
  //   stack           the calling thread's stack, one line per frame,
  //                   innermost (the caller of Exception) first: frame
  //                   number, return address, function ("??" when
  //                   unknown), and the binary or shared library with the
  //                   address's offset in it (what addr2line takes):
  //     #0 0x000055d3c4a1b2c3 in shop::Pay() (/srv/shop+0x1b2c3)
  // The caller's thread only records return addresses (at most 64 frames;
  // client_benchmark measures the call); names are looked up on the
  // sender's thread, from the ELF symbol tables: Bazel's default builds keep
  // them (strip the binary and functions show as "??").
  void Exception(const std::exception& error, absl::string_view message = "");

  // Registers a named builder; Call(name) builds a message with it and sends
  // it through the same stamping, filters and sender as every other call.
  // A plugin runs with no client lock held, so it may call the client.
  void AddPlugin(std::string name, Plugin plugin);
  // False when no plugin has that name.
  bool Call(absl::string_view plugin_name);

  // Waits until everything sent so far has left or been dropped.
  bool Flush(absl::Duration timeout);
  // Stops the client: later calls are dropped and counted
  // (dropped_shutdown); what is queued is sent until `timeout`, the rest
  // dropped and counted. True when everything queued was sent.
  bool Shutdown(absl::Duration timeout);

  ClientStats Stats() const;

  const std::string& logger() const;
  // The sender, e.g. to read a CaptureSender's messages in a test.
  Sender& sender();

  static int32_t ClampSeverity(int32_t severity) {
    return severity < kEmergency ? kEmergency
           : severity > kDebug   ? kDebug
                                 : severity;
  }

 private:
  struct FromStatusOr {};
  Client(FromStatusOr, absl::StatusOr<std::unique_ptr<Sender>> sender,
         std::string logger, int32_t severity, MessageFilter filter);

  // Applies filters (and counts refusals).
  bool Admit(absl::string_view type, int32_t severity);
  // A log message already admitted by the filters.
  void SendLog(int32_t severity, std::string payload);
  // Sends the format string itself, when it does not match its arguments.
  void SendUnformatted(int32_t severity, const absl::UntypedFormatSpec& format);
  void SendMetric(PendingMessage::Kind kind, absl::string_view name,
                  int64_t count, double value, double rate);
  void SendMetricWithFields(PendingMessage::Kind kind, absl::string_view name,
                            int64_t count, double value,
                            absl::Span<const Tag> fields,
                            const MetricOptions& options);

  // Shared with ScopedTimers, which hold it weakly.
  std::shared_ptr<ClientCore> core_;
};

}  // namespace metlog

#endif  // METLOG_CLIENT_METLOG_H_
