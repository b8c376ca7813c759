#include "client/stack_trace.h"

#include <dlfcn.h>
#include <execinfo.h>

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
      RegisterForkObserver(made);
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

}  // namespace

ABSL_ATTRIBUTE_NOINLINE void CaptureStackTrace(int skip, RawStackTrace* out) {
  constexpr int kMaxSkip = 8;
  skip = std::clamp(skip, 0, kMaxSkip);
  // This function's own frame comes first.
  void* frames[RawStackTrace::kMaxFrames + kMaxSkip + 1];
  const int depth =
      backtrace(frames, RawStackTrace::kMaxFrames + skip + 1) - skip - 1;
  out->depth = std::max(depth, 0);
  if (out->depth > 0) {
    std::memcpy(out->frames, frames + skip + 1, out->depth * sizeof(void*));
  }
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

void PrepareStackCapture() {
  static const bool prepared = [] {
    void* frame[1];
    return backtrace(frame, 1) >= 0;
  }();
  (void)prepared;
}

}  // namespace metlog
