// Addresses that cannot work fail at construction, the same way for both
// senders; and a process short of file descriptors gets an error, never an
// abort or an exception.
#include "client/endpoint.h"

#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/metlog.h"
#include "client/senders.h"
#include "gtest/gtest.h"

namespace metlog {
namespace {

TEST(EndpointTest, EndpointsThatCannotWorkAreRefused) {
  for (const char* endpoint :
       {"tcp://127.0.0.1:99999", "tcp://127.0.0.1:0", "tcp://127.0.0.1",
        "tcp://127.0.0.1:", "tcp://256.1.1.1:5565", "tcp://*:5565",
        "tcp://127.0.0.1:+80", "tcp://[::1:5565", "udp://127.0.0.1:5565",
        "ipc:///no/such/directory/metlog.sock",
        "ipc:///tmp/a-path-longer-than-a-unix-socket-address-may-be-"
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "nonsense"}) {
    EXPECT_FALSE(MakeZmqSender({endpoint}).ok()) << endpoint;
  }
}

TEST(EndpointTest, WorkingEndpointsAreAccepted) {
  // Nothing needs to listen: only the directory must exist.
  const std::string ipc = "ipc:///tmp/metlog-endpoint-test.sock";
  for (const std::string& endpoint :
       {std::string("tcp://127.0.0.1:5565"), std::string("tcp://localhost:1"),
        std::string("tcp://[::1]:5565"), ipc, std::string("ipc://@metlog"),
        std::string("inproc://metlog")}) {
    EXPECT_TRUE(CheckConnectEndpoint(endpoint).ok()) << endpoint;
    EXPECT_TRUE(MakeZmqSender({endpoint}).ok()) << endpoint;
  }
}

TEST(EndpointTest, BindEndpointsZeroMqWouldMisreadOrRefuseAreRefused) {
  // ZeroMQ 4.3 binds the first two to ports 34463 and 5565, resolves no host
  // name to bind, and refuses an address of no local interface.
  for (const char* endpoint :
       {"tcp://127.0.0.1:99999", "tcp://*:5565x", "tcp://127.0.0.1:-1",
        "tcp://127.0.0.1:", "tcp://:5565", "tcp://localhost:5565",
        "tcp://256.1.1.1:5565", "tcp://203.0.113.7:5565", "tcp://[::1:5565",
        "tcp://127.0.0.1;127.0.0.1:5565", "bogus://x", "udp://127.0.0.1:5565",
        "ipc:///nonexistent/dir/sock", "inproc://"}) {
    EXPECT_EQ(CheckBindEndpoint(endpoint).code(),
              absl::StatusCode::kInvalidArgument)
        << endpoint;
  }
}

TEST(EndpointTest, BindEndpointsZeroMqTakesAreAccepted) {
  for (const char* endpoint :
       {"tcp://*:5565", "tcp://127.0.0.1:*", "tcp://127.0.0.1:0",
        "tcp://0.0.0.0:65535", "tcp://lo:5565", "ipc:///tmp/metlog.sock",
        "ipc://@metlog", "inproc://metlog"}) {
    EXPECT_TRUE(CheckBindEndpoint(endpoint).ok())
        << endpoint << ": " << CheckBindEndpoint(endpoint);
  }
}

TEST(EndpointTest, BothSendersTreatAnUnresolvableHostAlike) {
  const auto zmq = MakeZmqSender({"tcp://no-such-host.invalid:5565"});
  const auto udp = MakeUdpSender("no-such-host.invalid:5565");
  ASSERT_FALSE(zmq.ok());
  ASSERT_FALSE(udp.ok());
  EXPECT_EQ(zmq.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(udp.status().code(), zmq.status().code());
}

TEST(EndpointTest, UdpPortsOutOfRangeAreRefused) {
  EXPECT_FALSE(MakeUdpSender("127.0.0.1:99999").ok());
  EXPECT_FALSE(MakeUdpSender("127.0.0.1:0").ok());
  EXPECT_FALSE(MakeUdpSender("127.0.0.1:-1").ok());
  EXPECT_TRUE(MakeUdpSender("127.0.0.1:8125").ok());
}

int OpenDescriptors() {
  int count = 0;
  if (DIR* dir = opendir("/proc/self/fd")) {
    while (readdir(dir) != nullptr) ++count;
    closedir(dir);
  }
  return count - 3;  // ".", ".." and the directory's own descriptor
}

// In a child (so an abort cannot take the test down): with only `spare`
// descriptors left, make a client, use it and destroy it. Exit 0 whether
// the sender could be made or not; any abort or exception is a failure.
int RunWithSpareDescriptors(int spare) {
  const pid_t pid = fork();
  if (pid == 0) {
    alarm(20);
    const rlim_t limit = OpenDescriptors() + spare;
    rlimit rl{limit, limit};
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) _exit(10);
    for (int round = 0; round < 3; ++round) {
      auto sender = MakeZmqSender({"tcp://127.0.0.1:5565"});
      if (!sender.ok()) {
        if (sender.status().code() != absl::StatusCode::kResourceExhausted) {
          _exit(11);
        }
        continue;
      }
      Client client(*std::move(sender), "starved");
      client.Incr("x");
      client.Flush(absl::Milliseconds(50));
    }
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(EndpointTest, RunningOutOfFileDescriptorsNeverAbortsOrThrows) {
  for (int spare = 0; spare <= 16; ++spare) {
    EXPECT_EQ(RunWithSpareDescriptors(spare), 0) << spare << " spare";
  }
}

}  // namespace
}  // namespace metlog
