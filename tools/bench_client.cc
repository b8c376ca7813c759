#include "tools/bench_client.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "absl/time/clock.h"
#include "client/metlog.h"
#include "client/senders.h"
#include "zmq.hpp"

namespace metlog {
namespace {

// A PULL socket on loopback that drains everything sent to it.
class DrainingPull {
 public:
  DrainingPull() {
    socket_.set(zmq::sockopt::rcvtimeo, 50);
    socket_.bind("tcp://127.0.0.1:*");
    endpoint_ = socket_.get(zmq::sockopt::last_endpoint);
    thread_ = std::thread([this] {
      zmq::message_t frame;
      while (!stop_.load()) (void)socket_.recv(frame);
    });
  }
  ~DrainingPull() {
    stop_.store(true);
    thread_.join();
  }
  const std::string& endpoint() const { return endpoint_; }

 private:
  zmq::context_t context_{1};
  zmq::socket_t socket_{context_, zmq::socket_type::pull};
  std::string endpoint_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// A UDP socket on loopback, standing in for a statsd server, counting the
// datagrams it receives.
class DrainingUdp {
 public:
  DrainingUdp() : fd_(socket(AF_INET, SOCK_DGRAM, 0)) {
    address_.sin_family = AF_INET;
    address_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address_);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&address_), length) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&address_), &length) !=
            0) {
      std::abort();  // a loopback UDP socket always binds port 0
    }
    timeval timeout{0, 50000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    thread_ = std::thread([this] {
      char buffer[2048];
      while (!stop_.load()) {
        if (recv(fd_, buffer, sizeof(buffer), 0) > 0) ++received_;
      }
    });
  }
  ~DrainingUdp() {
    stop_.store(true);
    thread_.join();
    close(fd_);
  }
  const sockaddr_in& address() const { return address_; }
  uint64_t received() const { return received_.load(); }

 private:
  int fd_;
  sockaddr_in address_{};
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> received_{0};
  std::thread thread_;
};

}  // namespace

SenderCost MeasureClientIncr(absl::Duration duration) {
  DrainingPull pull;
  SenderCost cost;
  {
    Client client(MakeZmqSender({pull.endpoint()}), "bench");
    client.Incr("bench.warmup");
    client.Flush(absl::Seconds(10));  // connected
    constexpr int kRound = 4096;      // within the queue's capacity
    uint64_t calls = 0;
    absl::Duration timed;
    const absl::Time end = absl::Now() + duration / 2;
    while (absl::Now() < end) {
      const absl::Time start = absl::Now();
      for (int i = 0; i < kRound; ++i) client.Incr("bench.counter");
      timed += absl::Now() - start;
      calls += kRound;
      client.Flush(absl::Seconds(10));
    }
    cost.nanoseconds_per_call = absl::ToDoubleNanoseconds(timed) / calls;
  }
  Client client(MakeZmqSender({pull.endpoint()}), "bench");
  client.Incr("bench.warmup");
  client.Flush(absl::Seconds(10));
  const ClientStats before = client.Stats();
  const absl::Time start = absl::Now();
  const absl::Time end = start + duration / 2;
  uint64_t calls = 0;
  while (absl::Now() < end) {
    for (int i = 0; i < 256; ++i) client.Incr("bench.counter");
    calls += 256;
  }
  client.Flush(absl::Seconds(10));
  const absl::Duration elapsed = absl::Now() - start;
  const ClientStats after = client.Stats();
  cost.sustained_per_second =
      (after.sent - before.sent) / absl::ToDoubleSeconds(elapsed);
  cost.lost_share =
      static_cast<double>(after.dropped() - before.dropped()) / calls;
  return cost;
}

SenderCost MeasureBlockingSendto(absl::Duration duration) {
  DrainingUdp statsd;
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  static constexpr char kLine[] = "bench.counter:1|c";
  const uint64_t received_before = statsd.received();
  const absl::Time start = absl::Now();
  const absl::Time end = start + duration;
  uint64_t calls = 0;
  absl::Time now = start;
  while (now < end) {
    for (int i = 0; i < 256; ++i) {
      sendto(fd, kLine, sizeof(kLine) - 1, 0,
             reinterpret_cast<const sockaddr*>(&statsd.address()),
             sizeof(sockaddr_in));
    }
    calls += 256;
    now = absl::Now();
  }
  const double seconds = absl::ToDoubleSeconds(now - start);
  close(fd);
  absl::SleepFor(absl::Milliseconds(100));  // the peer reads what is queued
  SenderCost cost;
  cost.nanoseconds_per_call = seconds * 1e9 / calls;
  const uint64_t received = statsd.received() - received_before;
  cost.sustained_per_second = calls / seconds;
  cost.lost_share = 1.0 - std::min(1.0, static_cast<double>(received) / calls);
  return cost;
}

}  // namespace metlog
