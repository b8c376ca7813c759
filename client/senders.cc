#include "client/senders.h"

#include <utility>

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
  absl::StatusOr<std::unique_ptr<ZmqTransport>> transport =
      ZmqTransport::Create(transport_options);
  if (!transport.ok()) return transport.status();
  return std::make_unique<QueuedSender>(*std::move(transport),
                                        std::move(options));
}

}  // namespace metlog
