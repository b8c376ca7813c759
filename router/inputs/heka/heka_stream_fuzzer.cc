// Random byte streams through the Heka framing, fed in pieces whose sizes
// the input's first bytes choose: no crash or sanitizer report, every
// rejection explained, and the buffer never beyond one frame's bound.
#include <cstdint>
#include <cstdlib>

#include "router/inputs/heka/heka_stream.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  metlog::v1::LimitsConfig limits;
  limits.set_max_message_bytes(4096);
  metlog::HekaStream stream(limits, nullptr, false);
  const size_t piece = size > 0 ? 1 + data[0] % 64 : 1;
  for (size_t at = 0; at < size; at += piece) {
    const size_t n = std::min(piece, size - at);
    metlog::DecodeResult result = stream.Feed(
        absl::string_view(reinterpret_cast<const char*>(data) + at, n));
    if (result.rejected_total() > 0 && result.first_error.empty()) {
      std::abort();
    }
    if (stream.buffered() > 2 + 255 + 1 + 4096 + 64) std::abort();
  }
  return 0;
}
