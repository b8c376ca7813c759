// The wall clock, safe in a forked child. absl::GetCurrentTimeNanos() takes
// a spin lock now and then to recalibrate; a child forked while another
// thread held it spins forever on its first call. After a fork the client
// reads clock_gettime() instead (slower, but lock-free); before one it keeps
// Abseil's faster clock.
#ifndef METLOG_CLIENT_FORK_SAFE_CLOCK_H_
#define METLOG_CLIENT_FORK_SAFE_CLOCK_H_

#include <time.h>

#include <atomic>
#include <cstdint>

#include "absl/base/optimization.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace metlog {

namespace clock_internal {
inline std::atomic<bool> in_forked_child{false};
}  // namespace clock_internal

// Called by the fork handlers in the child (fork_observer.cc).
inline void UseForkSafeClock() {
  clock_internal::in_forked_child.store(true, std::memory_order_relaxed);
}

// Nanoseconds since the Unix epoch.
inline int64_t WallNanos() {
  if (ABSL_PREDICT_FALSE(
          clock_internal::in_forked_child.load(std::memory_order_relaxed))) {
    timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return int64_t{now.tv_sec} * 1000000000 + now.tv_nsec;
  }
  return absl::GetCurrentTimeNanos();
}

inline absl::Time WallNow() { return absl::FromUnixNanos(WallNanos()); }

}  // namespace metlog

#endif  // METLOG_CLIENT_FORK_SAFE_CLOCK_H_
