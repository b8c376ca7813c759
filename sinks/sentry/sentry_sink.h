// The sentry sink: each message becomes a Sentry event, POSTed in an
// envelope to the DSN's project with libcurl (see sentry.proto).
#ifndef METLOG_SINKS_SENTRY_SENTRY_SINK_H_
#define METLOG_SINKS_SENTRY_SENTRY_SINK_H_

#include <curl/curl.h>

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "sinks/sentry/sentry.pb.h"
#include "sinks/sentry/sentry_dsn.h"
#include "sinks/sink.h"

namespace metlog {

// What a response means for its event: OK for 2xx; for 429 and 5xx a
// transient error whose RetryDelay is taken from the X-Sentry-Rate-Limits
// header (entries for the "error" or "default" category, or all categories)
// or else Retry-After (seconds or an HTTP date); any other status a
// permanent (FailedPrecondition) error. `now` dates Retry-After.
absl::Status ClassifySentryResponse(long http_status,
                                    absl::string_view retry_after,
                                    absl::string_view rate_limits,
                                    absl::Time now);

class SentrySink : public Sink {
 public:
  SentrySink(const sinks::SentryOptions& options, SentryDsn dsn);
  ~SentrySink() override;

  absl::Status Start() override;
  // Posts each message's event in turn. Stops at the first transient failure
  // (the runner retries the batch; Sentry drops the events it already has by
  // event_id); an event Sentry refuses (another 4xx) is left out and counted
  // in TakeUnusable.
  absl::Status Write(absl::Span<const MessageView> batch,
                     absl::Time deadline) override;
  // Aborts the transfer in progress (libcurl checks about once a second at
  // worst) and every later one: the runner calls it only on shutdown.
  void Cancel() override;
  uint64_t TakeUnusable() override;
  void Stop() override;

 private:
  absl::Status Post(const std::string& envelope, absl::Time deadline);

  const sinks::SentryOptions options_;
  const SentryDsn dsn_;
  const std::string url_;
  CURL* curl_ = nullptr;
  curl_slist* headers_ = nullptr;
  std::atomic<bool> cancelled_{false};
  uint64_t unusable_ = 0;
  // Filled by the header callback during a transfer.
  std::string retry_after_;
  std::string rate_limits_;
};

}  // namespace metlog

#endif  // METLOG_SINKS_SENTRY_SENTRY_SINK_H_
