#include "sinks/sentry/sentry_sink.h"

#include <algorithm>
#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "glog/logging.h"
#include "sinks/sentry/sentry_event.h"

namespace metlog {
namespace {

// What Sentry's SDKs wait after a 429 that says nothing about how long.
constexpr absl::Duration kDefaultRateLimitDelay = absl::Seconds(60);

// The longest delay X-Sentry-Rate-Limits asks for events: entries are
// "seconds:categories:scope[:reason]", categories ';'-separated, empty for
// all of them.
absl::Duration RateLimitDelay(absl::string_view header) {
  absl::Duration delay = absl::ZeroDuration();
  for (absl::string_view entry : absl::StrSplit(header, ',')) {
    std::vector<absl::string_view> parts = absl::StrSplit(entry, ':');
    double seconds = 0;
    if (parts.size() < 2 ||
        !absl::SimpleAtod(absl::StripAsciiWhitespace(parts[0]), &seconds) ||
        seconds < 0) {
      continue;
    }
    bool applies = parts[1].empty();
    for (absl::string_view category : absl::StrSplit(parts[1], ';')) {
      applies = applies || category == "error" || category == "default";
    }
    if (applies) delay = std::max(delay, absl::Seconds(seconds));
  }
  return delay;
}

// Retry-After as delta-seconds or an HTTP date; zero when unreadable.
absl::Duration RetryAfterDelay(absl::string_view header, absl::Time now) {
  header = absl::StripAsciiWhitespace(header);
  int64_t seconds = 0;
  if (absl::SimpleAtoi(header, &seconds)) {
    return absl::Seconds(std::max<int64_t>(seconds, 0));
  }
  const time_t date = curl_getdate(std::string(header).c_str(), nullptr);
  if (date < 0) return absl::ZeroDuration();
  return std::max(absl::FromTimeT(date) - now, absl::ZeroDuration());
}

size_t DiscardBody(char*, size_t size, size_t count, void*) {
  return size * count;
}

// Keeps the two headers that say how long to back off.
size_t KeepRetryHeaders(char* data, size_t size, size_t count, void* sink) {
  const absl::string_view line(data, size * count);
  const size_t colon = line.find(':');
  if (colon != absl::string_view::npos) {
    const absl::string_view name = line.substr(0, colon);
    const std::string value(absl::StripAsciiWhitespace(line.substr(colon + 1)));
    auto* headers = static_cast<std::pair<std::string*, std::string*>*>(sink);
    if (absl::EqualsIgnoreCase(name, "Retry-After")) *headers->first = value;
    if (absl::EqualsIgnoreCase(name, "X-Sentry-Rate-Limits")) {
      *headers->second = value;
    }
  }
  return size * count;
}

int AbortWhenCancelled(void* cancelled, curl_off_t, curl_off_t, curl_off_t,
                       curl_off_t) {
  return static_cast<std::atomic<bool>*>(cancelled)->load() ? 1 : 0;
}

absl::StatusOr<std::unique_ptr<Sink>> CreateSentrySink(
    const sinks::SentryOptions& options) {
  absl::StatusOr<SentryDsn> dsn = ParseSentryDsn(options.dsn());
  if (!dsn.ok()) return dsn.status();
  if (options.max_event_bytes() < 4096 || options.max_event_bytes() > 1048576) {
    return absl::InvalidArgumentError(
        absl::StrCat("sentry: max_event_bytes is ", options.max_event_bytes(),
                     "; it must be in 4096..1048576"));
  }
  // Sentry's own limits; they also keep a fully trimmed event small.
  if (options.environment().size() > 64) {
    return absl::InvalidArgumentError(
        "sentry: environment is longer than 64 bytes (Sentry's limit)");
  }
  if (options.release().size() > 200) {
    return absl::InvalidArgumentError(
        "sentry: release is longer than 200 bytes (Sentry's limit)");
  }
  if (options.max_string_bytes() < 1 || options.max_string_bytes() > 8192) {
    return absl::InvalidArgumentError(
        absl::StrCat("sentry: max_string_bytes is ", options.max_string_bytes(),
                     "; it must be in 1..8192"));
  }
  // libcurl's global set-up is not thread-safe: done once, here, on the
  // thread that creates sinks, before any handle exists.
  static const CURLcode kCurlInit = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (kCurlInit != CURLE_OK) {
    return absl::InternalError(absl::StrCat("sentry: curl_global_init: ",
                                            curl_easy_strerror(kCurlInit)));
  }
  return std::make_unique<SentrySink>(options, *std::move(dsn));
}

const SinkRegistration<sinks::SentryOptions> kRegistration(CreateSentrySink);

}  // namespace

absl::Status ClassifySentryResponse(long http_status,
                                    absl::string_view retry_after,
                                    absl::string_view rate_limits,
                                    absl::Time now) {
  if (http_status >= 200 && http_status < 300) return absl::OkStatus();
  const std::string message =
      absl::StrCat("sentry: the server answered HTTP ", http_status);
  if (http_status == 429 || http_status >= 500) {
    absl::Duration delay = RateLimitDelay(rate_limits);
    if (delay == absl::ZeroDuration()) {
      delay = RetryAfterDelay(retry_after, now);
    }
    if (delay == absl::ZeroDuration() && http_status == 429) {
      delay = kDefaultRateLimitDelay;
    }
    return TransientError(message, delay);
  }
  return absl::FailedPreconditionError(message);
}

SentrySink::SentrySink(const sinks::SentryOptions& options, SentryDsn dsn)
    : options_(options), dsn_(std::move(dsn)), url_(dsn_.EnvelopeUrl()) {}

SentrySink::~SentrySink() { Stop(); }

absl::Status SentrySink::Start() {
  if (curl_ != nullptr) return absl::OkStatus();
  curl_ = curl_easy_init();
  if (curl_ == nullptr) return TransientError("sentry: curl_easy_init failed");
  headers_ = curl_slist_append(headers_,
                               "Content-Type: application/x-sentry-envelope");
  headers_ = curl_slist_append(
      headers_, absl::StrCat("X-Sentry-Auth: ", dsn_.AuthHeader()).c_str());
  curl_easy_setopt(curl_, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
  curl_easy_setopt(curl_, CURLOPT_POST, 1L);
  // The runner's thread must never get a signal from libcurl's resolver.
  curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, DiscardBody);
  curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, KeepRetryHeaders);
  curl_easy_setopt(curl_, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl_, CURLOPT_XFERINFOFUNCTION, AbortWhenCancelled);
  curl_easy_setopt(curl_, CURLOPT_XFERINFODATA, &cancelled_);
  return absl::OkStatus();
}

absl::Status SentrySink::Post(const std::string& envelope,
                              absl::Time deadline) {
  if (cancelled_.load()) return TransientError("sentry: cancelled");
  const int64_t remaining_ms =
      absl::ToInt64Milliseconds(deadline - absl::Now());
  if (remaining_ms <= 0) {
    return TransientError("sentry: the write deadline has passed");
  }
  retry_after_.clear();
  rate_limits_.clear();
  std::pair<std::string*, std::string*> retry_headers(&retry_after_,
                                                      &rate_limits_);
  curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &retry_headers);
  curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, static_cast<long>(remaining_ms));
  curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, envelope.data());
  curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE,
                   static_cast<curl_off_t>(envelope.size()));
  const CURLcode result = curl_easy_perform(curl_);
  curl_easy_setopt(curl_, CURLOPT_HEADERDATA, nullptr);
  if (result != CURLE_OK) {
    const std::string message =
        absl::StrCat("sentry: POST ", url_, ": ", curl_easy_strerror(result));
    // A URL or protocol libcurl cannot handle fails the same way every time;
    // everything else (connect, resolve, timeout, cancel) is the network's or
    // the server's state.
    if (result == CURLE_UNSUPPORTED_PROTOCOL || result == CURLE_URL_MALFORMAT) {
      return absl::FailedPreconditionError(message);
    }
    return TransientError(message);
  }
  long http_status = 0;
  curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &http_status);
  return ClassifySentryResponse(http_status, retry_after_, rate_limits_,
                                absl::Now());
}

absl::Status SentrySink::Write(absl::Span<const MessageView> batch,
                               absl::Time deadline) {
  if (absl::Status status = Start(); !status.ok()) return status;
  uint64_t unusable = 0;
  for (const MessageView& view : batch) {
    const v1::Message& message = view.message();
    const std::string envelope = SentryEnvelope(
        SentryEventId(message), SentryEventJson(message, options_));
    absl::Status status = Post(envelope, deadline);
    if (IsTransient(status)) return status;
    if (!status.ok()) {
      LOG_EVERY_N(WARNING, 100)
          << status << "; event left out (" << google::COUNTER << " so far)";
      ++unusable;
    }
  }
  unusable_ = unusable;
  return absl::OkStatus();
}

void SentrySink::Cancel() { cancelled_.store(true); }

uint64_t SentrySink::TakeUnusable() { return std::exchange(unusable_, 0); }

void SentrySink::Stop() {
  if (curl_ != nullptr) curl_easy_cleanup(curl_);
  curl_ = nullptr;
  curl_slist_free_all(headers_);
  headers_ = nullptr;
}

}  // namespace metlog
