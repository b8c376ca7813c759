#include "router/inputs/udp/udp_input.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
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

}  // namespace
}  // namespace metlog
