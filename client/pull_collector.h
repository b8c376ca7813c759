// For tests: a ZeroMQ PULL socket on 127.0.0.1 standing in for the router's
// input, drained by its own thread, which keeps every message it receives.
#ifndef METLOG_CLIENT_PULL_COLLECTOR_H_
#define METLOG_CLIENT_PULL_COLLECTOR_H_

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "proto/metlog.pb.h"
#include "zmq.hpp"

namespace metlog::testing {

class PullCollector {
 public:
  // Keeps the messages for which `keep` is true (all when empty).
  explicit PullCollector(
      std::function<bool(const v1::Message&)> keep = nullptr);
  ~PullCollector();

  const std::string& endpoint() const { return endpoint_; }

  // The messages kept so far.
  std::vector<v1::Message> Messages() const;
  // Waits until at least `count` messages were kept, or `timeout`.
  std::vector<v1::Message> WaitFor(size_t count, absl::Duration timeout) const;
  // Packets that did not parse.
  int bad_packets() const { return bad_packets_.load(); }

 private:
  const std::function<bool(const v1::Message&)> keep_;
  zmq::context_t context_{1};
  zmq::socket_t socket_{context_, zmq::socket_type::pull};
  std::string endpoint_;
  mutable std::mutex mu_;
  std::vector<v1::Message> messages_;
  std::atomic<int> bad_packets_{0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace metlog::testing

#endif  // METLOG_CLIENT_PULL_COLLECTOR_H_
