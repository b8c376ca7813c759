#include "router/protobuf_log.h"

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/time/clock.h"
#include "glog/logging.h"
#include "google/protobuf/stubs/logging.h"

namespace metlog {
namespace {

constexpr int64_t kIntervalNs = 1000000000;

std::atomic<int64_t> next_line_ns{0};
std::atomic<uint64_t> held_back{0};

void RateLimitedHandler(google::protobuf::LogLevel level, const char* filename,
                        int line, const std::string& message) {
  const int64_t now = absl::GetCurrentTimeNanos();
  int64_t next = next_line_ns.load(std::memory_order_relaxed);
  // A fatal line always goes out: protobuf aborts after it.
  if (level != google::protobuf::LOGLEVEL_FATAL &&
      (now < next ||
       !next_line_ns.compare_exchange_strong(next, now + kIntervalNs))) {
    held_back.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  const uint64_t held = held_back.exchange(0, std::memory_order_relaxed);
  LOG(WARNING) << "protobuf " << filename << ":" << line << ": " << message
               << (held > 0 ? " (" + std::to_string(held) +
                                  " more protobuf lines held back)"
                            : "");
}

}  // namespace

void RateLimitProtobufLogs() {
  google::protobuf::SetLogHandler(&RateLimitedHandler);
}

}  // namespace metlog
