// Shutting a client down is bounded by its deadline whatever other threads
// do; calls made after it are dropped and counted; exit() can flush the
// default client when asked to. Waits are bounded by alarm() and timeouts,
// so a regression fails instead of hanging.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/metlog.h"
#include "client/pull_collector.h"
#include "client/senders.h"
#include "gtest/gtest.h"
#include "zmq.hpp"

namespace metlog {
namespace {

using testing::PullCollector;

std::string DeadEndpoint() {
  zmq::context_t context;
  zmq::socket_t socket(context, zmq::socket_type::pull);
  socket.bind("tcp://127.0.0.1:*");
  std::string endpoint = socket.get(zmq::sockopt::last_endpoint);
  socket.close();
  return endpoint;
}

TEST(ShutdownTest, IsBoundedWhileOtherThreadsKeepSending) {
  alarm(60);
  PullCollector pull([](const v1::Message&) { return false; });
  auto client =
      std::make_unique<Client>(MakeZmqSender({pull.endpoint()}), "loaded");
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> calls{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        client->Incr("load");
        client->Metlog("log", "under load");
        calls.fetch_add(2, std::memory_order_relaxed);
      }
    });
  }
  absl::SleepFor(absl::Milliseconds(100));
  const absl::Time start = absl::Now();
  client->Shutdown(absl::Milliseconds(200));
  const absl::Duration took = absl::Now() - start;
  // The deadline plus one packet's work; generous for a loaded machine.
  EXPECT_LT(took, absl::Seconds(3));
  absl::SleepFor(absl::Milliseconds(50));  // threads keep calling
  stop.store(true);
  for (auto& thread : threads) thread.join();
  const ClientStats stats = client->Stats();
  EXPECT_GT(stats.dropped_shutdown, 0u) << "calls after Shutdown are counted";
  EXPECT_EQ(stats.queued, 0u);
  EXPECT_EQ(stats.queued_bytes, 0u);
  EXPECT_EQ(stats.sent + stats.dropped(), calls.load());
  const absl::Time destroy_start = absl::Now();
  client.reset();
  EXPECT_LT(absl::Now() - destroy_start, absl::Seconds(1));
  alarm(0);
}

TEST(ShutdownTest, DestructionWithAFullQueueAndNoRouterKeepsItsDeadline) {
  alarm(60);
  QueuedSender::Options options;
  options.max_queued_bytes = 512 << 20;
  options.shutdown_timeout = absl::Milliseconds(100);
  auto client =
      std::make_unique<Client>(MakeZmqSender({DeadEndpoint()}, options), "x");
  const std::string payload(50 << 10, 'p');
  for (int i = 0; i < 5000; ++i) client->Metlog("log", payload);
  const absl::Time start = absl::Now();
  client.reset();
  // 250 MB queued: building it all would take seconds.
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  alarm(0);
}

TEST(ShutdownTest, ShutdownSendsWhatIsQueuedWhenTheRouterIsThere) {
  alarm(60);
  PullCollector pull;
  Client client(MakeZmqSender({pull.endpoint()}), "flushed");
  for (int i = 0; i < 1000; ++i) client.Incr(absl::StrCat("n", i));
  EXPECT_TRUE(client.Shutdown(absl::Seconds(10)));
  EXPECT_EQ(client.Stats().sent, 1000u);
  EXPECT_EQ(pull.WaitFor(1000, absl::Seconds(10)).size(), 1000u);
  client.Incr("late");
  EXPECT_EQ(client.Stats().dropped_shutdown, 1u);
  EXPECT_FALSE(client.Shutdown(absl::Seconds(1))) << "only once";
  alarm(0);
}

// Runs exit_helper (a program that sends through the default client from a
// busy thread and its main thread, then calls exit(0)) and returns its exit
// code, or -1 if it had to be killed.
int RunExitHelper(const std::string& endpoint, const char* flush_ms) {
  const pid_t pid = fork();
  if (pid == 0) {
    setenv("METLOG_ENDPOINT", endpoint.c_str(), 1);
    if (flush_ms != nullptr) setenv("METLOG_FLUSH_AT_EXIT_MS", flush_ms, 1);
    const std::string path =
        absl::StrCat(std::getenv("TEST_SRCDIR"), "/",
                     std::getenv("TEST_WORKSPACE"), "/client/exit_helper");
    execl(path.c_str(), path.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (absl::Now() >= deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool IsQueuedBeforeExit(const v1::Message& message) {
  return message.type() == "log" && message.payload() == "queued before exit";
}

TEST(ShutdownTest, ExitFlushesTheDefaultClientWhenAskedTo) {
  PullCollector pull(IsQueuedBeforeExit);
  EXPECT_EQ(RunExitHelper(pull.endpoint(), "5000"), 0);
  EXPECT_EQ(pull.WaitFor(1000, absl::Seconds(10)).size(), 1000u);
}

TEST(ShutdownTest, ExitWithABusyThreadEndsWithoutAFlushToo) {
  PullCollector pull(IsQueuedBeforeExit);
  EXPECT_EQ(RunExitHelper(pull.endpoint(), nullptr), 0);
}

}  // namespace
}  // namespace metlog
