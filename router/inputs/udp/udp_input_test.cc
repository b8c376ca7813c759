#include "router/inputs/udp/udp_input.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "router/inputs/statsd/statsd_decoder.h"
#include "router/recording_dispatcher.h"

namespace metlog {
namespace {

std::unique_ptr<UdpInput> StartInput(Dispatcher* dispatcher) {
  v1::UdpInputConfig config;
  config.set_address("127.0.0.1:0");
  auto input = UdpInput::Create("udp", config, v1::LimitsConfig(),
                                /*verifier=*/nullptr, dispatcher);
  EXPECT_TRUE(input.ok()) << input.status();
  (*input)->Start();
  return *std::move(input);
}

TEST(UdpInputTest, StopEndsWhileASenderKeepsSending) {
  // Routing is slower than the sender, so the socket is never empty.
  RecordingDispatcher dispatcher(/*open=*/true, absl::Milliseconds(1));
  auto input = StartInput(&dispatcher);
  int port = 0;
  ASSERT_TRUE(absl::SimpleAtoi(
      input->address().substr(input->address().rfind(':') + 1), &port));
  std::atomic<bool> done{false};
  std::thread sender([&] {
    const int fd = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<uint16_t>(port));
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const std::string packet = PacketOf("flood");
    while (!done.load()) {
      sendto(fd, packet.data(), packet.size(), 0,
             reinterpret_cast<const sockaddr*>(&to), sizeof(to));
    }
    close(fd);
  });
  dispatcher.WaitFor(1000);
  // Returns although datagrams keep coming: the input checks for Stop
  // between two datagrams.
  input->Stop(absl::Now() + absl::Seconds(1));
  const uint64_t packets = input->counters().packets.load();
  EXPECT_EQ(dispatcher.payloads().size(), packets);
  done.store(true);
  sender.join();
}

// Sends each datagram to the input from one socket.
void SendDatagrams(const UdpInput& input,
                   const std::vector<std::string>& datagrams) {
  int port = 0;
  ASSERT_TRUE(absl::SimpleAtoi(
      input.address().substr(input.address().rfind(':') + 1), &port));
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (const std::string& datagram : datagrams) {
    ASSERT_EQ(sendto(fd, datagram.data(), datagram.size(), 0,
                     reinterpret_cast<const sockaddr*>(&to), sizeof(to)),
              static_cast<ssize_t>(datagram.size()));
  }
  close(fd);
}

// A statsd input with `threads` reader threads, started.
std::unique_ptr<UdpInput> StartStatsdInput(Dispatcher* dispatcher, int threads,
                                           size_t max_datagram_bytes = 65536) {
  std::vector<std::unique_ptr<DatagramDecoder>> decoders;
  for (int i = 0; i < threads; ++i) {
    decoders.push_back(std::make_unique<StatsdDecoder>(v1::LimitsConfig()));
  }
  auto input =
      UdpInput::Create("statsd", "127.0.0.1:0", 1 << 22, std::move(decoders),
                       dispatcher, max_datagram_bytes);
  EXPECT_TRUE(input.ok()) << input.status();
  (*input)->Start();
  return *std::move(input);
}

TEST(UdpInputTest, DatagramsWaitingInTheSocketArriveInFullAndPartialBatches) {
  RecordingDispatcher dispatcher(/*open=*/false);
  auto input = StartStatsdInput(&dispatcher, /*threads=*/1);
  SendDatagrams(*input, {"first:0|c"});
  // The reader is held with the first datagram while 70 more queue up:
  // two full batches of 32 and a partial one of 6.
  dispatcher.WaitForCaller();
  std::vector<std::string> datagrams, expected = {"0"};
  for (int i = 1; i <= 70; ++i) {
    datagrams.push_back(absl::StrCat("m", i, ":", i, "|c"));
    expected.push_back(absl::StrCat(i));
  }
  SendDatagrams(*input, datagrams);
  dispatcher.Open();
  EXPECT_EQ(dispatcher.WaitFor(71), expected);
  input->Stop(absl::Now() + absl::Seconds(10));
  EXPECT_EQ(input->counters().packets.load(), 71u);
  EXPECT_EQ(input->counters().accepted.load(), 71u);
}

TEST(UdpInputTest, ATruncatedDatagramIsCountedAndItsNeighboursKept) {
  RecordingDispatcher dispatcher(/*open=*/false);
  auto input =
      StartStatsdInput(&dispatcher, /*threads=*/1, /*max_datagram_bytes=*/64);
  SendDatagrams(*input, {"first:0|c"});
  dispatcher.WaitForCaller();
  // Taken in one batch once the reader is let go.
  SendDatagrams(
      *input, {"before:1|c",
               std::string(50, 'x') + ":9|c\n" + std::string(50, 'y') + ":9|c",
               "after:2|c"});
  dispatcher.Open();
  EXPECT_EQ(dispatcher.WaitFor(3), (std::vector<std::string>{"0", "1", "2"}));
  input->Stop(absl::Now() + absl::Seconds(10));
  EXPECT_EQ(input->counters().packets.load(), 4u);
  EXPECT_EQ(input->counters().accepted.load(), 3u);
  EXPECT_EQ(input->counters()
                .rejected[static_cast<int>(RejectReason::kOversizedPacket)]
                .load(),
            1u);
}

TEST(UdpInputTest, SeveralReaderThreadsDeliverEachDatagramOnce) {
  RecordingDispatcher dispatcher;
  auto input = StartStatsdInput(&dispatcher, /*threads=*/3);
  std::vector<std::string> datagrams, expected;
  for (int i = 0; i < 300; ++i) {
    datagrams.push_back(absl::StrCat("m", i, ":", i, "|c\nn", i, ":", i, "|g"));
    expected.push_back(absl::StrCat(i));
    expected.push_back(absl::StrCat(i));
  }
  SendDatagrams(*input, datagrams);
  std::vector<std::string> payloads = dispatcher.WaitFor(600);
  input->Stop(absl::Now() + absl::Seconds(10));
  EXPECT_EQ(input->counters().packets.load(), 300u);
  EXPECT_EQ(dispatcher.payloads().size(), 600u);
  std::sort(payloads.begin(), payloads.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(payloads, expected);
}

}  // namespace
}  // namespace metlog
