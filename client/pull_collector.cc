#include "client/pull_collector.h"

#include "absl/time/clock.h"

namespace metlog::testing {

PullCollector::PullCollector(std::function<bool(const v1::Message&)> keep)
    : keep_(std::move(keep)) {
  socket_.set(zmq::sockopt::rcvtimeo, 50);
  socket_.bind("tcp://127.0.0.1:*");
  endpoint_ = socket_.get(zmq::sockopt::last_endpoint);
  thread_ = std::thread([this] {
    while (!stop_.load()) {
      zmq::message_t frame;
      if (!socket_.recv(frame)) continue;
      v1::Packet packet;
      v1::Batch batch;
      if (!packet.ParseFromArray(frame.data(), frame.size()) ||
          !batch.ParseFromString(packet.batch())) {
        ++bad_packets_;
        continue;
      }
      std::lock_guard<std::mutex> lock(mu_);
      for (v1::Message& message : *batch.mutable_messages()) {
        if (keep_ == nullptr || keep_(message)) {
          messages_.push_back(std::move(message));
        }
      }
    }
  });
}

PullCollector::~PullCollector() {
  stop_.store(true);
  thread_.join();
}

std::vector<v1::Message> PullCollector::Messages() const {
  std::lock_guard<std::mutex> lock(mu_);
  return messages_;
}

std::vector<v1::Message> PullCollector::WaitFor(size_t count,
                                                absl::Duration timeout) const {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    std::vector<v1::Message> messages = Messages();
    if (messages.size() >= count || absl::Now() >= deadline) return messages;
    absl::SleepFor(absl::Milliseconds(10));
  }
}

}  // namespace metlog::testing
