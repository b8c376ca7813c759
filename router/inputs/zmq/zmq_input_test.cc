#include "router/inputs/zmq/zmq_input.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "router/recording_dispatcher.h"

namespace metlog {
namespace {

std::unique_ptr<ZmqInput> StartInput(Dispatcher* dispatcher,
                                     uint32_t decode_threads) {
  v1::ZmqInputConfig config;
  config.set_endpoint("tcp://127.0.0.1:*");
  config.set_decode_threads(decode_threads);
  // Room for every packet the tests send before the dispatcher opens, as
  // the budget allows 10000 of the largest packets.
  config.set_receive_budget_bytes(uint64_t{10000} << 20);
  auto input = ZmqInput::Create("zmq", config, v1::LimitsConfig(),
                                /*verifier=*/nullptr, dispatcher);
  EXPECT_TRUE(input.ok()) << input.status();
  (*input)->Start();
  return *std::move(input);
}

uint64_t Rejected(const Input& input, RejectReason reason) {
  return input.counters().rejected[static_cast<int>(reason)].load();
}

// Whether the kernel holds no unsent or unread bytes on the loopback TCP
// connections to `port` (both ends are in this process): all that was sent
// there has reached ZeroMQ's buffers.
bool LoopbackQueuesEmpty(int port) {
  std::ifstream table("/proc/net/tcp");
  std::string line;
  std::getline(table, line);  // the header
  while (std::getline(table, line)) {
    std::vector<std::string> columns =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (columns.size() < 5) continue;
    auto port_of = [](const std::string& address) {
      int value = 0;
      absl::SimpleHexAtoi(address.substr(address.find(':') + 1), &value);
      return value;
    };
    if (port_of(columns[1]) != port && port_of(columns[2]) != port) continue;
    if (columns[4] != "00000000:00000000") return false;  // tx:rx queues
  }
  return true;
}

int PortOf(const std::string& endpoint) {
  int port = 0;
  EXPECT_TRUE(
      absl::SimpleAtoi(endpoint.substr(endpoint.rfind(':') + 1), &port));
  return port;
}

// Sends each packet as one message, and returns once the kernel has handed
// every byte to the input's ZeroMQ socket.
void SendAll(const std::string& endpoint,
             const std::vector<std::string>& packets) {
  {
    zmq::context_t context;
    zmq::socket_t push(context, zmq::socket_type::push);
    push.set(zmq::sockopt::sndhwm, 0);
    push.connect(endpoint);
    for (const std::string& packet : packets) push.send(zmq::buffer(packet));
    push.set(zmq::sockopt::linger, -1);
  }  // the context's end waits until all is written to the kernel
  const absl::Time give_up = absl::Now() + absl::Minutes(1);
  while (!LoopbackQueuesEmpty(PortOf(endpoint)) && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(5));
  }
}

class ZmqInputTest : public ::testing::TestWithParam<uint32_t> {};

TEST_P(ZmqInputTest, MultipartMessagesAreRefusedCountedAndFreed) {
  RecordingDispatcher dispatcher;
  auto input = StartInput(&dispatcher, GetParam());
  zmq::context_t context;
  zmq::socket_t push(context, zmq::socket_type::push);
  push.connect(input->address());
  push.send(zmq::buffer(PacketOf("first frame")), zmq::send_flags::sndmore);
  push.send(zmq::buffer(PacketOf("second frame")), zmq::send_flags::sndmore);
  push.send(zmq::buffer(PacketOf("third frame")), zmq::send_flags::none);
  push.send(zmq::buffer(PacketOf("single")), zmq::send_flags::none);
  EXPECT_EQ(dispatcher.WaitFor(1), std::vector<std::string>{"single"});
  input->Stop(absl::Now());
  EXPECT_EQ(input->counters().packets.load(), 2u);
  EXPECT_EQ(input->counters().accepted.load(), 1u);
  EXPECT_EQ(Rejected(*input, RejectReason::kMultipartPacket), 1u);
  EXPECT_EQ(dispatcher.payloads(), std::vector<std::string>{"single"});
}

TEST_P(ZmqInputTest, StopRoutesEverythingAlreadyTakenIn) {
  // Routing is held up, so at Stop the packets wait inside the input: in
  // its socket (which holds up to receive_hwm, 10000) and, with several
  // decode threads, between the threads (a few thousand).
  RecordingDispatcher dispatcher(/*open=*/false);
  auto input = StartInput(&dispatcher, GetParam());
  constexpr int kPackets = 9000;
  std::vector<std::string> packets;
  for (int i = 0; i < kPackets; ++i) packets.push_back(PacketOf("m"));
  SendAll(input->address(), packets);
  dispatcher.WaitForCaller();
  std::thread stopper(
      [&input] { input->Stop(absl::Now() + absl::Minutes(1)); });
  absl::SleepFor(absl::Milliseconds(50));  // so that Stop finds a backlog
  dispatcher.Open();
  stopper.join();
  EXPECT_EQ(dispatcher.payloads().size(), static_cast<size_t>(kPackets));
  EXPECT_EQ(input->counters().packets.load(), static_cast<uint64_t>(kPackets));
  EXPECT_EQ(Rejected(*input, RejectReason::kShutdown), 0u);
}

TEST_P(ZmqInputTest, PacketsLeftAtTheDeadlineAreCounted) {
  RecordingDispatcher dispatcher(/*open=*/false);
  auto input = StartInput(&dispatcher, GetParam());
  constexpr int kPackets = 3000;
  std::vector<std::string> packets(kPackets, PacketOf("m"));
  SendAll(input->address(), packets);
  dispatcher.WaitForCaller();
  std::thread stopper([&input] { input->Stop(absl::Now()); });
  absl::SleepFor(absl::Milliseconds(50));
  dispatcher.Open();
  stopper.join();
  // Each packet was routed or counted as left at the deadline.
  EXPECT_EQ(
      dispatcher.payloads().size() + Rejected(*input, RejectReason::kShutdown),
      static_cast<size_t>(kPackets));
  // With one thread, the deadline is past as soon as the socket is closed;
  // decode threads may route some more until the forwarder has finished.
  if (GetParam() == 1) {
    EXPECT_GT(Rejected(*input, RejectReason::kShutdown), 0u);
  }
}

TEST_P(ZmqInputTest, StopEndsWhileASenderKeepsSending) {
  // The sender is faster than routing, so the socket is never empty.
  RecordingDispatcher dispatcher(/*open=*/true, absl::Milliseconds(1));
  auto input = StartInput(&dispatcher, GetParam());
  std::atomic<bool> done{false};
  std::thread sender([&] {
    zmq::context_t context;
    zmq::socket_t push(context, zmq::socket_type::push);
    push.set(zmq::sockopt::sndtimeo, 100);
    push.connect(input->address());
    const std::string packet = PacketOf("flood");
    while (!done.load()) push.send(zmq::buffer(packet), zmq::send_flags::none);
    push.set(zmq::sockopt::linger, 0);
  });
  dispatcher.WaitFor(1000);
  // Returns although the sender never pauses: the input stops taking
  // packets from the network at once.
  input->Stop(absl::Now() + absl::Seconds(1));
  const uint64_t packets = input->counters().packets.load();
  EXPECT_EQ(
      dispatcher.payloads().size() + Rejected(*input, RejectReason::kShutdown),
      packets);
  done.store(true);
  sender.join();
}

// What one peer's packets hold while the decoder waits is ZeroMQ's receive
// high-water mark times the packets' size: the mark keeps it within
// receive_budget_bytes even if every packet is as large as allowed.
TEST(ZmqInputBudgetTest, TheReceiveHwmKeepsOnePeerWithinTheBudget) {
  RecordingDispatcher dispatcher;
  // The mark an input takes with `budget` (0: the default), `receive_hwm`
  // (0: the default) and `max_packet_bytes`.
  auto hwm_of = [&](uint64_t budget, int receive_hwm,
                    uint32_t max_packet_bytes) {
    v1::ZmqInputConfig config;
    config.set_endpoint("tcp://127.0.0.1:*");
    if (budget != 0) config.set_receive_budget_bytes(budget);
    if (receive_hwm != 0) config.set_receive_hwm(receive_hwm);
    v1::LimitsConfig limits;
    limits.set_max_packet_bytes(max_packet_bytes);
    auto input = ZmqInput::Create("zmq", config, limits,
                                  /*verifier=*/nullptr, &dispatcher);
    EXPECT_TRUE(input.ok()) << input.status();
    return input.ok() ? (*input)->receive_hwm() : -1;
  };
  // The defaults: 1 GiB of 1 MiB packets, not 10000 of them (10 GiB).
  EXPECT_EQ(hwm_of(0, 0, 1 << 20), 1024);
  EXPECT_EQ(hwm_of(3 << 20, 0, 1 << 20), 3);
  EXPECT_EQ(hwm_of(1, 0, 1 << 20), 1);
  // Small packets: receive_hwm bounds the mark.
  EXPECT_EQ(hwm_of(0, 0, 131072), 8192);
  EXPECT_EQ(hwm_of(0, 0, 4096), 10000);
  EXPECT_EQ(hwm_of(0, 5, 4096), 5);
}

// --check accepts tcp://[IPv6]:PORT, so start-up must bind it too (ZeroMQ
// refuses it unless told the socket may use IPv6).
TEST(ZmqInputIpv6Test, ABracketedIpv6EndpointBinds) {
  const int probe = socket(AF_INET6, SOCK_STREAM, 0);
  sockaddr_in6 loopback{};
  loopback.sin6_family = AF_INET6;
  loopback.sin6_addr = in6addr_loopback;
  const bool has_ipv6 =
      probe >= 0 && bind(probe, reinterpret_cast<sockaddr*>(&loopback),
                         sizeof(loopback)) == 0;
  if (probe >= 0) close(probe);
  if (!has_ipv6) GTEST_SKIP() << "this host has no IPv6 loopback";
  RecordingDispatcher dispatcher;
  v1::ZmqInputConfig config;
  config.set_endpoint("tcp://[::1]:*");
  auto input = ZmqInput::Create("zmq", config, v1::LimitsConfig(),
                                /*verifier=*/nullptr, &dispatcher);
  ASSERT_TRUE(input.ok()) << input.status();
  EXPECT_EQ((*input)->address().rfind("tcp://[::1]:", 0), 0u)
      << (*input)->address();
}

INSTANTIATE_TEST_SUITE_P(DecodeThreads, ZmqInputTest, ::testing::Values(1, 3));

}  // namespace
}  // namespace metlog
