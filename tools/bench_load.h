// Load for //tools:bench: ZeroMQ packets pushed as fast as the receiver
// takes them, and raw libzmq PUSH -> PULL as the yardstick.
#ifndef METLOG_TOOLS_BENCH_LOAD_H_
#define METLOG_TOOLS_BENCH_LOAD_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>

#include "absl/time/time.h"

namespace metlog {

// Pushes one frame over and over to a ZeroMQ endpoint from its own thread,
// from construction until destruction.
class FramePusher {
 public:
  FramePusher(std::string endpoint, std::string frame);
  ~FramePusher();

  FramePusher(const FramePusher&) = delete;
  FramePusher& operator=(const FramePusher&) = delete;

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Frames per second a PULL socket receives from a FramePusher of
// `frame_bytes` frames, both on tcp loopback in this process.
double RawZmqFramesPerSecond(size_t frame_bytes, absl::Duration duration);

}  // namespace metlog

#endif  // METLOG_TOOLS_BENCH_LOAD_H_
