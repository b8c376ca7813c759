#include <cerrno>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sinks/console/console.pb.h"
#include "sinks/sink.h"

namespace metlog {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

TEST(SinkRegistryTest, CreatesARegisteredSinkFromItsOptions) {
  google::protobuf::Any any;
  sinks::ConsoleOptions options;
  options.set_format(sinks::ConsoleOptions::JSON);
  any.PackFrom(options);
  auto sink = SinkRegistry::Global().Create(any);
  ASSERT_TRUE(sink.ok()) << sink.status();
  EXPECT_NE(*sink, nullptr);
}

TEST(SinkRegistryTest, UnknownTypeNamesTheKnownOnes) {
  google::protobuf::Any any;
  any.set_type_url("type.googleapis.com/metlog.sinks.NoSuchOptions");
  auto sink = SinkRegistry::Global().Create(any);
  ASSERT_FALSE(sink.ok());
  EXPECT_THAT(sink.status().ToString(),
              HasSubstr("metlog.sinks.NoSuchOptions"));
  EXPECT_THAT(sink.status().ToString(),
              HasSubstr("metlog.sinks.ConsoleOptions"));
  EXPECT_THAT(SinkRegistry::Global().KnownTypes(),
              Contains("metlog.sinks.ConsoleOptions"));
}

TEST(SinkRegistryTest, TransientErrorsAreRecognised) {
  EXPECT_TRUE(IsTransient(TransientError("down")));
  EXPECT_FALSE(IsTransient(absl::InvalidArgumentError("bad")));
}

TEST(SinkRegistryTest, ErrnoValuesAreClassifiedInOnePlace) {
  // What a retry can cure: the back end's or the machine's state.
  for (int error : {ECONNREFUSED, ECONNRESET, EPIPE, ETIMEDOUT, EAGAIN, ENOBUFS,
                    ENOSPC, EHOSTUNREACH}) {
    EXPECT_TRUE(IsTransient(ErrnoError(error, "send"))) << error;
  }
  // What it cannot: the request itself.
  for (int error : {EMSGSIZE, EISDIR, EACCES, EROFS, EINVAL}) {
    EXPECT_FALSE(IsTransient(ErrnoError(error, "send"))) << error;
  }
  const absl::Status status = ErrnoError(EMSGSIZE, "statsd: send to x");
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("statsd: send to x: Message too long"));
}

}  // namespace
}  // namespace metlog
