// Differential fuzzing of the packet decoder against protobuf, the reference
// implementation of the wire format: whatever the decoder accepts, protobuf
// must parse to the same values; whatever protobuf refuses, the decoder must
// refuse, counted. Also checks that every rejection is explained and that a
// packet's memory stays within its bound.
//
//   bazel build --config=fuzz //router:packet_decoder_fuzzer
//   bazel-bin/router/packet_decoder_fuzzer
//   -dict=router/testdata/packet_decoder_fuzzer.dict CORPUS
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/string_view.h"
#include "glog/logging.h"
#include "google/protobuf/stubs/logging.h"
#include "proto/config.pb.h"
#include "proto/metlog.pb.h"
#include "router/packet_decoder.h"
#include "sinks/message/shared_packet.h"
#include "sinks/message/wire_message.h"

namespace metlog {
namespace {

// Small limits, so that the oversized paths are reached too.
v1::LimitsConfig FuzzLimits() {
  v1::LimitsConfig limits;
  limits.set_max_packet_bytes(4096);
  limits.set_max_message_bytes(1024);
  return limits;
}

uint64_t Rejected(const DecodeResult& result, RejectReason reason) {
  return result.rejected[static_cast<int>(reason)];
}

// The values of the field's type, as protobuf parsed them, compared with
// what ReadFieldValue reads from the wire.
void CheckFieldValues(const FieldView& view, const v1::Field& parsed) {
  CHECK_EQ(view.name, parsed.name());
  CHECK_EQ(view.value_type, parsed.value_type());
  int count = 0;
  switch (parsed.value_type()) {
    case v1::Field::STRING:
      count = parsed.value_string_size();
      break;
    case v1::Field::BYTES:
      count = parsed.value_bytes_size();
      break;
    case v1::Field::INTEGER:
      count = parsed.value_integer_size();
      break;
    case v1::Field::DOUBLE:
      count = parsed.value_double_size();
      break;
    case v1::Field::BOOL:
      count = parsed.value_bool_size();
      break;
  }
  for (int i = 0; i < count; ++i) {
    FieldValue value;
    CHECK(ReadFieldValue(view, i, &value)) << "value " << i << " missing";
    switch (parsed.value_type()) {
      case v1::Field::STRING:
        CHECK_EQ(value.text, parsed.value_string(i));
        break;
      case v1::Field::BYTES:
        CHECK_EQ(value.text, parsed.value_bytes(i));
        break;
      case v1::Field::INTEGER:
        CHECK_EQ(value.integer, parsed.value_integer(i));
        break;
      case v1::Field::DOUBLE: {
        // Compared bit for bit: NaNs are values too.
        const double expected = parsed.value_double(i);
        CHECK_EQ(std::memcmp(&value.number, &expected, sizeof(expected)), 0);
        break;
      }
      case v1::Field::BOOL:
        CHECK_EQ(value.flag, parsed.value_bool(i));
        break;
    }
  }
  FieldValue extra;
  CHECK(!ReadFieldValue(view, count, &extra)) << "a value protobuf lacks";
}

// One accepted message: protobuf parses its bytes, to the walker's values,
// and the packet's lazy parse gives the same message with uuid and
// timestamp filled.
void CheckAccepted(const SharedPacket& packet, size_t index) {
  const WireMessage& wire = packet.wire(index);
  v1::Message reference;
  CHECK(reference.ParseFromArray(wire.bytes.data(),
                                 static_cast<int>(wire.bytes.size())))
      << "accepted a message protobuf refuses";
  CHECK_EQ(wire.type, reference.type());
  CHECK_EQ(wire.logger, reference.logger());
  CHECK_EQ(wire.payload, reference.payload());
  CHECK_EQ(wire.env_version, reference.env_version());
  CHECK_EQ(wire.hostname, reference.hostname());
  CHECK_EQ(wire.severity, reference.severity());
  CHECK_EQ(wire.pid, reference.pid());
  CHECK_EQ(wire.has_uuid, reference.has_uuid());
  CHECK_EQ(wire.has_timestamp, reference.has_timestamp());
  if (wire.has_uuid) CHECK_EQ(wire.uuid(), reference.uuid());
  if (wire.has_timestamp) CHECK_EQ(wire.timestamp, reference.timestamp());
  const auto fields = packet.fields(index);
  CHECK_EQ(fields.size(), static_cast<size_t>(reference.fields_size()));
  for (size_t f = 0; f < fields.size(); ++f) {
    CheckFieldValues(fields[f], reference.fields(static_cast<int>(f)));
  }
  reference.set_uuid(std::string(wire.uuid()));
  reference.set_timestamp(wire.timestamp);
  const v1::Message& parsed = packet.Parsed(index);
  CHECK_EQ(parsed.SerializeAsString(), reference.SerializeAsString());
}

void CheckDecode(absl::string_view input, PacketDecoder& decoder) {
  const DecodeResult result = decoder.Decode(input);
  CHECK_EQ(result.rejected_total() > 0, !result.first_error.empty())
      << "a rejection not explained, or an explanation not counted";

  v1::Packet packet;
  const bool packet_parses =
      packet.ParseFromArray(input.data(), static_cast<int>(input.size()));
  if (result.packet == nullptr) {
    CHECK_EQ(result.rejected_total(), 1u);
    return;
  }
  // The packet was taken apart: protobuf reads it, and its batch is the
  // one the decoder read.
  CHECK(packet_parses) << "took apart a packet protobuf refuses";
  CHECK(packet.has_batch());
  CHECK_EQ(result.packet->bytes(), packet.batch());

  v1::Batch batch;
  if (batch.ParseFromString(packet.batch())) {
    // Every message is either accepted or counted once, up to the damage
    // the walker may see where protobuf sees none (it refuses groups).
    const uint64_t damaged = Rejected(result, RejectReason::kMalformedPacket);
    const uint64_t messages = result.accepted() + result.rejected_total();
    if (damaged == 0) {
      CHECK_EQ(messages, static_cast<uint64_t>(batch.messages_size()));
    } else {
      CHECK_LE(messages - damaged,
               static_cast<uint64_t>(batch.messages_size()));
    }
  }
  const size_t footprint = result.packet->footprint();
  size_t message_bytes = 0;
  for (size_t i = 0; i < result.accepted(); ++i) {
    CheckAccepted(*result.packet, i);
    message_bytes += result.packet->wire(i).bytes.size();
  }
  // The parse neither grew the footprint nor took more than it counted:
  // its arena, and on the heap at most the messages' bytes.
  CHECK_EQ(result.packet->footprint(), footprint);
  CHECK_LE(result.packet->arena_bytes() + message_bytes,
           result.packet->parse_reserve());
  const size_t bound = SharedPacket::kMemoryAllowance +
                       SharedPacket::kMemoryPerByte * packet.batch().size();
  CHECK_LE(footprint, sizeof(SharedPacket) + packet.batch().size() + 2 * bound);
  CHECK_EQ(SharedPacket::parse_failures(), 0u);
}

}  // namespace
}  // namespace metlog

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // protobuf logs each string that is not UTF-8; that is not a finding.
  static const bool quiet = [] {
    google::protobuf::SetLogHandler(nullptr);
    return true;
  }();
  (void)quiet;
  static metlog::PacketDecoder decoder(metlog::FuzzLimits());
  metlog::CheckDecode(
      absl::string_view(reinterpret_cast<const char*>(data), size), decoder);
  return 0;
}
