// Where a Client's messages go. A sender never blocks beyond a deadline its
// caller gives and never throws: what it cannot deliver it drops and counts.
#ifndef METLOG_CLIENT_SENDER_H_
#define METLOG_CLIENT_SENDER_H_

#include <cstdint>

#include "absl/time/time.h"
#include "client/pending_message.h"

namespace metlog {

// Every message handed to a sender ends up in exactly one of these:
// accepted = sent + queued + dropped(). One Stats() call is one consistent
// snapshot.
struct SenderStats {
  uint64_t sent = 0;                // handed to the transport
  uint64_t queued = 0;              // waiting in the sender or being sent
  uint64_t queued_bytes = 0;        // what those hold, against the budget
  uint64_t dropped_queue_full = 0;  // the queue's message or byte bound
  uint64_t dropped_unsent = 0;      // the transport or the peer refused
  uint64_t dropped_oversized = 0;   // above the message or packet size bound
  uint64_t dropped_shutdown = 0;    // sent after Shutdown, or still queued
                                    // at its deadline
  uint64_t dropped_no_sender = 0;   // the client has no working sender

  uint64_t dropped() const {
    return dropped_queue_full + dropped_unsent + dropped_oversized +
           dropped_shutdown + dropped_no_sender;
  }
};

class Sender {
 public:
  virtual ~Sender() = default;

  // Takes the message (moved from); returns at once, whatever happens to it.
  virtual void Send(PendingMessage&& message) = 0;

  // Waits until everything accepted so far is sent or dropped, at most
  // `timeout`. True when nothing is left queued.
  virtual bool Flush(absl::Duration timeout) = 0;

  // Stops taking messages (later ones are dropped and counted as
  // dropped_shutdown), sends what is queued until `timeout` has passed, drops
  // and counts the rest, and releases threads and sockets. Returns within
  // `timeout` plus the time to finish one packet. True when everything was
  // sent. Calling it again does nothing and returns false.
  virtual bool Shutdown(absl::Duration timeout) = 0;

  // What ~Client gives Shutdown().
  virtual absl::Duration shutdown_timeout() const { return absl::Seconds(1); }

  virtual SenderStats Stats() const = 0;
};

}  // namespace metlog

#endif  // METLOG_CLIENT_SENDER_H_
