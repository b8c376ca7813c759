// The router binary itself: what `--check` refuses, and how it treats a
// closed stdout. Runs //router as a child process.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/net/socket_address.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/admin.grpc.pb.h"
#include "proto/metlog.pb.h"
#include "tools/testing/peer_process.h"
#include "tools/testing/router_process.h"

extern char** environ;

namespace metlog {
namespace {

using ::metlog::testing::ReadFile;
using ::metlog::testing::Runfile;
using ::metlog::testing::TempPath;
using ::testing::HasSubstr;

struct Child {
  pid_t pid = -1;
  std::string stderr_path;
  bool ended = false;
  int status = 0;  // waitpid's, once ended

  // Whether the child has ended (reaping it once).
  bool Ended() {
    if (!ended && waitpid(pid, &status, WNOHANG) == pid) ended = true;
    return ended;
  }
};

// Starts the router with `config_text`; its stdout is `stdout_fd`, its
// stderr a file.
Child StartRouter(const std::string& name, const std::string& config_text,
                  const std::vector<std::string>& flags, int stdout_fd) {
  Child child;
  const std::string config_path = TempPath(name + ".textproto");
  std::ofstream(config_path) << config_text;
  child.stderr_path = TempPath(name + ".stderr");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, stdout_fd, STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO,
                                   child.stderr_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> argv = {Runfile("router/router"),
                                   absl::StrCat("--config=", config_path)};
  argv.insert(argv.end(), flags.begin(), flags.end());
  std::vector<char*> args;
  for (std::string& arg : argv) args.push_back(arg.data());
  args.push_back(nullptr);
  // The test runner may ignore SIGPIPE; the router must not rely on
  // inheriting that.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF);
  if (posix_spawn(&child.pid, args[0], &actions, &attributes, args.data(),
                  environ) != 0) {
    child.pid = -1;
  }
  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&actions);
  return child;
}

// waitpid's status once the child ends, or -1 after `timeout` (the child is
// then killed).
int WaitFor(Child& child, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!child.Ended()) {
    if (absl::Now() > deadline) {
      kill(child.pid, SIGKILL);
      waitpid(child.pid, nullptr, 0);
      return -1;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return child.status;
}

struct CheckResult {
  int status;
  std::string output;
};

CheckResult RunCheck(const std::string& name, const std::string& config) {
  const std::string stdout_path = TempPath(name + ".stdout");
  const int out = open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  Child child = StartRouter(name, config, {"--check"}, out);
  close(out);
  const int status = WaitFor(child, absl::Seconds(30));
  return {status, ReadFile(stdout_path) + ReadFile(child.stderr_path)};
}

std::string WithSink(const std::string& type, const std::string& options) {
  return absl::StrCat(
      "inputs { options { [type.googleapis.com/metlog.v1.ZmqInputConfig] { "
      "endpoint: \"tcp://127.0.0.1:*\" } } }\n"
      "sinks { name: \"s\" options { [type.googleapis.com/metlog.sinks.",
      type, "] { ", options, " } } }\n");
}

// One input of metlog.v1.`type` with `options`, and a null sink.
std::string WithInput(const std::string& type, const std::string& options) {
  return absl::StrCat(
      "inputs { options { [type.googleapis.com/metlog.v1.", type, "] { ",
      options,
      " } } }\n"
      "sinks { name: \"n\" options { "
      "[type.googleapis.com/metlog.sinks.NullOptions] {} } }\n");
}

TEST(RouterBinaryTest, CheckRefusesWhatStartUpWouldRefuse) {
  // Issue 9 item 5: each passed --check, then crashed or misbehaved at start.
  const struct {
    const char* name;
    std::string config;
    const char* message;
  } cases[] = {
      {"statsd_no_port", WithSink("StatsdOptions", "address: '127.0.0.1'"),
       "sink \"s\": statsd: address \"127.0.0.1\" is not host:port"},
      {"carbon_colon", WithSink("CarbonOptions", "address: ':'"),
       "sink \"s\": carbon: address \":\""},
      {"prometheus_port",
       WithSink("PrometheusOptions", "listen_address: '127.0.0.1:99999'"),
       "prometheus: listen_address \"127.0.0.1:99999\": port 99999 is not in "
       "0..65535"},
      {"decode_threads",
       "inputs { options { [type.googleapis.com/metlog.v1.ZmqInputConfig] { "
       "decode_threads: 100000 } } }\n"
       "sinks { name: \"n\" options { "
       "[type.googleapis.com/metlog.sinks.NullOptions] {} } }\n",
       "decode_threads is 100000"},
      {"unknown_input_type",
       "sinks { name: \"n\" options { "
       "[type.googleapis.com/metlog.sinks.NullOptions] {} } }\n"
       "inputs {\n  options { [type.googleapis.com/metlog.v1.Nope] {} }\n}\n",
       "unknown_input_type.textproto:3:"},
      {"sink_type_as_input",
       "inputs { options { [type.googleapis.com/metlog.sinks.NullOptions] {} "
       "} }\n"
       "sinks { name: \"n\" options { "
       "[type.googleapis.com/metlog.sinks.NullOptions] {} } }\n",
       "no input is registered for options type \"metlog.sinks.NullOptions\""},
      // Each of these passed --check; ZeroMQ then listened on port 34463
      // (99999 mod 65536) or 5565, or start-up failed.
      {"zmq_port_over_range",
       WithInput("ZmqInputConfig", "endpoint: 'tcp://127.0.0.1:99999'"),
       "endpoint \"tcp://127.0.0.1:99999\": the port must be * or a number "
       "from 0 to 65535"},
      {"zmq_port_not_a_number",
       WithInput("ZmqInputConfig", "endpoint: 'tcp://*:5565x'"),
       "endpoint \"tcp://*:5565x\": the port must be"},
      {"zmq_unknown_transport",
       WithInput("ZmqInputConfig", "endpoint: 'bogus://x'"),
       "an input binds tcp://, ipc:// or inproc://"},
      {"zmq_ipc_missing_directory",
       WithInput("ZmqInputConfig", "endpoint: 'ipc:///nonexistent/dir/sock'"),
       "no directory /nonexistent/dir"},
      {"zmq_bind_host_name",
       WithInput("ZmqInputConfig", "endpoint: 'tcp://localhost:5565'"),
       "localhost is neither an IP address nor a network interface"},
      {"zmq_connect_port_zero",
       WithInput("ZmqInputConfig", "endpoint: 'tcp://127.0.0.1:0' bind: false"),
       "the port must be a number from 1 to 65535"},
      {"udp_bad_ipv4", WithInput("UdpInputConfig", "address: '256.1.1.1:5000'"),
       "address \"256.1.1.1:5000\": "},
      {"statsd_unresolvable",
       WithInput("StatsdInputConfig", "address: 'nohost.invalid:8125'"),
       "address \"nohost.invalid:8125\": "},
      {"metlog_json_unresolvable",
       WithInput("MetlogJsonInputConfig", "address: 'nohost.invalid:5000'"),
       "address \"nohost.invalid:5000\": "},
      {"heka_bad_ipv4",
       WithInput("HekaInputConfig", "address: '256.1.1.1:5000'"),
       "address \"256.1.1.1:5000\": "},
  };
  for (const auto& c : cases) {
    const CheckResult result = RunCheck(c.name, c.config);
    ASSERT_TRUE(WIFEXITED(result.status)) << c.name << ": " << result.output;
    EXPECT_EQ(WEXITSTATUS(result.status), 1) << c.name << ": " << result.output;
    EXPECT_THAT(result.output, HasSubstr(c.message)) << c.name;
  }
}

TEST(RouterBinaryTest, CheckAcceptsAGoodConfig) {
  const CheckResult result =
      RunCheck("good", WithSink("StatsdOptions", "address: '127.0.0.1:8125'"));
  ASSERT_TRUE(WIFEXITED(result.status)) << result.output;
  EXPECT_EQ(WEXITSTATUS(result.status), 0) << result.output;
  EXPECT_THAT(result.output, HasSubstr("config OK: 1 inputs, 1 sinks"));
}

TEST(RouterBinaryTest, ShipsEveryInputKind) {
  const CheckResult result = RunCheck(
      "every_input_kind",
      "inputs { options { [type.googleapis.com/metlog.v1.ZmqInputConfig] {} } "
      "}\n"
      "inputs { options { [type.googleapis.com/metlog.v1.UdpInputConfig] {} } "
      "}\n"
      "inputs { options { [type.googleapis.com/metlog.v1.StatsdInputConfig] "
      "{} } }\n"
      "inputs { options { "
      "[type.googleapis.com/metlog.v1.MetlogJsonInputConfig] {} } }\n"
      "inputs { options { [type.googleapis.com/metlog.v1.HekaInputConfig] {} } "
      "}\n"
      "inputs { options { "
      "[type.googleapis.com/metlog.v1.GrpcPublishInputConfig] {} } }\n"
      "sinks { name: \"n\" options { "
      "[type.googleapis.com/metlog.sinks.NullOptions] {} } }\n");
  ASSERT_TRUE(WIFEXITED(result.status)) << result.output;
  EXPECT_EQ(WEXITSTATUS(result.status), 0) << result.output;
  EXPECT_THAT(result.output, HasSubstr("config OK: 6 inputs, 1 sinks"));
}

// The "udp://127.0.0.1:PORT" the router logs once its UDP input listens.
int UdpPort(Child& child) {
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  while (absl::Now() < deadline && !child.Ended()) {
    const std::string log = ReadFile(child.stderr_path);
    const std::string kPrefix = "udp://127.0.0.1:";
    const size_t at = log.find(kPrefix);
    if (at != std::string::npos) {
      const size_t begin = at + kPrefix.size();
      int port = 0;
      if (absl::SimpleAtoi(log.substr(begin, log.find(' ', begin) - begin),
                           &port)) {
        return port;
      }
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return -1;
}

TEST(RouterBinaryTest, ClosedStdoutDoesNotKillTheRouter) {
  // Issue 9 item 6: `router | head -1`: the console sink's write into a
  // closed pipe raised SIGPIPE and killed the router and its queues.
  int pipe_fds[2];
  ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);  // the router gets no read end
  Child child = StartRouter(
      "closed_stdout",
      "inputs { options { [type.googleapis.com/metlog.v1.UdpInputConfig] { "
      "address: \"127.0.0.1:0\" } } }\n"
      "admin { listen_address: \"\" }\n"
      "shutdown_deadline_ms: 1000\n"
      "sinks { name: \"console\" options { "
      "[type.googleapis.com/metlog.sinks.ConsoleOptions] {} } }\n",
      {}, pipe_fds[1]);
  close(pipe_fds[1]);
  close(pipe_fds[0]);  // nobody reads: every write gets EPIPE
  ASSERT_GT(child.pid, 0);
  const int port = UdpPort(child);
  ASSERT_GT(port, 0) << ReadFile(child.stderr_path);

  v1::Batch batch;
  batch.add_messages()->set_payload("into a closed pipe");
  v1::Packet packet;
  packet.set_batch(batch.SerializeAsString());
  const std::string bytes = packet.SerializeAsString();
  absl::StatusOr<int> fd = ConnectedUdpSocket(absl::StrCat("127.0.0.1:", port));
  ASSERT_TRUE(fd.ok()) << fd.status();
  // The sink's write error is logged once it happened (and the process is
  // still there to log it).
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (ReadFile(child.stderr_path).find("sink console:") ==
             std::string::npos &&
         absl::Now() < deadline && !child.Ended()) {
    send(*fd, bytes.data(), bytes.size(), 0);
    absl::SleepFor(absl::Milliseconds(100));
  }
  close(*fd);
  kill(child.pid, SIGTERM);
  const int status = WaitFor(child, absl::Seconds(20));
  const std::string log = ReadFile(child.stderr_path);
  ASSERT_FALSE(WIFSIGNALED(status))
      << "killed by signal " << WTERMSIG(status) << "\n"
      << log;
  ASSERT_TRUE(WIFEXITED(status)) << log;
  EXPECT_EQ(WEXITSTATUS(status), 0) << log;
  EXPECT_THAT(log, HasSubstr("sink console:"));
  // A permanent error: retrying into the closed pipe only filled the queue.
  EXPECT_THAT(log, HasSubstr("the stream's reader has gone"));
}

TEST(RouterBinaryTest, AdminTailRefusesAnOverlongExpression) {
  // Issue 9 item 3: a 300 k-term Tail expression (1.8 MB) compiled, and the
  // first message through the router overflowed its stack.
  auto router = testing::RouterProcess::Start(
      "tail_limits",
      "inputs { options { [type.googleapis.com/metlog.v1.ZmqInputConfig] { "
      "endpoint: \"tcp://127.0.0.1:*\" } } }\n"
      "inputs { options { "
      "[type.googleapis.com/metlog.v1.GrpcPublishInputConfig] {} } }\n"
      "admin { listen_address: \"127.0.0.1:0\" }\n"
      "shutdown_deadline_ms: 1000\n"
      "sinks { name: \"n\" options { "
      "[type.googleapis.com/metlog.sinks.NullOptions] {} } }\n");
  ASSERT_TRUE(router.ok()) << router.status();
  auto stub = v1::Admin::NewStub(grpc::CreateChannel(
      router->admin_address(), grpc::InsecureChannelCredentials()));
  std::string expression = "Pid == 1";
  for (int i = 1; i < 300000; ++i) absl::StrAppend(&expression, " && TRUE");
  grpc::ClientContext context;
  // Where the expression is accepted the tail would wait for traffic.
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(10));
  v1::TailRequest request;
  request.set_match(expression);
  auto reader = stub->Tail(&context, request);
  v1::Message message;
  EXPECT_FALSE(reader->Read(&message));
  const grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("bytes; at most 65536"));
  // The router still serves.
  grpc::ClientContext health;
  v1::Batch batch;
  batch.add_messages()->set_payload("after the refused tail");
  v1::Ack ack;
  ASSERT_TRUE(stub->Publish(&health, batch, &ack).ok());
  EXPECT_EQ(ack.accepted(), 1u);
  // SIGTERM ends it within the shutdown deadline (with a wide margin),
  // although this client is still connected.
  absl::StatusOr<int> stopped = router->Stop(absl::Seconds(8));
  ASSERT_TRUE(stopped.ok()) << stopped.status();
  EXPECT_EQ(*stopped, 0) << router->Stderr();
}

}  // namespace
}  // namespace metlog
