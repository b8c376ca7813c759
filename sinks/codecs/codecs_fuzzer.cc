// libFuzzer target: arbitrary bytes read as one message by the router's
// walker, then encoded by each codec. None may crash; the JSON record is
// valid JSON (and UTF-8) on one line, the text record is one line, and the
// protobuf record parses back.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/random/random.h"
#include "google/protobuf/io/coded_stream.h"
#include "proto/metlog.pb.h"
#include "rapidjson/document.h"
#include "sinks/codecs/encoder.h"
#include "sinks/message/shared_packet.h"

namespace {

// Exactly one line: a single '\n', at the end.
void CheckOneLine(const std::string& record) {
  if (record.empty() || record.find('\n') != record.size() - 1) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using metlog::sinks::EncodingOptions;
  metlog::PacketRef packet = metlog::SharedPacket::Create(
      absl::string_view(reinterpret_cast<const char*>(data), size));
  absl::InsecureBitGen random;
  std::string error;
  if (packet->Add(packet->bytes(), 0, random, &error) !=
      metlog::WireProblem::kNone) {
    return 0;
  }
  const metlog::MessageView message = packet->View(0);

  std::string json;
  metlog::MakeEncoder(EncodingOptions::JSON)->Append(message, &json);
  CheckOneLine(json);
  rapidjson::Document document;
  document.Parse<rapidjson::kParseValidateEncodingFlag>(json.c_str(),
                                                        json.size());
  if (document.HasParseError() || !document.IsObject()) std::abort();

  std::string text;
  metlog::MakeEncoder(EncodingOptions::TEXT)->Append(message, &text);
  CheckOneLine(text);

  std::string record;
  metlog::MakeEncoder(EncodingOptions::PROTOBUF)->Append(message, &record);
  google::protobuf::io::CodedInputStream in(
      reinterpret_cast<const uint8_t*>(record.data()),
      static_cast<int>(record.size()));
  uint32_t length = 0;
  if (!in.ReadVarint32(&length) ||
      length != record.size() - static_cast<size_t>(in.CurrentPosition())) {
    std::abort();
  }
  // The record is the input plus a uuid and timestamp, so it parses back
  // whenever protobuf parses the input. (The walker also accepts a few
  // inputs protobuf refuses, e.g. a tag in an overlong 6-byte varint: a
  // walker matter, reported in issue 11's notes, not the codec's.)
  metlog::v1::Message original, parsed;
  if (original.ParseFromArray(data, static_cast<int>(size)) &&
      (!parsed.ParseFromArray(record.data() + in.CurrentPosition(),
                              static_cast<int>(length)) ||
       parsed.uuid().size() != 16)) {
    std::abort();
  }
  return 0;
}
