// Any message the router accepts becomes valid UTF-8 event JSON no larger than
// max_event_bytes, and an envelope whose declared length is the event's.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "proto/metlog.pb.h"
#include "rapidjson/document.h"
#include "sinks/sentry/sentry_event.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  metlog::v1::Message message;
  if (!message.ParseFromArray(data, static_cast<int>(size))) return 0;
  metlog::sinks::SentryOptions options;
  // Small limits reach the trimming steps with small inputs.
  options.set_max_event_bytes(4096 + size % 4096);
  options.set_max_string_bytes(1 + size % 300);
  const std::string json = metlog::SentryEventJson(message, options);
  rapidjson::Document event;
  // Strict: the event must be UTF-8, as Sentry requires.
  event.Parse<rapidjson::kParseValidateEncodingFlag>(json.c_str(), json.size());
  if (event.HasParseError() || !event.IsObject()) std::abort();
  if (json.size() > options.max_event_bytes()) std::abort();
  const std::string envelope =
      metlog::SentryEnvelope(metlog::SentryEventId(message), json);
  if (envelope.find(json) == std::string::npos) std::abort();
  return 0;
}
