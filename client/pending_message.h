// What a client call captures on the application's thread. Metric calls hold
// only a name and numbers (and their fields already encoded); the protobuf
// Message is built later on the sender's thread (Materialize), which keeps
// the hot path free of protobuf work and most allocations.
#ifndef METLOG_CLIENT_PENDING_MESSAGE_H_
#define METLOG_CLIENT_PENDING_MESSAGE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/random/bit_gen_ref.h"
#include "absl/random/random.h"
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
// plain Incr() moves as few bytes as possible.
struct MetricExtras {
  // Message.fields entries in protobuf wire format (see tag.h).
  std::string fields_wire;
  // Empty: the origin's logger.
  std::string logger;
  // Negative: the origin's severity.
  int32_t severity = -1;
};

struct PendingMessage {
  enum class Kind : uint8_t { kCounter, kTimer, kGauge, kFull };

  Kind kind = Kind::kFull;
  // Bytes this message holds while queued, charged against the sender's
  // byte budget (set by the sender).
  uint32_t footprint = 0;
  const Origin* origin = nullptr;
  int64_t timestamp_ns = 0;
  // Metric kinds: the metric's name, its value and its sampling rate.
  std::string name;
  int64_t count = 0;  // kCounter
  double value = 0;   // kTimer (milliseconds), kGauge
  double rate = 1.0;  // kCounter, kTimer
  std::unique_ptr<MetricExtras> extras;  // metric kinds, when used
  // kFull: the message as the caller built it (any field may be left unset).
  std::unique_ptr<v1::Message> message;
};

// Heap and inline bytes `pending` holds, for the byte budget.
size_t Footprint(const PendingMessage& pending);

// Fills `out` (cleared first) from `pending`: the metric conventions of
// DESIGN.md for metric kinds, and for every kind a random v4 uuid, the
// timestamp, env_version "1.0" and the origin's logger, severity, hostname and
// pid wherever the caller left them unset. Moves from pending.message.
void Materialize(PendingMessage& pending, absl::BitGenRef random,
                 v1::Message* out);

}  // namespace metlog

#endif  // METLOG_CLIENT_PENDING_MESSAGE_H_
