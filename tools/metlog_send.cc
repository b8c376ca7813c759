// Sends messages to a router from the command line:
//   bazel run //tools:metlog_send -- --type=log --payload=hello
#include <cstdlib>
#include <iostream>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "client/metlog.h"
#include "client/senders.h"

ABSL_FLAG(std::string, endpoint, "",
          "Router endpoint; default $METLOG_ENDPOINT, else "
          "tcp://127.0.0.1:5565.");
ABSL_FLAG(std::string, type, "log", "Message type.");
ABSL_FLAG(std::string, payload, "hello from metlog_send", "Message payload.");
ABSL_FLAG(std::string, logger, "metlog_send", "Logger (application name).");
ABSL_FLAG(int, severity, 6, "RFC 5424 severity, 0 (emergency) to 7 (debug).");
ABSL_FLAG(int, count, 1, "How many copies to send.");
ABSL_FLAG(int, flush_every, 0,
          "Wait for the client's queue to drain after every N messages, so "
          "that a long run measures the pipeline rather than the client's "
          "queue overflowing (0: never wait; the client drops and counts "
          "what does not fit).");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Sends messages to a Metlog router.\n"
      "  metlog_send --type=log --payload=hello [--endpoint=tcp://...]");
  absl::ParseCommandLine(argc, argv);
  std::string endpoint = absl::GetFlag(FLAGS_endpoint);
  if (endpoint.empty()) {
    const char* from_env = std::getenv("METLOG_ENDPOINT");
    endpoint = from_env != nullptr ? from_env : "tcp://127.0.0.1:5565";
  }
  auto sender = metlog::MakeZmqSender({endpoint});
  if (!sender.ok()) {
    std::cerr << "metlog_send: " << sender.status().message() << "\n";
    return 2;
  }
  metlog::Client client(*std::move(sender), absl::GetFlag(FLAGS_logger));
  // Read once: each GetFlag takes a lock and copies the string, which would
  // cost more than the call being measured.
  const std::string type = absl::GetFlag(FLAGS_type);
  const std::string payload = absl::GetFlag(FLAGS_payload);
  const int severity = absl::GetFlag(FLAGS_severity);
  const int count = absl::GetFlag(FLAGS_count);
  const int flush_every = absl::GetFlag(FLAGS_flush_every);
  for (int i = 1; i <= count; ++i) {
    client.Metlog(type, payload, {}, severity);
    if (flush_every > 0 && i % flush_every == 0) {
      client.Flush(absl::Seconds(10));
    }
  }
  client.Flush(absl::Seconds(2));
  const metlog::ClientStats stats = client.Stats();
  std::cout << "sent " << stats.sent << ", dropped " << stats.dropped();
  if (stats.dropped() > 0) {
    std::cout << " (queue full " << stats.dropped_queue_full << ", unsent "
              << stats.dropped_unsent << ", oversized "
              << stats.dropped_oversized << ", at shutdown "
              << stats.dropped_shutdown << ")";
  }
  std::cout << "\n";
  if (stats.dropped_unsent > 0) {
    std::cerr << "metlog_send: no router reachable at " << endpoint << "\n";
  }
  return stats.dropped() == 0 ? 0 : 1;
}
