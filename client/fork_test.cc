// fork() with a live client, as pre-fork servers do: parent and children keep
// sending, each with its own pid, while other parent threads hold the
// client's lock at the moment of the fork. Every wait is bounded: a child that
// hangs is killed by alarm() and the test fails instead of hanging.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <stdexcept>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/immediate_senders.h"
#include "client/metlog.h"
#include "client/pull_collector.h"
#include "client/senders.h"
#include "gtest/gtest.h"

namespace metlog {
namespace {

using testing::PullCollector;

// Child exit codes.
constexpr int kChildOk = 0;
constexpr int kChildFlushTimedOut = 3;
constexpr int kChildWrongCounts = 4;

// The child's exit code, or -1 when it was killed or outlived `timeout`.
int WaitForChild(pid_t pid, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
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

std::string NameOf(const v1::Message& message) {
  for (const v1::Field& field : message.fields()) {
    if (field.name() == "name" && field.value_string_size() > 0) {
      return field.value_string(0);
    }
  }
  return "";
}

// Runs in the child: sends `count` counters named "child", flushes, checks
// its own counts and destroys the client, then _exits.
[[noreturn]] void RunChild(std::unique_ptr<Client> client, int count) {
  alarm(getenv("FORK_TEST_DEBUG")
            ? 100
            : 30);  // a hang in here kills the child, and the parent sees it
  for (int i = 0; i < count; ++i) client->Incr("child");
  const bool flushed = client->Flush(absl::Seconds(15));
  const ClientStats stats = client->Stats();
  if (!flushed || stats.sent != static_cast<uint64_t>(count) ||
      stats.queued != 0) {
    fprintf(stderr,
            "child %d: flushed %d sent %llu queued %llu unsent %llu "
            "queue_full %llu shutdown %llu\n",
            getpid(), flushed, static_cast<unsigned long long>(stats.sent),
            static_cast<unsigned long long>(stats.queued),
            static_cast<unsigned long long>(stats.dropped_unsent),
            static_cast<unsigned long long>(stats.dropped_queue_full),
            static_cast<unsigned long long>(stats.dropped_shutdown));
    _exit(flushed ? kChildWrongCounts : kChildFlushTimedOut);
  }
  client.reset();
  _exit(kChildOk);
}

TEST(ForkTest, ChildrenAndParentKeepSendingWhileOtherThreadsHoldTheLock) {
  alarm(120);  // the whole test, should anything in the parent hang
  PullCollector pull([](const v1::Message& m) { return NameOf(m) != "busy"; });
  auto client =
      std::make_unique<Client>(MakeZmqSender({pull.endpoint()}), "forker");
  ASSERT_TRUE(client->status().ok()) << client->status();

  // Busy threads keep the sender's lock contended across every fork. Most
  // of their calls take the lock without sending (Stats), so the collector
  // is not flooded and a loaded machine still connects every child in time.
  std::atomic<bool> stop{false};
  std::vector<std::thread> busy;
  for (int t = 0; t < 2; ++t) {
    busy.emplace_back([&] {
      for (uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
        if (i % 64 == 0) {
          client->Incr("busy");
        } else {
          client->Stats();
        }
      }
    });
  }
  constexpr int kChildren = 20, kPerChild = 10;
  std::vector<pid_t> children;
  for (int c = 0; c < kChildren; ++c) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) RunChild(std::move(client), kPerChild);
    children.push_back(pid);
    absl::SleepFor(absl::Milliseconds(2));
  }
  std::map<int, int> exit_codes;
  for (pid_t pid : children) {
    ++exit_codes[WaitForChild(pid, absl::Seconds(40))];
  }
  stop.store(true);
  for (auto& thread : busy) thread.join();
  EXPECT_EQ(exit_codes[kChildOk], kChildren)
      << "killed or hung: " << exit_codes[-1]
      << ", flush timed out: " << exit_codes[kChildFlushTimedOut]
      << ", wrong counts: " << exit_codes[kChildWrongCounts];

  // The parent still works after all those forks (once the busy threads'
  // backlog has left, so its message cannot find the queue full).
  ASSERT_TRUE(client->Flush(absl::Seconds(30)));
  client->Incr("parent.after");
  ASSERT_TRUE(client->Flush(absl::Seconds(5)));
  const std::vector<v1::Message> messages =
      pull.WaitFor(kChildren * kPerChild + 1, absl::Seconds(30));
  std::map<int32_t, int> per_child_pid;
  int parent_after = 0;
  for (const v1::Message& m : messages) {
    if (NameOf(m) == "child") ++per_child_pid[m.pid()];
    if (NameOf(m) == "parent.after") {
      ++parent_after;
      EXPECT_EQ(m.pid(), getpid());
    }
  }
  EXPECT_EQ(parent_after, 1);
  ASSERT_EQ(per_child_pid.size(), static_cast<size_t>(kChildren))
      << "each child stamps its own pid";
  for (pid_t pid : children) EXPECT_EQ(per_child_pid[pid], kPerChild) << pid;
  alarm(0);
}

TEST(ForkTest, AChildThatNeverSendsExitsAndItsParentsQueueIsNotSentTwice) {
  alarm(60);
  PullCollector pull;
  auto client =
      std::make_unique<Client>(MakeZmqSender({pull.endpoint()}), "forker");
  // Queued in the parent when it forks: the parent's to send, once.
  for (int i = 0; i < 100; ++i) client->Incr("queued.before.fork");
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    alarm(10);
    client.reset();  // must not wait on the parent's thread
    _exit(kChildOk);
  }
  EXPECT_EQ(WaitForChild(pid, absl::Seconds(20)), kChildOk);
  ASSERT_TRUE(client->Flush(absl::Seconds(5)));
  EXPECT_EQ(client->Stats().sent, 100u);
  absl::SleepFor(absl::Milliseconds(200));  // anything sent twice arrives
  EXPECT_EQ(pull.WaitFor(100, absl::Seconds(5)).size(), 100u);
  alarm(0);
}

TEST(ForkTest, UdpSenderWorksInTheChild) {
  alarm(60);
  // The UDP path shares the sender machinery; a PULL socket is not a UDP
  // peer, so check the child's own counts only.
  const int receiver = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(
      bind(receiver, reinterpret_cast<sockaddr*>(&address), sizeof(address)),
      0);
  socklen_t length = sizeof(address);
  getsockname(receiver, reinterpret_cast<sockaddr*>(&address), &length);
  auto client = std::make_unique<Client>(
      MakeUdpSender(absl::StrCat("127.0.0.1:", ntohs(address.sin_port))),
      "udp-forker");
  ASSERT_TRUE(client->status().ok()) << client->status();
  client->Incr("parent.before");
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) RunChild(std::move(client), 5);
  EXPECT_EQ(WaitForChild(pid, absl::Seconds(20)), kChildOk);
  client->Incr("parent.after");
  ASSERT_TRUE(client->Flush(absl::Seconds(5)));
  EXPECT_EQ(client->Stats().sent, 2u);
  close(receiver);
  alarm(0);
}

// A sender made after the first Exception() registered the symbolizer's
// lock, sending exceptions while another thread forks: the fork must take
// the locks in the order sending does (sender's, then symbolizer's), or
// both threads wait for each other forever.
TEST(ForkTest, ForkingWhileAnotherThreadSendsExceptionsDoesNotDeadlock) {
  // A deadlock fails the test instead of hanging it. Each fork waits for
  // the sender to leave its lock, so forks are slow: they stop after 60 s
  // (or 2000), well before the alarm.
  alarm(240);
  const absl::Time forks_end = absl::Now() + absl::Seconds(60);
  Client first(std::make_unique<CaptureSender>(), "first");
  first.Exception(std::runtime_error("registers the symbolizer"));
  Client second(std::make_unique<CaptureSender>(10), "second");
  std::atomic<bool> stop{false};
  std::thread sender([&] {
    while (!stop.load()) second.Exception(std::runtime_error("y"));
  });
  for (int i = 0; i < 2000 && absl::Now() < forks_end; ++i) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) _exit(0);
    EXPECT_EQ(WaitForChild(pid, absl::Seconds(20)), 0);
  }
  stop.store(true);
  sender.join();
  EXPECT_GT(second.Stats().sent, 0u);
  alarm(0);
}

}  // namespace
}  // namespace metlog
