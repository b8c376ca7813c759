// What a client call captures on the application's thread. Metric calls hold
// only a name and numbers (and their fields already encoded), log lines their
// text; the message's bytes are written later on the sender's thread
// (message_writer.h), which keeps the hot path free of protobuf work and
// most allocations.
#ifndef METLOG_CLIENT_PENDING_MESSAGE_H_
#define METLOG_CLIENT_PENDING_MESSAGE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/random/bit_gen_ref.h"
#include "absl/random/random.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "client/stack_trace.h"
#include "client/tag.h"
#include "proto/metlog.pb.h"

namespace metlog {

// Who sends: stamped on every message that does not say otherwise. Owned by
// the Client, which outlives every message it hands its sender. `pid` is
// refreshed in a forked child.
struct Origin {
  std::string logger;
  std::string hostname;
  int32_t pid = 0;
  int32_t severity = 6;
};

// The rarely used parts of a metric call, kept behind one pointer so that a
// plain Incr() moves as few bytes as possible, and in one allocation: short
// fields are kept inline.
class MetricExtras {
 public:
  // User-provided, so make_unique does not zero the inline buffer first.
  MetricExtras() {}

  // Encodes `tags` (tag.h).
  void SetFields(absl::Span<const Tag> tags);
  // Takes fields already encoded.
  void SetFieldsWire(absl::string_view wire);
  // Message.fields entries in protobuf wire format.
  absl::string_view fields_wire() const {
    return inline_size_ > 0 ? absl::string_view(inline_, inline_size_)
                            : absl::string_view(overflow_);
  }
  // Heap bytes beyond the object itself.
  size_t HeapBytes() const;

  // Empty: the origin's logger.
  std::string logger;
  // Negative: the origin's severity.
  int32_t severity = -1;

 private:
  static constexpr size_t kInlineBytes = 112;
  uint32_t inline_size_ = 0;
  char inline_[kInlineBytes];
  std::string overflow_;  // fields longer than kInlineBytes
};

struct PendingMessage {
  // kLog is a plain log line (type "log", no fields), the most frequent
  // message after counters: it holds its payload inline like a metric name.
  enum class Kind : uint8_t {
    kCounter,
    kTimer,
    kHistogram,
    kGauge,
    kLog,
    kFull
  };

  Kind kind = Kind::kFull;
  // kLog: its severity (kept in padding, so no metric grows).
  int8_t severity = 0;
  // Bytes this message holds while queued, charged against the sender's
  // byte budget (set by the sender).
  uint32_t footprint = 0;
  const Origin* origin = nullptr;
  int64_t timestamp_ns = 0;
  // Metric kinds: the metric's name, its value and its sampling rate;
  // kLog: the payload.
  std::string text;
  union {
    int64_t count = 0;  // kCounter
    double value;       // kTimer (milliseconds), kHistogram, kGauge
  };
  double rate = 1.0;                     // kCounter, kTimer, kHistogram
  std::unique_ptr<MetricExtras> extras;  // metric kinds, when used
  // kFull: the message as the caller built it (any field may be left unset);
  // `extras`, when set, add its fields and override its logger and severity.
  std::unique_ptr<v1::Message> message;
  // kFull, from Client::Exception: symbolized into a last field "stack" when
  // the message is built.
  std::unique_ptr<RawStackTrace> stack;
};

// Heap and inline bytes `pending` holds, for the byte budget.
size_t FootprintOfExtras(const PendingMessage& pending);
inline size_t Footprint(const PendingMessage& pending) {
  // std::string keeps up to 15 characters inline.
  size_t bytes =
      sizeof(PendingMessage) +
      (pending.text.capacity() > 15 ? pending.text.capacity() + 1 : 0);
  if (pending.extras != nullptr || pending.message != nullptr ||
      pending.stack != nullptr) {
    bytes += FootprintOfExtras(pending);
  }
  return bytes;
}

// Fills `out` (cleared first) from `pending`: the metric conventions of
// DESIGN.md for metric kinds, and for every kind a random v4 uuid, the
// timestamp, env_version "1.0" and the origin's logger, severity, hostname and
// pid wherever the caller left them unset. Moves from pending.message.
// The senders that deliver on the caller's thread use it; it is also the
// reference MessageWriter is tested against.
void Materialize(PendingMessage& pending, absl::BitGenRef random,
                 v1::Message* out);

}  // namespace metlog

#endif  // METLOG_CLIENT_PENDING_MESSAGE_H_
