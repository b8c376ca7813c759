// The JSON a router's file sink writes, queried as it is by a real log tool:
// Debian's jq, selecting by fields and by timestamp.
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "client/envelope/field.h"
#include "gtest/gtest.h"
#include "proto/metlog.pb.h"
#include "tools/testing/router_process.h"
#include "zmq.hpp"

namespace metlog {
namespace {

using testing::RouterProcess;
using testing::TempPath;

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream file(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(file, line);) lines.push_back(line);
  return lines;
}

// jq's output lines for `filter` over `path`.
std::vector<std::string> Jq(const std::string& filter,
                            const std::string& path) {
  const std::string command =
      absl::StrCat("jq -r '", filter, "' '", path, "' 2>&1");
  FILE* jq = popen(command.c_str(), "r");
  EXPECT_NE(jq, nullptr) << command;
  if (jq == nullptr) return {};
  std::string output;
  char chunk[4096];
  for (size_t n; (n = fread(chunk, 1, sizeof(chunk), jq)) > 0;) {
    output.append(chunk, n);
  }
  EXPECT_EQ(pclose(jq), 0) << command << ": " << output;
  return absl::StrSplit(output, '\n', absl::SkipEmpty());
}

v1::Message Request(int64_t timestamp, const std::string& user, int status,
                    std::vector<std::string> tags) {
  v1::Message m;
  m.set_type("request");
  m.set_logger("shop");
  m.set_severity(status >= 500 ? 3 : 6);
  m.set_timestamp(timestamp);
  m.set_payload(absl::StrCat(user, " ", status));
  *m.add_fields() = MakeField("user", user);
  *m.add_fields() = MakeField("status", int64_t{status});
  *m.add_fields() = MakeField("latency", 12.5, "ms");
  v1::Field* tag_field = m.add_fields();
  tag_field->set_name("tags");
  for (const std::string& tag : tags) tag_field->add_value_string(tag);
  return m;
}

TEST(JqEndToEndTest, JqSelectsFileSinkLinesByFieldsAndTimestamp) {
  const std::string path = TempPath("jq.jsonl");
  auto router = RouterProcess::Start("jq", absl::StrCat(R"(
    inputs { options { [type.googleapis.com/metlog.v1.ZmqInputConfig] { endpoint: "tcp://127.0.0.1:*" } } }
    admin { listen_address: "127.0.0.1:0" }
    stats_interval_ms: 0
    sinks { name: "file" match: "TRUE" queue { flush_interval_ms: 10 }
      options { [type.googleapis.com/metlog.sinks.FileOptions] {
        path: ")",
                                                        path, R"(" } } })"));
  ASSERT_TRUE(router.ok()) << router.status();

  // 2026-01-01T00:00:00Z and a few seconds after, to the nanosecond.
  constexpr int64_t kNewYear = 1767225600000000000;
  v1::Batch batch;
  *batch.add_messages() = Request(kNewYear + 1, "ann", 200, {"web"});
  *batch.add_messages() = Request(kNewYear + 1000000000, "bob", 500, {});
  *batch.add_messages() =
      Request(kNewYear + 2500000000, "cat", 500, {"web", "beta"});
  *batch.add_messages() = Request(kNewYear + 3000000000, "dan", 503, {"beta"});
  v1::Packet packet;
  batch.SerializeToString(packet.mutable_batch());
  zmq::context_t context;
  zmq::socket_t push(context, zmq::socket_type::push);
  push.connect(router->endpoint());
  const std::string wire = packet.SerializeAsString();
  ASSERT_TRUE(push.send(zmq::buffer(wire), zmq::send_flags::none));

  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (Lines(path).size() < 4 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_EQ(Lines(path).size(), 4u) << router->Stderr();

  // RFC 3339 timestamps of one width compare as strings, in time order.
  EXPECT_EQ(Jq(R"(select(.fields.status >= 500 and )"
               R"(.timestamp > "2026-01-01T00:00:01.000000000Z") | .payload)",
               path),
            (std::vector<std::string>{"cat 500", "dan 503"}));
  // One value is a scalar, several an array, none [].
  EXPECT_EQ(Jq(R"(select(.fields.tags | if type == "array" )"
               R"(then index("beta") != null else . == "beta" end))"
               R"( | .fields.user)",
               path),
            (std::vector<std::string>{"cat", "dan"}));
  EXPECT_EQ(Jq(R"(select(.fields.tags == []) | .uuid | length)", path),
            (std::vector<std::string>{"36"}));
  EXPECT_EQ(Jq(R"(select(.fields.user == "ann") | [.timestamp, .severity_name,)"
               R"( .fields.latency, .representations.latency] | join(" "))",
               path),
            (std::vector<std::string>{
                "2026-01-01T00:00:00.000000001Z INFO 12.5 ms"}));
  const absl::StatusOr<int> exit_status = router->Stop();
  ASSERT_TRUE(exit_status.ok()) << exit_status.status();
  EXPECT_EQ(*exit_status, 0);
}

}  // namespace
}  // namespace metlog
