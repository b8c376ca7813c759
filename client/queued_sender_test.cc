// The queued sender's bounds and counts against real sockets: bytes held
// with no router or a stalled one, packet and message size limits, counts
// that never add up to more than was sent, and a UDP port that refuses.
#include "client/queued_sender.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/metlog.h"
#include "client/pull_collector.h"
#include "client/senders.h"
#include "gtest/gtest.h"
#include "zmq.hpp"

namespace metlog {
namespace {

using testing::PullCollector;

// An endpoint on which nothing listens: bind a port, then release it.
std::string DeadEndpoint() {
  zmq::context_t context;
  zmq::socket_t socket(context, zmq::socket_type::pull);
  socket.bind("tcp://127.0.0.1:*");
  std::string endpoint = socket.get(zmq::sockopt::last_endpoint);
  socket.close();
  return endpoint;
}

// ASan keeps freed memory in quarantine (256 MiB), so resident memory says
// nothing about what the client holds there; the byte budget is still checked.
#if defined(__SANITIZE_ADDRESS__)
constexpr double kRssSlackMiB = 1024;
#else
constexpr double kRssSlackMiB = 0;
#endif

double ResidentMiB() {
  long pages = 0, resident = 0;
  FILE* statm = std::fopen("/proc/self/statm", "r");
  if (statm == nullptr) return 0;
  if (std::fscanf(statm, "%ld %ld", &pages, &resident) != 2) resident = 0;
  std::fclose(statm);
  return resident * sysconf(_SC_PAGESIZE) / (1024.0 * 1024.0);
}

std::unique_ptr<Client> MakeClient(const std::string& endpoint,
                                   QueuedSender::Options options) {
  auto sender = MakeZmqSender({endpoint}, std::move(options));
  EXPECT_TRUE(sender.ok()) << sender.status();
  return std::make_unique<Client>(*std::move(sender), "bounded");
}

// Three threads send 60 KB messages as fast as they can, while the main
// thread checks the byte budget holds throughout.
void SendBigMessagesWhileCheckingTheBudget(Client& client, size_t budget) {
  const std::string payload(60 << 10, 'x');
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) client.Metlog("log", payload);
    });
  }
  std::thread watcher([&] {
    while (!done.load()) {
      const ClientStats stats = client.Stats();
      ASSERT_LE(stats.queued_bytes, budget);
      absl::SleepFor(absl::Milliseconds(1));
    }
  });
  for (auto& thread : threads) thread.join();
  done.store(true);
  watcher.join();
}

TEST(QueuedSenderTest, BytesHeldWithNoRouterStayWithinTheBudget) {
  QueuedSender::Options options;
  options.max_queued_bytes = 4 << 20;
  options.unsent_grace = absl::Milliseconds(10);
  auto client = MakeClient(DeadEndpoint(), options);
  const double rss_before = ResidentMiB();
  SendBigMessagesWhileCheckingTheBudget(*client, options.max_queued_bytes);
  // 6000 messages of 60 KB are 350 MiB; the budget is 4.
  EXPECT_LT(ResidentMiB() - rss_before, 64.0 + kRssSlackMiB);
  const ClientStats stats = client->Stats();
  EXPECT_GT(stats.dropped_queue_full, 0u);
  EXPECT_EQ(stats.sent + stats.queued + stats.dropped(), 6000u);
}

TEST(QueuedSenderTest, BytesHeldWithAStalledRouterStayBounded) {
  // A peer that accepts the connection and never reads: ZeroMQ's own
  // buffers fill up to send_hwm packets, and the rest is dropped.
  zmq::context_t context;
  zmq::socket_t stalled(context, zmq::socket_type::pull);
  stalled.set(zmq::sockopt::rcvhwm, 1);
  stalled.set(zmq::sockopt::rcvbuf, 4096);
  stalled.bind("tcp://127.0.0.1:*");
  QueuedSender::Options options;
  options.max_queued_bytes = 4 << 20;
  options.unsent_grace = absl::Milliseconds(10);
  auto client = MakeClient(stalled.get(zmq::sockopt::last_endpoint), options);
  const double rss_before = ResidentMiB();
  SendBigMessagesWhileCheckingTheBudget(*client, options.max_queued_bytes);
  client->Flush(absl::Seconds(10));
  // Budget 4 MiB + a packet being built + 32 packets of 128 KiB in ZeroMQ.
  EXPECT_LT(ResidentMiB() - rss_before, 64.0 + kRssSlackMiB);
  EXPECT_GT(client->Stats().dropped(), 0u);
}

TEST(QueuedSenderTest, CountsNeverExceedTheCallsMadeWhileBatchesAreInFlight) {
  PullCollector pull([](const v1::Message&) { return false; });
  // Small packets: a batch leaves in many, counted as it goes.
  QueuedSender::Options options;
  options.max_packet_bytes = 4096;
  auto client = MakeClient(pull.endpoint(), options);
  constexpr int kThreads = 8, kPerThread = 20000;
  std::atomic<uint64_t> returned{0};
  std::atomic<int> running{kThreads};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        client->Incr("counted");
        returned.fetch_add(1);
      }
      running.fetch_sub(1);
    });
  }
  int polls = 0, over = 0;
  while (running.load() > 0) {
    const uint64_t before = returned.load();
    const ClientStats stats = client->Stats();
    const uint64_t after = returned.load();
    const uint64_t accounted = stats.sent + stats.queued + stats.dropped();
    ++polls;
    // Calls still inside Incr() may already be counted: at most one each.
    if (accounted > after + kThreads || accounted < before) ++over;
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(over, 0) << "of " << polls << " polls";
  client->Flush(absl::Seconds(10));
  const ClientStats stats = client->Stats();
  EXPECT_EQ(stats.sent + stats.queued + stats.dropped(),
            static_cast<uint64_t>(kThreads * kPerThread));
}

TEST(QueuedSenderTest, PacketsWithALongSignerNameStayUnderTheBound) {
  zmq::context_t context;
  zmq::socket_t pull(context, zmq::socket_type::pull);
  pull.bind("tcp://127.0.0.1:*");
  pull.set(zmq::sockopt::rcvtimeo, 5000);
  QueuedSender::Options options;
  options.max_packet_bytes = 2000;
  options.signer.emplace(std::string(300, 's'), 1, "key");
  auto client = MakeClient(pull.get(zmq::sockopt::last_endpoint), options);
  for (int i = 0; i < 100; ++i) client->Metlog("log", std::string(100, 'x'));
  ASSERT_TRUE(client->Flush(absl::Seconds(5)));
  size_t messages = 0;
  while (messages < 100) {
    zmq::message_t frame;
    ASSERT_TRUE(pull.recv(frame)) << "after " << messages;
    EXPECT_LE(frame.size(), 2000u);
    v1::Packet packet;
    v1::Batch batch;
    ASSERT_TRUE(packet.ParseFromArray(frame.data(), frame.size()));
    ASSERT_TRUE(batch.ParseFromString(packet.batch()));
    EXPECT_EQ(packet.signature().signer().size(), 300u);
    messages += batch.messages_size();
  }
  EXPECT_EQ(client->Stats().dropped(), 0u);
}

TEST(QueuedSenderTest, MessagesAboveTheRoutersLimitAreDroppedAtTheClient) {
  PullCollector pull;
  auto client = MakeClient(pull.endpoint(), QueuedSender::Options());
  client->Metlog("log", std::string(60 << 10, 'a'));  // fits in 64 KiB
  client->Metlog("log", std::string(70 << 10, 'b'));  // the router drops it
  client->Incr(std::string(70 << 10, 'c'));
  ASSERT_TRUE(client->Flush(absl::Seconds(5)));
  const ClientStats stats = client->Stats();
  EXPECT_EQ(stats.sent, 1u);
  EXPECT_EQ(stats.dropped_oversized, 2u);
  const std::vector<v1::Message> messages = pull.WaitFor(1, absl::Seconds(5));
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].payload()[0], 'a');
  EXPECT_LE(messages[0].ByteSizeLong(), 64u << 10);
}

TEST(QueuedSenderTest, UdpToAClosedPortIsCountedUnsent) {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)),
            0);
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);  // nothing listens there now: the kernel answers ICMP
  QueuedSender::Options options;
  options.unsent_grace = absl::Milliseconds(10);
  auto sender = MakeUdpSender(
      absl::StrCat("127.0.0.1:", ntohs(address.sin_port)), options);
  ASSERT_TRUE(sender.ok()) << sender.status();
  Client client(*std::move(sender), "udp");
  constexpr int kPackets = 20;
  for (int i = 0; i < kPackets; ++i) {
    client.Incr("refused");
    ASSERT_TRUE(client.Flush(absl::Seconds(5)));
    absl::SleepFor(absl::Milliseconds(5));  // lets the ICMP error arrive
  }
  const ClientStats stats = client.Stats();
  EXPECT_EQ(stats.sent + stats.dropped(), static_cast<uint64_t>(kPackets));
  // The last datagram's refusal is only learnt from a next send.
  EXPECT_LE(stats.sent, 1u);
  EXPECT_GE(stats.dropped_unsent, static_cast<uint64_t>(kPackets - 1));
}

}  // namespace
}  // namespace metlog
