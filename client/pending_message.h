// What a client call captures on the application's thread. Metric calls hold
// only a name and numbers; the protobuf Message is built later on the
// sender's thread (Materialize), which keeps the hot path free of protobuf
// work and most allocations.
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
// the Client, which outlives every message it hands its sender.
struct Origin {
  std::string logger;
  std::string hostname;
  int32_t pid = 0;
  int32_t severity = 6;
};

struct PendingMessage {
  enum class Kind : uint8_t { kCounter, kTimer, kGauge, kFull };

  Kind kind = Kind::kFull;
  const Origin* origin = nullptr;
  int64_t timestamp_ns = 0;
  // Metric kinds: the metric's name, its value and its sampling rate.
  std::string name;
  int64_t count = 0;  // kCounter
  double value = 0;   // kTimer (milliseconds), kGauge
  double rate = 1.0;  // kCounter, kTimer
  // kFull: the message as the caller built it (any field may be left unset).
  std::unique_ptr<v1::Message> message;
};

// Fills `out` (cleared first) from `pending`: the metric conventions of
// DESIGN.md for metric kinds, and for every kind a random v4 uuid, the
// timestamp, env_version "1.0" and the origin's logger, severity, hostname and
// pid wherever the caller left them unset. Moves from pending.message.
void Materialize(PendingMessage& pending, absl::BitGenRef random,
                 v1::Message* out);

}  // namespace metlog

#endif  // METLOG_CLIENT_PENDING_MESSAGE_H_
