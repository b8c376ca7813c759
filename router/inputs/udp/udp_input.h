// Receives UDP datagrams: one Packet each, or another format's.
#ifndef METLOG_ROUTER_INPUTS_UDP_UDP_INPUT_H_
#define METLOG_ROUTER_INPUTS_UDP_UDP_INPUT_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/config.pb.h"
#include "router/datagram_decoder.h"
#include "router/input.h"
#include "router/inputs/udp/udp_input.pb.h"
#include "router/packet_decoder.h"

namespace metlog {

class UdpInput : public Input {
 public:
  // An input of any datagram format, bound to `address` (host:port).
  static absl::StatusOr<std::unique_ptr<UdpInput>> Create(
      std::string name, const std::string& address,
      uint32_t receive_buffer_bytes, std::unique_ptr<DatagramDecoder> decoder,
      Dispatcher* dispatcher);

  // The same with one reader thread per decoder, all reading the one
  // socket (datagrams are independent, so their order across threads does
  // not matter). A datagram longer than `max_datagram_bytes` is refused
  // undecoded ("oversized_packet"); the default keeps every UDP payload.
  static absl::StatusOr<std::unique_ptr<UdpInput>> Create(
      std::string name, const std::string& address,
      uint32_t receive_buffer_bytes,
      std::vector<std::unique_ptr<DatagramDecoder>> decoders,
      Dispatcher* dispatcher, size_t max_datagram_bytes = 65536);

  // Binds now, so a bad address or a port in use fails the router's start.
  // `verifier` (may be null) checks packets' signatures.
  static absl::StatusOr<std::unique_ptr<UdpInput>> Create(
      std::string name, const v1::UdpInputConfig& config,
      const v1::LimitsConfig& limits,
      std::shared_ptr<const PacketVerifier> verifier, Dispatcher* dispatcher);
  ~UdpInput() override;

  void Start() override;
  // Stops between two batches of datagrams; what the kernel still holds is
  // not read.
  void Stop(absl::Time deadline) override;
  std::string address() const override { return address_; }

 private:
  UdpInput(std::string name, int fd,
           std::vector<std::unique_ptr<DatagramDecoder>> decoders,
           Dispatcher* dispatcher, size_t max_datagram_bytes);
  // One reader thread: takes datagrams in batches (recvmmsg) and decodes
  // them with `decoder`, its own.
  void Run(DatagramDecoder* decoder);

  const int fd_;
  std::string address_;
  const std::vector<std::unique_ptr<DatagramDecoder>> decoders_;
  Dispatcher* const dispatcher_;
  const size_t max_datagram_bytes_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

}  // namespace metlog

#endif  // METLOG_ROUTER_INPUTS_UDP_UDP_INPUT_H_
