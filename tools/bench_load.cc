#include "tools/bench_load.h"

#include <algorithm>
#include <utility>

#include "absl/time/clock.h"
#include "zmq.hpp"

namespace metlog {

FramePusher::FramePusher(std::string endpoint, std::string frame) {
  thread_ = std::thread(
      [this, endpoint = std::move(endpoint), frame = std::move(frame)] {
        zmq::context_t context(1);
        zmq::socket_t push(context, zmq::socket_type::push);
        push.set(zmq::sockopt::linger, 0);
        // Wakes up to check stop_ while the receiver holds back.
        push.set(zmq::sockopt::sndtimeo, 100);
        push.connect(endpoint);
        while (!stop_.load(std::memory_order_relaxed)) {
          (void)push.send(zmq::buffer(frame));
        }
      });
}

FramePusher::~FramePusher() {
  stop_.store(true);
  thread_.join();
}

double RawZmqFramesPerSecond(size_t frame_bytes, absl::Duration duration) {
  zmq::context_t context(1);
  zmq::socket_t pull(context, zmq::socket_type::pull);
  pull.set(zmq::sockopt::rcvtimeo, 100);
  pull.bind("tcp://127.0.0.1:*");
  FramePusher pusher(pull.get(zmq::sockopt::last_endpoint),
                     std::string(frame_bytes, 'x'));
  zmq::message_t frame;
  const absl::Time warm =
      absl::Now() + std::min(duration / 5, absl::Seconds(1));
  while (absl::Now() < warm) (void)pull.recv(frame);
  uint64_t received = 0;
  const absl::Time start = absl::Now();
  const absl::Time end = start + duration;
  absl::Time now = start;
  while (now < end) {
    // Reads the clock every 64 frames: reading it per frame would cost a
    // noticeable share of a 1-message frame.
    for (int i = 0; i < 64; ++i) {
      if (pull.recv(frame)) ++received;
    }
    now = absl::Now();
  }
  return received / absl::ToDoubleSeconds(now - start);
}

}  // namespace metlog
