#include "client/client_config.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/immediate_senders.h"
#include "client/senders.h"
#include "proto/text_proto.h"

namespace metlog {
namespace {

QueuedSender::Options QueueOptions(const v1::ClientConfig& config) {
  QueuedSender::Options options;
  options.queue_capacity = config.queue_capacity();
  options.max_queued_bytes = config.max_queued_bytes();
  options.max_packet_bytes = config.max_packet_bytes();
  options.max_message_bytes = config.max_message_bytes();
  options.linger = absl::Milliseconds(config.linger_ms());
  options.shutdown_timeout = absl::Milliseconds(config.shutdown_timeout_ms());
  if (config.has_signer()) {
    options.signer.emplace(config.signer().name(),
                           config.signer().key_version(),
                           config.signer().key());
  }
  return options;
}

// The variable's value, or null when unset or empty.
const char* Variable(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : nullptr;
}

absl::Status BadVariable(const char* name, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(name, ": ", why));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Sender>> MakeConfiguredSender(
    const v1::ClientConfig& config) {
  switch (config.sender()) {
    case v1::ClientConfig::ZMQ: {
      ZmqTransport::Options transport;
      transport.endpoints.assign(config.endpoints().begin(),
                                 config.endpoints().end());
      if (transport.endpoints.empty()) {
        transport.endpoints.push_back("tcp://127.0.0.1:5565");
      }
      transport.send_hwm = config.send_hwm();
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

absl::StatusOr<v1::ClientConfig> ParseClientConfig(absl::string_view text,
                                                   absl::string_view source) {
  v1::ClientConfig config;
  if (absl::Status status = ParseTextProto(text, source, &config);
      !status.ok()) {
    return status;
  }
  return config;
}

absl::StatusOr<v1::ClientConfig> LoadClientConfig(const std::string& path) {
  std::ifstream file(path);
  if (!file) {
    return absl::InvalidArgumentError(
        absl::StrCat("client config ", path, ": cannot be read"));
  }
  std::stringstream text;
  text << file.rdbuf();
  return ParseClientConfig(text.str(), path);
}

absl::StatusOr<v1::ClientConfig> WithEnvironment(v1::ClientConfig config) {
  if (const char* endpoint = Variable("METLOG_ENDPOINT")) {
    config.clear_endpoints();
    config.add_endpoints(endpoint);
  }
  if (const char* logger = Variable("METLOG_LOGGER")) {
    config.set_logger(logger);
  }
  if (const char* text = Variable("METLOG_SEVERITY")) {
    int severity = 0;
    if (!absl::SimpleAtoi(text, &severity) || severity < 0 || severity > 7) {
      return BadVariable("METLOG_SEVERITY", "not a severity from 0 to 7");
    }
    config.set_severity(severity);
  }
  if (const char* signer = Variable("METLOG_SIGNER")) {
    const char* key = Variable("METLOG_SIGNER_KEY");
    if (key == nullptr) {
      return BadVariable("METLOG_SIGNER", "needs METLOG_SIGNER_KEY");
    }
    config.mutable_signer()->set_name(signer);
    config.mutable_signer()->set_key(key);
    if (const char* text = Variable("METLOG_SIGNER_KEY_VERSION")) {
      uint32_t version = 0;
      if (!absl::SimpleAtoi(text, &version)) {
        return BadVariable("METLOG_SIGNER_KEY_VERSION", "not a number");
      }
      config.mutable_signer()->set_key_version(version);
    }
  }
  if (const char* text = Variable("METLOG_FLUSH_AT_EXIT_MS")) {
    uint32_t ms = 0;
    if (!absl::SimpleAtoi(text, &ms)) {
      return BadVariable("METLOG_FLUSH_AT_EXIT_MS", "not a number");
    }
    config.set_flush_at_exit_ms(ms);
  }
  return config;
}

absl::StatusOr<std::unique_ptr<Client>> MakeClient(
    const v1::ClientConfig& config) {
  absl::StatusOr<std::unique_ptr<Sender>> sender = MakeConfiguredSender(config);
  if (!sender.ok()) return sender.status();
  return std::make_unique<Client>(*std::move(sender), config.logger(),
                                  config.severity(),
                                  MessageFilter(config.filters()));
}

absl::StatusOr<v1::ClientConfig> ConfigFromEnvironment(std::string logger) {
  v1::ClientConfig config;
  if (const char* path = Variable("METLOG_CONFIG")) {
    absl::StatusOr<v1::ClientConfig> loaded = LoadClientConfig(path);
    if (!loaded.ok()) return loaded.status();
    config = *std::move(loaded);
  }
  if (!config.has_logger()) config.set_logger(std::move(logger));
  return WithEnvironment(std::move(config));
}

absl::StatusOr<std::unique_ptr<Client>> MakeClientFromEnvironment(
    std::string logger) {
  absl::StatusOr<v1::ClientConfig> config =
      ConfigFromEnvironment(std::move(logger));
  if (!config.ok()) return config.status();
  return MakeClient(*config);
}

}  // namespace metlog
