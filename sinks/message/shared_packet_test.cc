#include "sinks/message/shared_packet.h"

#include <thread>

#include "absl/random/random.h"
#include "client/envelope/field.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sinks/message/message_batch.h"

namespace metlog {
namespace {

using ::testing::HasSubstr;

// Builds Field bytes by hand, so values can be sent unpacked (as some
// senders do) as well as packed (as protobuf does for this proto).
std::string Tag(int number, int wire_type) {
  return std::string(1, static_cast<char>(number << 3 | wire_type));
}

std::string Length(const std::string& bytes) {
  return std::string(1, static_cast<char>(bytes.size())) + bytes;
}

std::string MessageWithField(const std::string& field_bytes) {
  return Tag(3, 2) + Length("counter") + Tag(10, 2) + Length(field_bytes);
}

WireProblem Read(const std::string& bytes, WireMessage* message,
                 FieldList* fields, std::string* error) {
  return ReadWireMessage(bytes, message, fields, error);
}

TEST(WireMessageTest, ReadsUnpackedAndPackedValuesAlike) {
  // INTEGER field "n": 7 unpacked, then 8 and 9 packed.
  const std::string field = Tag(1, 2) + Length("n") + Tag(2, 0) + "\x02" +
                            Tag(6, 0) + "\x07" + Tag(6, 2) + Length("\x08\x09");
  const std::string bytes = MessageWithField(field);
  WireMessage message;
  FieldList fields;
  std::string error;
  ASSERT_EQ(Read(bytes, &message, &fields, &error), WireProblem::kNone)
      << error;
  EXPECT_EQ(message.type, "counter");
  ASSERT_EQ(fields.size(), 1u);
  EXPECT_EQ(fields[0].value_type, v1::Field::INTEGER);
  FieldValue value;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(ReadFieldValue(fields[0], i, &value)) << i;
    EXPECT_EQ(value.integer, 7 + i);
  }
  EXPECT_FALSE(ReadFieldValue(fields[0], 3, &value));
  // protobuf reads the same three values.
  v1::Message parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));
  EXPECT_THAT(parsed.fields(0).value_integer(),
              ::testing::ElementsAre(7, 8, 9));
}

TEST(WireMessageTest, ReadsEveryValueType) {
  v1::Message m;
  *m.add_fields() = MakeField("s", "text");
  *m.add_fields() = MakeField("d", 2.5);
  *m.add_fields() = MakeField("i", int64_t{-4});
  *m.add_fields() = MakeField("b", true);
  v1::Field* bytes_field = m.add_fields();
  bytes_field->set_name("raw");
  bytes_field->set_value_type(v1::Field::BYTES);
  bytes_field->add_value_bytes(std::string("\0\1", 2));
  const std::string bytes = m.SerializeAsString();
  WireMessage message;
  FieldList fields;
  std::string error;
  ASSERT_EQ(Read(bytes, &message, &fields, &error), WireProblem::kNone);
  ASSERT_EQ(fields.size(), 5u);
  FieldValue value;
  ASSERT_TRUE(ReadFieldValue(fields[0], 0, &value));
  EXPECT_EQ(value.text, "text");
  ASSERT_TRUE(ReadFieldValue(fields[1], 0, &value));
  EXPECT_EQ(value.number, 2.5);
  ASSERT_TRUE(ReadFieldValue(fields[2], 0, &value));
  EXPECT_EQ(value.integer, -4);
  ASSERT_TRUE(ReadFieldValue(fields[3], 0, &value));
  EXPECT_TRUE(value.flag);
  ASSERT_TRUE(ReadFieldValue(fields[4], 0, &value));
  EXPECT_EQ(value.text, std::string("\0\1", 2));
  EXPECT_FALSE(ReadFieldValue(fields[0], 1, &value));
}

TEST(WireMessageTest, ExplainsWhatIsWrong) {
  struct Case {
    std::string bytes;
    WireProblem problem;
    const char* says;
  };
  const Case cases[] = {
      {Tag(3, 0) + "\x01", WireProblem::kMalformed, "field 3 has wire type 0"},
      {Tag(3, 2) + "\x09" + "abc", WireProblem::kMalformed, "claims more"},
      {Tag(5, 0) + "\x09", WireProblem::kInvalid, "severity 9"},
      {Tag(1, 2) + Length("short"), WireProblem::kInvalid, "uuid of 5"},
      {MessageWithField(Tag(4, 2) + Length("v")), WireProblem::kInvalid,
       "no name"},
      {MessageWithField(Tag(1, 2) + Length("n") + Tag(2, 0) + "\x09"),
       WireProblem::kInvalid, "unknown value_type 9"},
      {MessageWithField(Tag(1, 2) + Length("n") + Tag(7, 2) + Length("abc")),
       WireProblem::kMalformed, "packed member 7"},
      {std::string("\x00", 1), WireProblem::kMalformed, "invalid tag"},
  };
  for (const Case& c : cases) {
    WireMessage message;  // fresh for each read
    FieldList fields;
    std::string error;
    EXPECT_EQ(Read(c.bytes, &message, &fields, &error), c.problem) << c.says;
    EXPECT_THAT(error, HasSubstr(c.says));
  }
}

TEST(WireMessageTest, UnknownFieldsAreSkipped) {
  const std::string bytes = Tag(15, 0) + "\x05" + Tag(3, 2) + Length("log");
  WireMessage message;
  FieldList fields;
  std::string error;
  ASSERT_EQ(Read(bytes, &message, &fields, &error), WireProblem::kNone);
  EXPECT_EQ(message.type, "log");
}

TEST(WireMessageTest, RefusesTagsAndLengthsLongerThanProtobufReads) {
  // A 6-byte tag (issue 9's packet) and a 6-byte length: protobuf 3.21
  // reads each in at most 5 bytes.
  for (const std::string& bytes :
       {std::string("\x9a\x80\x80\x80\x80\x00\x01x", 8),
        std::string("\x32\x81\x80\x80\x80\x80\x00x", 8)}) {
    ASSERT_FALSE(v1::Message().ParseFromString(bytes));
    WireMessage message;
    FieldList fields;
    std::string error;
    EXPECT_EQ(Read(bytes, &message, &fields, &error), WireProblem::kMalformed);
  }
}

TEST(SharedPacketTest, FootprintCountsTheParseBeforeItHappens) {
  v1::Message sent;
  sent.set_type("counter");
  sent.set_logger("shop");
  sent.set_payload(std::string(100, 'p'));
  for (int i = 0; i < 5; ++i) {
    v1::Field* field = sent.add_fields();
    field->set_name("name" + std::to_string(i));
    field->add_value_string(std::string(i * 10, 'v'));
    field->add_value_string("w");
    field->set_representation("ms");
    v1::Field* numbers = sent.add_fields();
    numbers->set_name("n");
    numbers->set_value_type(v1::Field::INTEGER);
    for (int v = 0; v < 50; ++v) numbers->add_value_integer(v);
  }
  v1::Message unknown_fields = sent;
  unknown_fields.mutable_unknown_fields()->AddLengthDelimited(100, "x");
  absl::StatusOr<PacketRef> packet =
      SharedPacket::FromMessages({sent, sent, unknown_fields, {}});
  ASSERT_TRUE(packet.ok()) << packet.status();
  const size_t before = (*packet)->footprint();
  (*packet)->Parse();
  EXPECT_EQ((*packet)->footprint(), before);
  EXPECT_GT((*packet)->arena_bytes(), 0u);
  // What the parse took is within what was counted for it.
  EXPECT_LE((*packet)->arena_bytes(), (*packet)->parse_reserve());
  EXPECT_EQ((*packet)->Parsed(2).unknown_fields().field_count(), 1);
}

TEST(SharedPacketTest, ParsesOnFirstReadFillingUuidAndTimestamp) {
  v1::Message sent;
  sent.set_type("log");
  sent.set_payload("hello");
  absl::StatusOr<PacketRef> packet = SharedPacket::FromMessages({sent});
  ASSERT_TRUE(packet.ok()) << packet.status();
  const v1::Message& parsed = (*packet)->Parsed(0);
  EXPECT_EQ(parsed.payload(), "hello");
  EXPECT_EQ(parsed.uuid(), (*packet)->wire(0).uuid());
  EXPECT_EQ(parsed.uuid().size(), 16u);
  EXPECT_EQ(parsed.timestamp(), (*packet)->wire(0).timestamp);
  EXPECT_EQ(&(*packet)->Parsed(0), &parsed);  // parsed once, then shared
}

TEST(SharedPacketTest, ThreadsReadingAtOnceShareOneParse) {
  std::vector<v1::Message> sent(100);
  for (int i = 0; i < 100; ++i) sent[i].set_payload(std::to_string(i));
  const MessageBatch batch(sent);
  std::vector<std::vector<const v1::Message*>> seen(4);
  std::vector<std::thread> readers;
  for (auto& mine : seen) {
    readers.emplace_back([&batch, &mine] {
      for (size_t i = 0; i < batch.size(); ++i)
        mine.push_back(&batch[i].message());
    });
  }
  for (std::thread& reader : readers) reader.join();
  for (size_t i = 0; i < batch.size(); ++i) {
    EXPECT_EQ(seen[0][i]->payload(), std::to_string(i));
    for (const auto& other : seen) EXPECT_EQ(other[i], seen[0][i]);
  }
}

TEST(SharedPacketTest, FromMessagesRefusesAnInvalidMessage) {
  v1::Message bad;
  bad.set_severity(12);
  absl::StatusOr<PacketRef> packet = SharedPacket::FromMessages({bad});
  EXPECT_FALSE(packet.ok());
  EXPECT_THAT(packet.status().message(), HasSubstr("severity 12"));
}

}  // namespace
}  // namespace metlog
