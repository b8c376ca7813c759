// The process-wide client, configured from a config file and the
// environment. One process has one default client, so each case runs in a
// forked child that reports through its exit code.
#include "client/default_client.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <functional>

#include "absl/strings/str_cat.h"
#include "client/client_config.h"
#include "client/immediate_senders.h"
#include "gtest/gtest.h"

namespace metlog {
namespace {

// Runs `check` in a child; its return value is the child's exit code.
int InChild(const std::function<int()>& check) {
  const pid_t pid = fork();
  if (pid == 0) {
    alarm(20);
    _exit(check());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string WriteConfig(const std::string& name, const std::string& text) {
  const std::string path = absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name);
  std::ofstream(path) << text;
  return path;
}

TEST(DefaultClientTest, ComesFromTheConfigFileAndTheEnvironment) {
  const std::string path = WriteConfig(
      "capture.textproto", R"pb(
        sender: CAPTURE logger: "from-file" severity: 5
      )pb");
  EXPECT_EQ(InChild([&] {
              setenv("METLOG_CONFIG", path.c_str(), 1);
              setenv("METLOG_SEVERITY", "3", 1);
              Client& client = DefaultClient();
              if (!client.status().ok()) return 1;
              if (&client != &DefaultClient()) return 2;
              client.Incr("hits");
              auto* capture = dynamic_cast<CaptureSender*>(&client.sender());
              if (capture == nullptr) return 3;
              const auto messages = capture->Messages();
              if (messages.size() != 1) return 4;
              if (messages[0].logger() != "from-file") return 5;
              if (messages[0].severity() != 3) return 6;
              if (ConfigureDefaultClient({}).ok()) return 7;
              return 0;
            }),
            0);
}

TEST(DefaultClientTest, ConfiguredInCodeWithTheProgramNameAsLogger) {
  EXPECT_EQ(InChild([] {
              v1::ClientConfig config;
              config.set_sender(v1::ClientConfig::CAPTURE);
              if (!ConfigureDefaultClient(config).ok()) return 1;
              Client& client = DefaultClient();
              client.Warn("configured");
              auto* capture = dynamic_cast<CaptureSender*>(&client.sender());
              if (capture == nullptr || capture->Messages().size() != 1) {
                return 2;
              }
              return client.logger() == program_invocation_short_name ? 0 : 3;
            }),
            0);
}

TEST(DefaultClientTest, ABadEnvironmentGivesAClientThatSaysWhy) {
  EXPECT_EQ(InChild([] {
              setenv("METLOG_ENDPOINT", "tcp://127.0.0.1:99999", 1);
              Client& client = DefaultClient();
              if (client.status().ok()) return 1;
              client.Incr("dropped");
              return client.Stats().dropped_no_sender == 1 ? 0 : 2;
            }),
            0);
  EXPECT_EQ(InChild([] {
              setenv("METLOG_SEVERITY", "loud", 1);
              return DefaultClient().status().ok() ? 1 : 0;
            }),
            0);
}

TEST(DefaultClientTest, SignerFromTheEnvironment) {
  setenv("METLOG_SIGNER", "billing", 1);
  setenv("METLOG_SIGNER_KEY", "s3cret", 1);
  setenv("METLOG_SIGNER_KEY_VERSION", "4", 1);
  const absl::StatusOr<v1::ClientConfig> config = WithEnvironment({});
  unsetenv("METLOG_SIGNER");
  unsetenv("METLOG_SIGNER_KEY");
  unsetenv("METLOG_SIGNER_KEY_VERSION");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->signer().name(), "billing");
  EXPECT_EQ(config->signer().key(), "s3cret");
  EXPECT_EQ(config->signer().key_version(), 4u);
  setenv("METLOG_SIGNER", "no-key", 1);
  EXPECT_FALSE(WithEnvironment({}).ok());
  unsetenv("METLOG_SIGNER");
}

}  // namespace
}  // namespace metlog
