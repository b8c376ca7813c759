#include "client/client_config.h"

#include <cstdlib>
#include <utility>

#include "client/immediate_senders.h"
#include "client/senders.h"
#include "proto/text_proto.h"

namespace metlog {
namespace {

QueuedSender::Options QueueOptions(const v1::ClientConfig& config) {
  QueuedSender::Options options;
  options.queue_capacity = config.queue_capacity();
  options.max_packet_bytes = config.max_packet_bytes();
  options.linger = absl::Milliseconds(config.linger_ms());
  if (config.has_signer()) {
    options.signer.emplace(config.signer().name(),
                           config.signer().key_version(),
                           config.signer().key());
  }
  return options;
}

absl::StatusOr<std::unique_ptr<Sender>> MakeSender(
    const v1::ClientConfig& config) {
  switch (config.sender()) {
    case v1::ClientConfig::ZMQ: {
      ZmqTransport::Options transport;
      transport.endpoints.assign(config.endpoints().begin(),
                                 config.endpoints().end());
      if (transport.endpoints.empty()) {
        transport.endpoints.push_back("tcp://127.0.0.1:5565");
      }
      transport.curve_server_public_key = config.curve().server_public_key();
      transport.curve_public_key = config.curve().public_key();
      transport.curve_secret_key = config.curve().secret_key();
      return MakeZmqSender(transport, QueueOptions(config));
    }
    case v1::ClientConfig::UDP:
      return MakeUdpSender(config.udp_address(), QueueOptions(config));
    case v1::ClientConfig::STREAM: {
      absl::StatusOr<std::unique_ptr<StreamSender>> stream =
          StreamSender::Open(config.stream_path());
      if (!stream.ok()) return stream.status();
      return std::unique_ptr<Sender>(*std::move(stream));
    }
    case v1::ClientConfig::CAPTURE:
      return std::unique_ptr<Sender>(
          std::make_unique<CaptureSender>(config.capture_limit()));
  }
  return absl::InvalidArgumentError("unknown sender kind");
}

}  // namespace

absl::StatusOr<v1::ClientConfig> ParseClientConfig(absl::string_view text,
                                                   absl::string_view source) {
  v1::ClientConfig config;
  if (absl::Status status = ParseTextProto(text, source, &config);
      !status.ok()) {
    return status;
  }
  return config;
}

v1::ClientConfig WithEnvironment(v1::ClientConfig config) {
  if (const char* endpoint = std::getenv("METLOG_ENDPOINT");
      endpoint != nullptr && *endpoint != '\0') {
    config.clear_endpoints();
    config.add_endpoints(endpoint);
  }
  if (const char* logger = std::getenv("METLOG_LOGGER");
      logger != nullptr && *logger != '\0') {
    config.set_logger(logger);
  }
  return config;
}

absl::StatusOr<std::unique_ptr<Client>> MakeClient(
    const v1::ClientConfig& config) {
  absl::StatusOr<std::unique_ptr<Sender>> sender = MakeSender(config);
  if (!sender.ok()) return sender.status();
  return std::make_unique<Client>(*std::move(sender), config.logger(),
                                  config.severity(),
                                  MessageFilter(config.filters()));
}

absl::StatusOr<std::unique_ptr<Client>> MakeClientFromEnvironment(
    std::string logger) {
  v1::ClientConfig config;
  config.set_logger(std::move(logger));
  return MakeClient(WithEnvironment(std::move(config)));
}

}  // namespace metlog
