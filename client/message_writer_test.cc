// MessageWriter against Materialize, the protobuf-built reference: for every
// kind of queued message, the bytes written directly parse back to the same
// message, and are the very bytes protobuf serializes for it.
#include "client/message_writer.h"

#include <functional>
#include <random>
#include <string>

#include "client/envelope/field.h"
#include "client/packet_builder.h"
#include "client/pending_message.h"
#include "client/stack_trace.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace metlog {
namespace {

using google::protobuf::util::MessageDifferencer;
using MakePending = std::function<PendingMessage()>;

const Origin kOrigin{"shop", "web-1", 4242, 6};

PendingMessage Metric(PendingMessage::Kind kind, const std::string& name) {
  PendingMessage pending;
  pending.kind = kind;
  pending.origin = &kOrigin;
  pending.timestamp_ns = 1795640450234078150;
  pending.text = name;
  return pending;
}

PendingMessage Full(std::unique_ptr<v1::Message> message,
                    const Origin* origin = &kOrigin) {
  PendingMessage pending;
  pending.origin = origin;
  pending.timestamp_ns = 1795640450234078150;
  pending.message = std::move(message);
  return pending;
}

// Fields of every type, with empty and repeated values and a
// representation.
std::unique_ptr<v1::Message> LogWithEveryFieldType() {
  auto message = std::make_unique<v1::Message>();
  message->set_type("log");
  message->set_payload("caf\xE9 \xF0\x9F\x98\x80 ok");
  message->set_severity(3);
  *message->add_fields() = MakeField("path", "/tmp/\xFF\xFE");
  *message->add_fields() = MakeField("rows", -5);
  *message->add_fields() = MakeField("elapsed", 12.5, "ms");
  *message->add_fields() = MakeField("ok", true);
  *message->add_fields() = MakeField("blob", Bytes{std::string("\0\1\2", 3)});
  *message->add_fields() =
      MakeField("ids", std::vector<int64_t>{1, -1, INT64_MAX, INT64_MIN});
  *message->add_fields() =
      MakeField("ratios", std::vector<double>{0.0, -0.0, 1e300});
  *message->add_fields() =
      MakeField("tags", std::vector<std::string>{"a", "", "c"});
  *message->add_fields() = MakeField("flags", std::vector<bool>{});
  message->add_fields()->set_name("");
  return message;
}

void ExpectWriterMatchesMaterialize(const MakePending& make) {
  std::mt19937_64 reference_random(7);
  PendingMessage reference_pending = make();
  v1::Message expected;
  Materialize(reference_pending, reference_random, &expected);

  std::mt19937_64 random(7);
  PendingMessage pending = make();
  MessageWriter writer;
  const size_t size = writer.Prepare(pending, random);
  std::string bytes(size + 16, '\xAA');
  uint8_t* begin = reinterpret_cast<uint8_t*>(&bytes[0]);
  const uint8_t* end = writer.Write(begin);
  ASSERT_EQ(static_cast<size_t>(end - begin), size);
  bytes.resize(size);

  v1::Message written;
  ASSERT_TRUE(written.ParseFromString(bytes));
  EXPECT_TRUE(MessageDifferencer::Equals(written, expected))
      << "written:\n"
      << written.DebugString() << "expected:\n"
      << expected.DebugString();
  EXPECT_EQ(bytes, expected.SerializeAsString());
}

TEST(MessageWriterTest, CountersTimersAndGaugesMatchTheReference) {
  ExpectWriterMatchesMaterialize([] {
    PendingMessage p = Metric(PendingMessage::Kind::kCounter, "orders");
    p.count = 5;
    p.rate = 0.25;
    return p;
  });
  ExpectWriterMatchesMaterialize([] {
    PendingMessage p = Metric(PendingMessage::Kind::kCounter, "neg");
    p.count = INT64_MIN;
    return p;
  });
  ExpectWriterMatchesMaterialize([] {
    PendingMessage p = Metric(PendingMessage::Kind::kTimer,
                              std::string(300, 't'));  // a two-byte length
    p.value = 12.3456789;
    return p;
  });
  ExpectWriterMatchesMaterialize([] {
    PendingMessage p = Metric(PendingMessage::Kind::kGauge, "");
    p.value = -1e-300;
    return p;
  });
  ExpectWriterMatchesMaterialize([] {
    PendingMessage p = Metric(PendingMessage::Kind::kHistogram, "size");
    p.value = -0.5;
    p.rate = 0.1;
    return p;
  });
}

TEST(MessageWriterTest, LogLinesMatchTheReference) {
  for (const std::string& payload :
       {std::string(""), std::string("short"),
        std::string("caf\xE9: a payload longer than inline"),
        std::string(70000, 'p')}) {
    ExpectWriterMatchesMaterialize([&payload] {
      PendingMessage p = Metric(PendingMessage::Kind::kLog, payload);
      p.severity = 3;
      return p;
    });
  }
}

TEST(MessageWriterTest, MetricsWithTagsLoggerAndSeverityMatchTheReference) {
  for (const auto kind :
       {PendingMessage::Kind::kCounter, PendingMessage::Kind::kTimer,
        PendingMessage::Kind::kHistogram, PendingMessage::Kind::kGauge}) {
    ExpectWriterMatchesMaterialize([kind] {
      PendingMessage p = Metric(kind, "requests");
      p.value = 2.5;
      p.extras = std::make_unique<MetricExtras>();
      const std::string long_value(200, 'x');  // beyond the inline bytes
      const Tag tags[] = {{"method", "GET"},   {"status", 200},
                          {"share", 0.5},      {"cached", false},
                          {"name", "skipped"}, {"long", long_value}};
      p.extras->SetFields(tags);
      p.extras->logger = "edge";
      p.extras->severity = 5;
      return p;
    });
  }
}

TEST(MessageWriterTest, FullMessagesMatchTheReference) {
  // A log with fields of every type, stamped from the origin.
  ExpectWriterMatchesMaterialize([] { return Full(LogWithEveryFieldType()); });
  // Everything the caller set is kept, the stamps left alone.
  ExpectWriterMatchesMaterialize([] {
    auto message = LogWithEveryFieldType();
    message->set_uuid(std::string(16, '\x11'));
    message->set_timestamp(-1);
    message->set_logger("");
    message->set_env_version("0.8");
    message->set_pid(-7);
    message->set_hostname("elsewhere");
    return Full(std::move(message));
  });
  // A plugin's message with nothing set, and no origin at all.
  ExpectWriterMatchesMaterialize(
      [] { return Full(std::make_unique<v1::Message>()); });
  ExpectWriterMatchesMaterialize(
      [] { return Full(std::make_unique<v1::Message>(), nullptr); });
  // A set: a whole message whose tags, logger and severity come as extras.
  ExpectWriterMatchesMaterialize([] {
    auto message = std::make_unique<v1::Message>();
    message->set_type("set");
    message->set_payload("alice");
    message->set_severity(6);
    *message->add_fields() = MakeField("name", "users");
    PendingMessage p = Full(std::move(message));
    p.extras = std::make_unique<MetricExtras>();
    const Tag tags[] = {{"region", "eu"}, {"shard", 3}};
    p.extras->SetFields(tags);
    p.extras->logger = "edge";
    p.extras->severity = 4;
    return p;
  });
}

TEST(MessageWriterTest, ExceptionsWithTheirStackMatchTheReference) {
  RawStackTrace stack;
  CaptureStackTrace(0, &stack);
  ASSERT_GT(stack.depth, 0);
  ExpectWriterMatchesMaterialize([&stack] {
    auto message = std::make_unique<v1::Message>();
    message->set_type("exception");
    message->set_payload("disk full");
    message->set_severity(1);
    *message->add_fields() = MakeField("exception_type", "std::runtime_error");
    *message->add_fields() = MakeField("what", "disk full");
    PendingMessage p = Full(std::move(message));
    p.stack = std::make_unique<RawStackTrace>(stack);
    return p;
  });
}

TEST(PacketBuilderTest, PacketsAreWhatProtobufSerializes) {
  const PacketSigner signer("shop", 300, "secret");
  for (const PacketSigner* signing :
       {static_cast<const PacketSigner*>(nullptr), &signer}) {
    PacketBuilder builder(1 << 20, signing);
    for (int round = 0; round < 2; ++round) {  // the buffer is reused
      builder.Clear();
      v1::Packet expected;
      v1::Batch batch;
      std::mt19937_64 random(round);
      MessageWriter writer;
      for (int i = 0; i < 200 * (round + 1); ++i) {
        PendingMessage p = Metric(PendingMessage::Kind::kCounter, "orders");
        p.count = i;
        builder.Append(writer, writer.Prepare(p, random));
      }
      std::mt19937_64 reference_random(round);
      for (int i = 0; i < 200 * (round + 1); ++i) {
        PendingMessage p = Metric(PendingMessage::Kind::kCounter, "orders");
        p.count = i;
        Materialize(p, reference_random, batch.add_messages());
      }
      EXPECT_EQ(builder.messages(), static_cast<size_t>(batch.messages_size()));
      batch.SerializeToString(expected.mutable_batch());
      if (signing != nullptr) signing->Sign(&expected);
      EXPECT_EQ(builder.Finish(), expected.SerializeAsString());
    }
  }
}

}  // namespace
}  // namespace metlog
