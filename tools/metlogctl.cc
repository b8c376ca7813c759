// The command-line face of the router's Admin service:
//   metlogctl [--admin=127.0.0.1:5566] health | stats | reload
//   metlogctl tail ['Type == "timer"'] [--limit=N] [--json]
//   metlogctl curve-keygen PUBLIC_KEY_FILE SECRET_KEY_FILE
// With --tls (or any --tls_* file) it speaks TLS to the router.
#include <iostream>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "grpcpp/grpcpp.h"
#include "proto/admin.grpc.pb.h"
#include "router/curve_keys.h"
#include "router/key_file.h"
#include "sinks/codecs/encoder.h"
#include "sinks/message/shared_packet.h"

ABSL_FLAG(std::string, admin, "127.0.0.1:5566", "The router's admin address.");
ABSL_FLAG(uint64_t, limit, 0,
          "tail: stop after this many messages (0: never).");
ABSL_FLAG(bool, json, false, "tail: print JSON instead of text lines.");
ABSL_FLAG(int, timeout_s, 5, "Deadline for health, stats and reload.");
ABSL_FLAG(bool, tls, false,
          "Speak TLS to the router (implied by any --tls_* file flag).");
ABSL_FLAG(std::string, tls_ca_file, "",
          "TLS: PEM CA certificates the router's certificate must chain to "
          "(empty: the system's).");
ABSL_FLAG(std::string, tls_cert_file, "",
          "TLS: PEM client certificate, for routers that require one.");
ABSL_FLAG(std::string, tls_key_file, "",
          "TLS: PEM private key of --tls_cert_file.");
ABSL_FLAG(std::string, tls_server_name, "",
          "TLS: the name to check the router's certificate against, when it "
          "is not the host of --admin.");

namespace metlog {
namespace {

int Fail(const grpc::Status& status) {
  std::cerr << "metlogctl: " << absl::GetFlag(FLAGS_admin) << ": "
            << status.error_message() << "\n";
  return 2;
}

void SetDeadline(grpc::ClientContext* context) {
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(absl::GetFlag(FLAGS_timeout_s)));
}

// Plaintext, or TLS when a --tls* flag asks for it.
absl::StatusOr<std::shared_ptr<grpc::Channel>> AdminChannel() {
  const std::string admin = absl::GetFlag(FLAGS_admin);
  const std::string ca_file = absl::GetFlag(FLAGS_tls_ca_file);
  const std::string cert_file = absl::GetFlag(FLAGS_tls_cert_file);
  const std::string key_file = absl::GetFlag(FLAGS_tls_key_file);
  if (!absl::GetFlag(FLAGS_tls) && ca_file.empty() && cert_file.empty() &&
      key_file.empty()) {
    return grpc::CreateChannel(admin, grpc::InsecureChannelCredentials());
  }
  grpc::SslCredentialsOptions options;
  for (const auto& [flag, path, pem] :
       {std::tuple("--tls_ca_file", ca_file, &options.pem_root_certs),
        std::tuple("--tls_cert_file", cert_file, &options.pem_cert_chain),
        std::tuple("--tls_key_file", key_file, &options.pem_private_key)}) {
    if (path.empty()) continue;
    absl::StatusOr<std::string> contents = ReadKeyFile(flag, path);
    if (!contents.ok()) return contents.status();
    *pem = *std::move(contents);
  }
  grpc::ChannelArguments arguments;
  if (const std::string name = absl::GetFlag(FLAGS_tls_server_name);
      !name.empty()) {
    arguments.SetSslTargetNameOverride(name);
  }
  return grpc::CreateCustomChannel(admin, grpc::SslCredentials(options),
                                   arguments);
}

void PrintStats(const v1::StatsResponse& stats) {
  for (const v1::InputStats& input : stats.inputs()) {
    std::cout << "input " << input.name() << ": packets "
              << input.packets_received() << ", messages accepted "
              << input.messages_accepted();
    if (input.clients_refused() > 0) {
      std::cout << ", clients refused " << input.clients_refused();
    }
    for (const auto& [reason, n] : input.rejected()) {
      std::cout << ", rejected " << reason << " " << n;
    }
    std::cout << "\n";
  }
  std::cout << "unmatched (no sink took them): " << stats.unmatched() << "\n";
  if (stats.admin_clients_refused() > 0) {
    std::cout << "admin: clients refused " << stats.admin_clients_refused()
              << "\n";
  }
  if (stats.unparseable() > 0) {
    std::cout << "unparseable (a decoder bug, please report): "
              << stats.unparseable() << "\n";
  }
  for (const v1::SinkStats& sink : stats.sinks()) {
    std::cout << "sink " << sink.name()
              << (sink.state() == v1::SinkStats::RETIRING  ? " (retiring)"
                  : sink.state() == v1::SinkStats::REMOVED ? " (removed)"
                                                           : "")
              << ": received " << sink.received() << ", delivered "
              << sink.delivered() << ", queued " << sink.queued() << " ("
              << sink.queued_bytes() << " B)"
              << ", in flight " << sink.in_flight();
    for (const auto& [reason, n] : sink.dropped()) {
      std::cout << ", dropped " << reason << " " << n;
    }
    std::cout << ", write errors " << sink.write_errors() << ", last write "
              << sink.last_write_latency_us() << " us\n";
    if (sink.has_disk()) {
      const v1::DiskStats& disk = sink.disk();
      std::cout << "  disk: " << disk.records() << " records (" << disk.unread()
                << " unread), " << disk.bytes() << " B, oldest "
                << disk.oldest_record_age_ms() << " ms, replayed "
                << disk.replayed() << " of " << disk.pending_at_start()
                << ", corrupted cut " << disk.corrupted_cuts() << " ("
                << disk.corrupted_bytes() << " B), errors " << disk.errors()
                << "\n";
      if (!disk.unavailable().empty()) {
        std::cout << "  disk unavailable: " << disk.unavailable() << "\n";
      }
    }
  }
  for (const v1::TailStats& tail : stats.tails()) {
    std::cout << "tail '" << tail.match() << "': matched " << tail.matched()
              << ", queued " << tail.queued() << " (" << tail.queued_bytes()
              << " B), dropped (viewer behind) " << tail.dropped() << "\n";
  }
}

int Run(const std::vector<char*>& args) {
  if (args.size() < 2) {
    std::cerr << "usage: metlogctl health|stats|reload|tail [MATCH]|"
                 "curve-keygen PUBLIC SECRET\n";
    return 2;
  }
  const std::string command = args[1];
  if (command == "curve-keygen") {
    if (args.size() != 4) {
      std::cerr << "usage: metlogctl curve-keygen PUBLIC_KEY_FILE "
                   "SECRET_KEY_FILE\n";
      return 2;
    }
    if (absl::Status status = WriteCurveKeyPair(args[2], args[3]);
        !status.ok()) {
      std::cerr << "metlogctl: " << status.message() << "\n";
      return 1;
    }
    std::cout << "wrote " << args[2] << " and " << args[3] << "\n";
    return 0;
  }
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = AdminChannel();
  if (!channel.ok()) {
    std::cerr << "metlogctl: " << channel.status().message() << "\n";
    return 2;
  }
  auto stub = v1::Admin::NewStub(*channel);
  grpc::ClientContext context;
  if (command == "health") {
    SetDeadline(&context);
    v1::HealthResponse response;
    grpc::Status status = stub->Health(&context, {}, &response);
    if (!status.ok()) return Fail(status);
    std::cout << response.status() << " (up " << response.uptime_seconds()
              << " s)\n";
    return response.status() == "SERVING" ? 0 : 1;
  }
  if (command == "stats") {
    SetDeadline(&context);
    v1::StatsResponse response;
    grpc::Status status = stub->Stats(&context, {}, &response);
    if (!status.ok()) return Fail(status);
    PrintStats(response);
    return 0;
  }
  if (command == "reload") {
    SetDeadline(&context);
    v1::ReloadResponse response;
    grpc::Status status = stub->Reload(&context, {}, &response);
    if (!status.ok()) return Fail(status);
    if (!response.error().empty()) {
      std::cerr << "metlogctl: reload rejected, the running config stays: "
                << response.error() << "\n";
      return 1;
    }
    std::cout << "reloaded\n";
    return 0;
  }
  if (command == "tail") {
    v1::TailRequest request;
    if (args.size() > 2) request.set_match(args[2]);
    request.set_limit(absl::GetFlag(FLAGS_limit));
    auto reader = stub->Tail(&context, request);
    v1::Message message;
    const std::unique_ptr<Encoder> encoder =
        MakeEncoder(absl::GetFlag(FLAGS_json) ? sinks::EncodingOptions::JSON
                                              : sinks::EncodingOptions::TEXT);
    std::string line;
    while (reader->Read(&message)) {
      // The router sends messages it validated; one that reads back badly
      // is reported, not printed.
      absl::StatusOr<PacketRef> packet =
          SharedPacket::FromMessages(absl::MakeConstSpan(&message, 1));
      if (!packet.ok()) {
        std::cerr << "metlogctl: " << packet.status() << "\n";
        continue;
      }
      line.clear();
      encoder->Append((*packet)->wire(0), (*packet)->fields(0), &line);
      std::cout << line << std::flush;
    }
    grpc::Status status = reader->Finish();
    return status.ok() ? 0 : Fail(status);
  }
  std::cerr << "metlogctl: unknown command \"" << command
            << "\"; expected health, stats, reload, tail or curve-keygen\n";
  return 2;
}

}  // namespace
}  // namespace metlog

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Talks to a Metlog router's Admin service.\n"
      "  metlogctl [--admin=HOST:PORT] health|stats|reload\n"
      "  metlogctl tail ['Type == \"timer\"'] [--limit=N] [--json]\n"
      "  metlogctl curve-keygen PUBLIC_KEY_FILE SECRET_KEY_FILE\n"
      "TLS: --tls_ca_file=CA.pem [--tls_cert_file=C.pem --tls_key_file=K.pem]");
  return metlog::Run(absl::ParseCommandLine(argc, argv));
}
