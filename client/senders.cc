#include "client/senders.h"

#include <algorithm>
#include <utility>

#include "client/udp_transport.h"

namespace metlog {

absl::StatusOr<std::unique_ptr<Sender>> MakeZmqSender(
    std::vector<std::string> endpoints, QueuedSender::Options options) {
  ZmqTransport::Options transport_options;
  transport_options.endpoints = std::move(endpoints);
  return MakeZmqSender(transport_options, std::move(options));
}

absl::StatusOr<std::unique_ptr<Sender>> MakeZmqSender(
    const ZmqTransport::Options& transport_options,
    QueuedSender::Options options) {
  absl::StatusOr<std::unique_ptr<QueuedSender>> sender = QueuedSender::Create(
      [transport_options]() -> absl::StatusOr<std::unique_ptr<Transport>> {
        absl::StatusOr<std::unique_ptr<ZmqTransport>> transport =
            ZmqTransport::Create(transport_options);
        if (!transport.ok()) return transport.status();
        return std::unique_ptr<Transport>(*std::move(transport));
      },
      std::move(options));
  if (!sender.ok()) return sender.status();
  return std::unique_ptr<Sender>(*std::move(sender));
}

absl::StatusOr<std::unique_ptr<Sender>> MakeUdpSender(
    const std::string& address, QueuedSender::Options options) {
  options.max_packet_bytes = std::min(options.max_packet_bytes, kMaxUdpPayload);
  absl::StatusOr<std::unique_ptr<QueuedSender>> sender = QueuedSender::Create(
      [address]() -> absl::StatusOr<std::unique_ptr<Transport>> {
        absl::StatusOr<std::unique_ptr<UdpTransport>> transport =
            UdpTransport::Create(address);
        if (!transport.ok()) return transport.status();
        return std::unique_ptr<Transport>(*std::move(transport));
      },
      std::move(options));
  if (!sender.ok()) return sender.status();
  return std::unique_ptr<Sender>(*std::move(sender));
}

}  // namespace metlog
