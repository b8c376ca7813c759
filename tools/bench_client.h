// The C++ client's cost to the calling thread beside the classic statsd
// client's: one blocking sendto() per message. Both send to a receiver in
// this process that drains its socket.
#ifndef METLOG_TOOLS_BENCH_CLIENT_H_
#define METLOG_TOOLS_BENCH_CLIENT_H_

#include "absl/time/time.h"

namespace metlog {

struct SenderCost {
  // Mean time one call takes on the calling thread.
  double nanoseconds_per_call = 0;
  // Messages per second that left the process (handed to ZeroMQ, or to
  // the kernel by sendto) while one thread called without pause.
  double sustained_per_second = 0;
  // Client: share of the calls dropped (and counted) rather than sent.
  // sendto: share of the datagrams sent that the peer never received.
  double lost_share = 0;
};

// metlog::Client::Incr() with the ZeroMQ sender and its default options.
// The per-call cost is timed with the queue flushed between rounds of
// calls (outside the timing), so every timed call takes the enqueue path.
SenderCost MeasureClientIncr(absl::Duration duration);

// sendto() of one statsd line per call, blocking.
SenderCost MeasureBlockingSendto(absl::Duration duration);

}  // namespace metlog

#endif  // METLOG_TOOLS_BENCH_CLIENT_H_
