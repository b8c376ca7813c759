#include "client/stack_trace.h"

#include <dlfcn.h>
#include <unwind.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <mutex>

#include "absl/base/attributes.h"
#include "absl/debugging/symbolize.h"
#include "absl/strings/str_format.h"
#include "client/fork_observer.h"

namespace metlog {
namespace {

// Serializes symbolization and is held across fork(): absl's symbolizer
// keeps caches behind spin locks of its own, which a child must not inherit
// held by a thread that does not exist there.
class SymbolizerLock : public ForkObserver {
 public:
  static SymbolizerLock& Get() {
    // Leaked: fork handlers may run while static destructors do.
    static SymbolizerLock* const lock = [] {
      auto* made = new SymbolizerLock;
      // Taken inside a sender's lock (LockedSender symbolizes while
      // sending), so the fork must take it after every sender's.
      RegisterInnermostForkObserver(made);
      return made;
    }();
    return *lock;
  }

  std::mutex mu;

 private:
  void BeforeFork() override { mu.lock(); }
  void AfterForkInParent() override { mu.unlock(); }
  void AfterForkInChild() override { mu.unlock(); }
};

// What the unwinder fills, one frame per call of RecordFrame.
struct Unwinding {
  RawStackTrace* out;
  int skip;
};

_Unwind_Reason_Code RecordFrame(_Unwind_Context* context, void* arg) {
  Unwinding& unwinding = *static_cast<Unwinding*>(arg);
  if (unwinding.skip > 0) {
    --unwinding.skip;
    return _URC_NO_REASON;
  }
  RawStackTrace& trace = *unwinding.out;
  const uintptr_t address = _Unwind_GetIP(context);
  if (address == 0 || trace.depth == RawStackTrace::kMaxFrames) {
    return _URC_END_OF_STACK;
  }
  trace.frames[trace.depth++] = reinterpret_cast<void*>(address);
  return _URC_NO_REASON;
}

}  // namespace

// libgcc's unwinder directly rather than glibc's backtrace(), which loads it
// lazily on first use and which ASan wraps in a frame of its own.
ABSL_ATTRIBUTE_NOINLINE void CaptureStackTrace(int skip, RawStackTrace* out) {
  out->depth = 0;
  // The unwinder's first frame is this function's.
  Unwinding unwinding{out, std::max(skip, 0) + 1};
  _Unwind_Backtrace(RecordFrame, &unwinding);
}

void AppendStackTraceText(const RawStackTrace& trace, std::string* out) {
  std::lock_guard<std::mutex> lock(SymbolizerLock::Get().mu);
  char function[1024];
  for (int i = 0; i < trace.depth; ++i) {
    const auto address = reinterpret_cast<uintptr_t>(trace.frames[i]);
    // A return address follows its call, which may be the last instruction
    // of its function: look up the byte before it.
    void* const call = reinterpret_cast<void*>(address - 1);
    if (!absl::Symbolize(call, function, sizeof(function))) {
      std::strcpy(function, "??");
    }
    Dl_info object = {};
    const bool known = dladdr(call, &object) != 0 &&
                       object.dli_fname != nullptr &&
                       object.dli_fname[0] != '\0';
    absl::StrAppendFormat(
        out, "#%d 0x%016x in %s (%s+0x%x)\n", i, address, function,
        known ? object.dli_fname : "??",
        known ? address - reinterpret_cast<uintptr_t>(object.dli_fbase)
              : address);
  }
}

}  // namespace metlog
