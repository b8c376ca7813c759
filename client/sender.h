// Where a Client's messages go. A sender never blocks and never throws: what
// it cannot deliver it drops and counts.
#ifndef METLOG_CLIENT_SENDER_H_
#define METLOG_CLIENT_SENDER_H_

#include <cstdint>

#include "absl/time/time.h"
#include "client/pending_message.h"

namespace metlog {

// Every message handed to a sender ends up in exactly one of these:
// accepted = sent + queued + dropped().
struct SenderStats {
  uint64_t sent = 0;                // handed to the transport
  uint64_t queued = 0;              // waiting in the sender
  uint64_t dropped_queue_full = 0;  // the bounded queue was full
  uint64_t dropped_unsent = 0;      // the transport refused (no router)
  uint64_t dropped_oversized = 0;   // larger than one packet may carry

  uint64_t dropped() const {
    return dropped_queue_full + dropped_unsent + dropped_oversized;
  }
};

class Sender {
 public:
  virtual ~Sender() = default;

  // Takes the message; returns at once, whatever happens to it.
  virtual void Send(PendingMessage message) = 0;

  // Waits until everything accepted so far is sent or dropped, at most
  // `timeout`. True when nothing is left queued.
  virtual bool Flush(absl::Duration timeout) = 0;

  virtual SenderStats Stats() const = 0;
};

}  // namespace metlog

#endif  // METLOG_CLIENT_SENDER_H_
