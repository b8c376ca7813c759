// Stack traces for Client::Exception, in two steps so that the caller pays
// only for the first: CaptureStackTrace records raw return addresses on the
// caller's thread (an unwind, no symbol lookup, no allocation), and
// AppendStackTraceText names them later, on the sender's thread.
#ifndef METLOG_CLIENT_STACK_TRACE_H_
#define METLOG_CLIENT_STACK_TRACE_H_

#include <string>

namespace metlog {

// Return addresses, innermost first.
struct RawStackTrace {
  static constexpr int kMaxFrames = 64;
  int depth = 0;
  void* frames[kMaxFrames];
};

// Records the calling thread's stack into `out`, leaving out
// CaptureStackTrace itself and the `skip` frames above it (the caller's
// own helpers). Walks the unwind tables (libgcc's unwinder, as exceptions
// do), so it works without frame pointers; no allocation, no lock.
void CaptureStackTrace(int skip, RawStackTrace* out);

// Appends one line per frame, innermost first, in the format the Sentry
// sink reads (client/metlog.h documents it):
//   #0 0x000055d3c4a1b2c3 in shop::Checkout() (/srv/shop/bin/shop+0x1b2c3)
// The function is "??" when no symbol covers the address; names come from
// the ELF symbol tables (absl::Symbolize), so static functions are named
// too and no -rdynamic is needed. Takes a lock that fork() waits for, so a
// child never inherits the symbolizer half-way through.
void AppendStackTraceText(const RawStackTrace& trace, std::string* out);

}  // namespace metlog

#endif  // METLOG_CLIENT_STACK_TRACE_H_
