// A metlog message as a Sentry event (JSON) inside an envelope: the mapping
// sentry.proto documents, trimmed to the size limits in the options.
#ifndef METLOG_SINKS_SENTRY_SENTRY_EVENT_H_
#define METLOG_SINKS_SENTRY_SENTRY_EVENT_H_

#include <string>

#include "proto/metlog.pb.h"
#include "sinks/sentry/sentry.pb.h"

namespace metlog {

// The uuid as 32 lower-case hex digits, or "" when it is not 16 bytes
// (Sentry then assigns an id).
std::string SentryEventId(const v1::Message& message);

// Sentry's level for an RFC 5424 severity.
const char* SentryLevel(int severity);

// The event's JSON, at most options.max_event_bytes() long.
std::string SentryEventJson(const v1::Message& message,
                            const sinks::SentryOptions& options);

// An envelope with one event item, as the envelope endpoint takes it.
std::string SentryEnvelope(const std::string& event_id,
                           const std::string& event_json);

}  // namespace metlog

#endif  // METLOG_SINKS_SENTRY_SENTRY_EVENT_H_
