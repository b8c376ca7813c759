#include "client/default_client.h"

#include <errno.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <utility>

#include "client/client_config.h"

namespace metlog {
namespace {

// Leaked on purpose, like the client: they must outlive static destructors.
struct DefaultClientState {
  std::mutex mu;
  std::optional<v1::ClientConfig> config;
  std::atomic<Client*> client{nullptr};
  absl::Duration flush_at_exit;
};

DefaultClientState& State() {
  static DefaultClientState* const state = new DefaultClientState;
  return *state;
}

void ShutdownAtExit() {
  DefaultClientState& state = State();
  if (Client* client = state.client.load(std::memory_order_acquire)) {
    client->Shutdown(state.flush_at_exit);
  }
}

Client* MakeDefaultClient(DefaultClientState& state) {
  absl::StatusOr<v1::ClientConfig> config =
      state.config.has_value()
          ? WithEnvironment(*state.config)
          : ConfigFromEnvironment(program_invocation_short_name);
  if (!config.ok()) {
    return new Client(absl::StatusOr<std::unique_ptr<Sender>>(config.status()),
                      program_invocation_short_name);
  }
  if (!config->has_logger()) config->set_logger(program_invocation_short_name);
  Client* client =
      new Client(MakeConfiguredSender(*config), config->logger(),
                 config->severity(), MessageFilter(config->filters()));
  if (config->flush_at_exit_ms() > 0) {
    state.flush_at_exit = absl::Milliseconds(config->flush_at_exit_ms());
    std::atexit(ShutdownAtExit);
  }
  return client;
}

}  // namespace

Client& DefaultClient() {
  DefaultClientState& state = State();
  if (Client* client = state.client.load(std::memory_order_acquire)) {
    return *client;
  }
  std::lock_guard<std::mutex> lock(state.mu);
  Client* client = state.client.load(std::memory_order_relaxed);
  if (client == nullptr) {
    client = MakeDefaultClient(state);
    state.client.store(client, std::memory_order_release);
  }
  return *client;
}

absl::Status ConfigureDefaultClient(v1::ClientConfig config) {
  DefaultClientState& state = State();
  std::lock_guard<std::mutex> lock(state.mu);
  if (state.client.load(std::memory_order_relaxed) != nullptr) {
    return absl::FailedPreconditionError(
        "the default client exists already; configure it before first use");
  }
  state.config = std::move(config);
  return absl::OkStatus();
}

}  // namespace metlog
