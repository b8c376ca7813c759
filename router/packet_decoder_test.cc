#include "router/packet_decoder.h"

#include "absl/random/random.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace metlog {
namespace {

using ::testing::HasSubstr;

v1::Message Log(const std::string& payload) {
  v1::Message m;
  m.set_type("log");
  m.set_payload(payload);
  return m;
}

std::string PacketOf(const std::vector<v1::Message>& messages) {
  v1::Batch batch;
  for (const v1::Message& m : messages) *batch.add_messages() = m;
  v1::Packet packet;
  packet.set_batch(batch.SerializeAsString());
  return packet.SerializeAsString();
}

uint64_t Rejected(const DecodeResult& result, RejectReason reason) {
  return result.rejected[static_cast<int>(reason)];
}

v1::LimitsConfig Limits(uint32_t packet, uint32_t message) {
  v1::LimitsConfig limits;
  limits.set_max_packet_bytes(packet);
  limits.set_max_message_bytes(message);
  return limits;
}

TEST(PacketDecoderTest, DecodesEveryMessageAndFillsUuidAndTimestamp) {
  PacketDecoder decoder{v1::LimitsConfig()};
  v1::Message stamped = Log("b");
  stamped.set_uuid(std::string(16, 'u'));
  stamped.set_timestamp(5);
  const DecodeResult result = decoder.Decode(PacketOf({Log("a"), stamped}));
  ASSERT_EQ(result.accepted(), 2u);
  EXPECT_EQ(result.rejected_total(), 0u);
  const v1::Message& first = result.packet->Parsed(0);
  EXPECT_EQ(first.payload(), "a");
  EXPECT_EQ(first.uuid().size(), 16u);
  EXPECT_EQ(static_cast<uint8_t>(first.uuid()[6]) >> 4, 4);  // version 4
  EXPECT_GT(first.timestamp(), 1700000000000000000);
  EXPECT_EQ(result.packet->wire(0).uuid(), first.uuid());
  EXPECT_EQ(result.packet->wire(0).timestamp, first.timestamp());
  EXPECT_EQ(result.packet->Parsed(1).uuid(), std::string(16, 'u'));
  EXPECT_EQ(result.packet->Parsed(1).timestamp(), 5);
  EXPECT_EQ(result.packet->wire(0).bytes.size(), Log("a").ByteSizeLong());
}

TEST(PacketDecoderTest, PacketsOutliveTheDecoderAndItsInput) {
  PacketDecoder decoder{v1::LimitsConfig()};
  PacketRef kept;
  {
    std::string bytes = PacketOf({Log("a"), Log("b")});
    kept = decoder.Decode(bytes).packet;
    bytes.assign(bytes.size(), 'x');  // the packet holds its own copy
  }
  decoder.Decode(PacketOf({Log("c")}));
  EXPECT_EQ(kept->wire(1).payload, "b");
  EXPECT_EQ(kept->Parsed(1).payload(), "b");
}

class StringBytes : public PacketBytes {
 public:
  explicit StringBytes(std::string bytes) : bytes_(std::move(bytes)) {}
  absl::string_view bytes() const override { return bytes_; }

 private:
  const std::string bytes_;
};

TEST(PacketDecoderTest, ReceivedBytesAreViewedWhereTheyAreNotCopied) {
  PacketDecoder decoder{v1::LimitsConfig()};
  auto received = std::make_unique<StringBytes>(PacketOf({Log("a")}));
  const absl::string_view original = received->bytes();
  const DecodeResult result = decoder.Decode(std::move(received));
  ASSERT_EQ(result.accepted(), 1u);
  const absl::string_view viewed = result.packet->wire(0).bytes;
  EXPECT_GE(viewed.data(), original.data());
  EXPECT_LE(viewed.data() + viewed.size(), original.data() + original.size());
  EXPECT_EQ(result.packet->Parsed(0).payload(), "a");
}

TEST(PacketDecoderTest, ARefusedPacketKeepsItsBytesForTheLogLine) {
  PacketDecoder decoder{v1::LimitsConfig()};
  const DecodeResult result =
      decoder.Decode(std::make_unique<StringBytes>("garbage"));
  EXPECT_EQ(Rejected(result, RejectReason::kMalformedPacket), 1u);
  ASSERT_NE(result.unkept_bytes, nullptr);
  EXPECT_EQ(result.unkept_bytes->bytes(), "garbage");
}

TEST(PacketDecoderTest, TheWireViewAgreesWithTheParsedMessage) {
  PacketDecoder decoder{v1::LimitsConfig()};
  v1::Message rich = Log("p");
  rich.set_uuid(std::string(16, 'u'));
  rich.set_timestamp(-3);
  rich.set_logger("shop");
  rich.set_severity(0);
  rich.set_pid(-1);
  rich.set_hostname("h");
  rich.set_env_version("1.0");
  v1::Field* field = rich.add_fields();
  field->set_name("n");
  field->set_value_type(v1::Field::INTEGER);
  field->add_value_integer(-5);
  const DecodeResult result = decoder.Decode(PacketOf({rich}));
  ASSERT_EQ(result.accepted(), 1u);
  const WireMessage& wire = result.packet->wire(0);
  EXPECT_EQ(wire.type, "log");
  EXPECT_EQ(wire.logger, "shop");
  EXPECT_EQ(wire.hostname, "h");
  EXPECT_EQ(wire.env_version, "1.0");
  EXPECT_EQ(wire.timestamp, -3);
  EXPECT_EQ(wire.severity, 0);
  EXPECT_EQ(wire.pid, -1);
  ASSERT_EQ(result.packet->fields(0).size(), 1u);
  EXPECT_EQ(result.packet->fields(0)[0].name, "n");
  EXPECT_EQ(result.packet->Parsed(0).DebugString(), rich.DebugString());
}

TEST(PacketDecoderTest, GarbageIsRejectedAsMalformed) {
  PacketDecoder decoder{v1::LimitsConfig()};
  for (const std::string& garbage :
       {std::string("\xff\xff\xff\xff\xff\xff", 6), std::string("hello"),
        std::string(""), std::string("\x0a\x05\x0a", 3)}) {
    const DecodeResult result = decoder.Decode(garbage);
    EXPECT_EQ(result.accepted(), 0u);
    EXPECT_EQ(Rejected(result, RejectReason::kMalformedPacket), 1u)
        << absl::CHexEscape(garbage);
    EXPECT_FALSE(result.first_error.empty());
  }
}

TEST(PacketDecoderTest, TruncatedPacketKeepsNothingPastTheDamage) {
  PacketDecoder decoder{v1::LimitsConfig()};
  const std::string whole = PacketOf({Log("a"), Log("b")});
  const DecodeResult result = decoder.Decode(whole.substr(0, whole.size() - 2));
  EXPECT_EQ(result.accepted(), 0u);
  EXPECT_EQ(Rejected(result, RejectReason::kMalformedPacket), 1u);
  EXPECT_THAT(result.first_error, HasSubstr("claims"));
}

TEST(PacketDecoderTest, DamagedBatchKeepsMessagesBeforeTheDamage) {
  PacketDecoder decoder{v1::LimitsConfig()};
  v1::Batch batch;
  *batch.add_messages() = Log("a");
  std::string bytes = batch.SerializeAsString();
  bytes += std::string("\x0a\x7f", 2);  // a message claiming 127 bytes
  v1::Packet packet;
  packet.set_batch(bytes);
  const DecodeResult result = decoder.Decode(packet.SerializeAsString());
  ASSERT_EQ(result.accepted(), 1u);
  EXPECT_EQ(Rejected(result, RejectReason::kMalformedPacket), 1u);
}

TEST(PacketDecoderTest, OversizedPacketIsRejectedBeforeDecoding) {
  PacketDecoder decoder{Limits(100, 100)};
  const DecodeResult result =
      decoder.Decode(PacketOf({Log(std::string(200, 'x'))}));
  EXPECT_EQ(result.accepted(), 0u);
  EXPECT_EQ(Rejected(result, RejectReason::kOversizedPacket), 1u);
}

TEST(PacketDecoderTest, OversizedMessageIsDroppedOthersKept) {
  PacketDecoder decoder{Limits(10000, 50)};
  const DecodeResult result = decoder.Decode(
      PacketOf({Log("small"), Log(std::string(100, 'x')), Log("also")}));
  ASSERT_EQ(result.accepted(), 2u);
  EXPECT_EQ(result.packet->Parsed(1).payload(), "also");
  EXPECT_EQ(Rejected(result, RejectReason::kOversizedMessage), 1u);
}

TEST(PacketDecoderTest, InvalidMessagesAreCountedByReason) {
  PacketDecoder decoder{v1::LimitsConfig()};
  v1::Message severity = Log("s");
  severity.set_severity(9);
  v1::Message uuid = Log("u");
  uuid.set_uuid("short");
  v1::Message nameless = Log("n");
  nameless.add_fields()->add_value_string("x");
  const DecodeResult result =
      decoder.Decode(PacketOf({severity, uuid, nameless, Log("ok")}));
  ASSERT_EQ(result.accepted(), 1u);
  EXPECT_EQ(result.packet->Parsed(0).payload(), "ok");
  EXPECT_EQ(Rejected(result, RejectReason::kInvalidMessage), 3u);
  EXPECT_THAT(result.first_error, HasSubstr("severity 9"));
}

TEST(PacketDecoderTest, WrongWireTypesAreMalformed) {
  PacketDecoder decoder{v1::LimitsConfig()};
  // Packet.batch (field 1) sent as a varint, then a Batch whose message
  // (field 1) holds bytes that are not a Message.
  const DecodeResult wrong_type = decoder.Decode(std::string("\x08\x05", 2));
  EXPECT_EQ(Rejected(wrong_type, RejectReason::kMalformedPacket), 1u);
  v1::Packet packet;
  packet.set_batch(std::string("\x0a\x02\x0a\xff", 4));
  const DecodeResult bad_message = decoder.Decode(packet.SerializeAsString());
  EXPECT_EQ(bad_message.accepted(), 0u);
  EXPECT_EQ(Rejected(bad_message, RejectReason::kMalformedMessage), 1u);
}

// The packets of issue 9 item 1: tags padded to 6 bytes, which protobuf
// 3.21 refuses (it reads a tag in at most 5).
const char kPaddedTagZmqFrame[] = "0a0a0a089a80808080000178";
const char kPaddedTagUdpDatagram[] =
    "0a180a169a8080808000036c6f67320a7061646465642d746167";

TEST(PacketDecoderTest, VarintsProtobufRefusesAreMalformed) {
  PacketDecoder decoder{v1::LimitsConfig()};
  for (const char* hex : {kPaddedTagZmqFrame, kPaddedTagUdpDatagram}) {
    const std::string packet = absl::HexStringToBytes(hex);
    v1::Packet parsed_packet;
    ASSERT_TRUE(parsed_packet.ParseFromString(packet));
    ASSERT_FALSE(v1::Batch().ParseFromString(parsed_packet.batch()))
        << "protobuf refuses the message";
    const DecodeResult result = decoder.Decode(packet);
    EXPECT_EQ(result.accepted(), 0u) << hex;
    EXPECT_EQ(Rejected(result, RejectReason::kMalformedMessage), 1u) << hex;
  }
}

TEST(PacketDecoderTest, VarintsOfTheLengthProtobufReadsAreAccepted) {
  PacketDecoder decoder{v1::LimitsConfig()};
  // type = "log" with its tag padded to 5 bytes and its length to 5 bytes;
  // severity padded to 10 bytes: each the most protobuf reads.
  const std::string message = absl::HexStringToBytes(
      "9a80808000"
      "8380808000"
      "6c6f67"
      "2881808080808080808000");
  v1::Message reference;
  ASSERT_TRUE(reference.ParseFromString(message));
  ASSERT_EQ(reference.type(), "log");
  ASSERT_EQ(reference.severity(), 1);
  v1::Batch batch;
  batch.add_messages();
  std::string batch_bytes = batch.SerializeAsString();
  batch_bytes[1] = static_cast<char>(message.size());
  batch_bytes += message;
  v1::Packet packet;
  packet.set_batch(batch_bytes);
  const DecodeResult result = decoder.Decode(packet.SerializeAsString());
  ASSERT_EQ(result.accepted(), 1u) << result.first_error;
  EXPECT_EQ(result.packet->wire(0).type, "log");
  EXPECT_EQ(result.packet->wire(0).severity, 1);
  EXPECT_EQ(result.packet->Parsed(0).type(), "log");
  EXPECT_EQ(result.packet->Parsed(0).severity(), 1);
}

TEST(PacketDecoderTest, LengthsProtobufRefusesAreMalformed) {
  PacketDecoder decoder{v1::LimitsConfig()};
  // payload "x" with its length padded to 6 bytes.
  const std::string message = absl::HexStringToBytes(
      "32818080808000"
      "78");
  v1::Message reference;
  ASSERT_FALSE(reference.ParseFromString(message));
  v1::Packet packet;
  packet.set_batch(
      absl::StrCat(std::string(1, '\x0a'),
                   std::string(1, static_cast<char>(message.size())), message));
  const DecodeResult result = decoder.Decode(packet.SerializeAsString());
  EXPECT_EQ(result.accepted(), 0u);
  EXPECT_EQ(Rejected(result, RejectReason::kMalformedMessage), 1u);
}

TEST(PacketDecoderTest, TheLastBatchOfAPacketCountsAsProtobufReadsIt) {
  PacketDecoder decoder{v1::LimitsConfig()};
  // Two Packets concatenated are one Packet whose later batch replaces the
  // earlier one.
  const std::string packet = PacketOf({Log("first")}) + PacketOf({Log("last")});
  v1::Packet reference;
  ASSERT_TRUE(reference.ParseFromString(packet));
  v1::Batch batch;
  ASSERT_TRUE(batch.ParseFromString(reference.batch()));
  ASSERT_EQ(batch.messages(0).payload(), "last");
  const DecodeResult result = decoder.Decode(packet);
  ASSERT_EQ(result.accepted(), 1u);
  EXPECT_EQ(result.packet->wire(0).payload, "last");
  EXPECT_EQ(result.packet->Parsed(0).payload(), "last");
}

TEST(PacketDecoderTest, BytesAfterTheBatchThatProtobufRefusesAreMalformed) {
  PacketDecoder decoder{v1::LimitsConfig()};
  for (const std::string& trailer :
       {std::string("\xff", 1), std::string("\x12\x7f", 2),
        std::string("\x12\x02\x08\xff", 4), std::string("\x00", 1)}) {
    const std::string packet = PacketOf({Log("a")}) + trailer;
    v1::Packet reference;
    ASSERT_FALSE(reference.ParseFromString(packet))
        << absl::CHexEscape(trailer);
    const DecodeResult result = decoder.Decode(packet);
    EXPECT_EQ(result.accepted(), 0u) << absl::CHexEscape(trailer);
    EXPECT_EQ(Rejected(result, RejectReason::kMalformedPacket), 1u)
        << absl::CHexEscape(trailer);
  }
}

TEST(PacketDecoderTest, ASignatureAndUnknownFieldsAfterTheBatchAreKept) {
  PacketDecoder decoder{v1::LimitsConfig()};
  v1::Packet packet;
  v1::Batch batch;
  *batch.add_messages() = Log("signed");
  batch.SerializeToString(packet.mutable_batch());
  packet.mutable_signature()->set_signer("ops");
  packet.mutable_signature()->set_key_version(3);
  const std::string bytes = packet.SerializeAsString() + "\x18\x01";
  ASSERT_TRUE(v1::Packet().ParseFromString(bytes));
  const DecodeResult result = decoder.Decode(bytes);
  ASSERT_EQ(result.accepted(), 1u) << result.first_error;
  EXPECT_EQ(result.packet->wire(0).payload, "signed");
}

TEST(PacketDecoderTest, ASmallPacketCannotMakeALargeAllocation) {
  // Issue 9 item 4: a packet of empty messages ("0a00" repeated), each
  // costing far more memory than its two bytes.
  PacketDecoder decoder{v1::LimitsConfig()};
  constexpr size_t kMessages = 500000;
  std::string batch;
  for (size_t i = 0; i < kMessages; ++i) batch.append("\x0a\x00", 2);
  v1::Packet packet;
  packet.set_batch(batch);
  const DecodeResult result = decoder.Decode(packet.SerializeAsString());
  ASSERT_GT(result.accepted(), 0u);
  EXPECT_EQ(result.accepted() + Rejected(result, RejectReason::kDensePacket),
            kMessages);
  EXPECT_THAT(result.first_error, HasSubstr("memory bound"));
  const size_t bound = SharedPacket::kMemoryAllowance +
                       SharedPacket::kMemoryPerByte * batch.size();
  const size_t footprint = result.packet->footprint();
  EXPECT_LE(footprint, sizeof(SharedPacket) + batch.size() + 2 * bound);
  result.packet->Parse();
  EXPECT_EQ(result.packet->footprint(), footprint);
  EXPECT_LE(result.packet->arena_bytes(), result.packet->parse_reserve());
  EXPECT_EQ(result.packet->Parsed(result.accepted() - 1).uuid().size(), 16u);
}

TEST(PacketDecoderTest, MutatedPacketsNeverCrashAndAreAllAccountedFor) {
  // Bytes of a valid packet changed, cut or duplicated at random: the
  // decoder must return, explain every rejection, and accept only messages
  // that pass validation.
  PacketDecoder decoder{Limits(4096, 1024)};
  v1::Message rich = Log("payload");
  rich.set_uuid(std::string(16, 'u'));
  rich.add_fields()->set_name("f");
  rich.mutable_fields(0)->add_value_string("v");
  v1::Field* counts = rich.add_fields();
  counts->set_name("counts");
  counts->set_value_type(v1::Field::INTEGER);
  counts->add_value_integer(300);
  counts->add_value_integer(-1);
  v1::Field* rate = rich.add_fields();
  rate->set_name("rate");
  rate->set_value_type(v1::Field::DOUBLE);
  rate->add_value_double(0.5);
  const std::string valid = PacketOf({rich, Log("b"), rich});
  absl::BitGen random;
  for (int i = 0; i < 100000; ++i) {
    std::string packet = valid;
    const int edits = absl::Uniform(random, 1, 6);
    for (int e = 0; e < edits && !packet.empty(); ++e) {
      const size_t at = absl::Uniform<size_t>(random, 0, packet.size());
      switch (absl::Uniform(random, 0, 3)) {
        case 0:
          packet[at] = static_cast<char>(absl::Uniform(random, 0, 256));
          break;
        case 1:
          packet.resize(at);
          break;
        case 2:
          packet.insert(at, packet.substr(at, 8));
          break;
      }
    }
    const DecodeResult result = decoder.Decode(packet);
    // A rejection is always counted and explained, never one without the
    // other.
    ASSERT_EQ(result.rejected_total() > 0, !result.first_error.empty())
        << absl::CHexEscape(packet);
    for (size_t m = 0; m < result.accepted(); ++m) {
      const WireMessage& wire = result.packet->wire(m);
      ASSERT_LE(wire.bytes.size(), 1024u);
      // What validation accepted, protobuf parses, to the same values.
      v1::Message parsed;
      ASSERT_TRUE(parsed.ParseFromArray(wire.bytes.data(),
                                        static_cast<int>(wire.bytes.size())))
          << absl::CHexEscape(packet);
      ASSERT_GE(parsed.severity(), 0);
      ASSERT_LE(parsed.severity(), 7);
      ASSERT_EQ(parsed.severity(), wire.severity);
      ASSERT_EQ(parsed.type(), wire.type);
      ASSERT_EQ(parsed.payload(), wire.payload);
      ASSERT_EQ(parsed.fields_size(), result.packet->fields(m).size());
      ASSERT_EQ(result.packet->Parsed(m).uuid().size(), 16u);
    }
  }
}

TEST(PacketDecoderTest, RandomBytesNeverCrash) {
  PacketDecoder decoder{v1::LimitsConfig()};
  absl::BitGen random;
  for (int i = 0; i < 100000; ++i) {
    std::string packet(absl::Uniform(random, 0, 64), '\0');
    for (char& c : packet) c = static_cast<char>(absl::Uniform(random, 0, 256));
    const DecodeResult result = decoder.Decode(packet);
    ASSERT_EQ(result.rejected_total() > 0, !result.first_error.empty())
        << absl::CHexEscape(packet);
    for (size_t m = 0; m < result.accepted(); ++m) {
      ASSERT_EQ(result.packet->Parsed(m).uuid().size(), 16u);
    }
  }
}

}  // namespace
}  // namespace metlog
