#include "router/inputs/statsd/statsd_message.h"

#include <cstdint>
#include <cstring>

#include "google/protobuf/io/coded_stream.h"

namespace metlog {
namespace {

using google::protobuf::io::CodedOutputStream;

// Wire types of the protobuf encoding.
constexpr uint32_t kVarint = 0;
constexpr uint32_t kLength = 2;

void AppendVarint(uint64_t value, std::string* out) {
  uint8_t bytes[10];
  const uint8_t* end = CodedOutputStream::WriteVarint64ToArray(value, bytes);
  out->append(reinterpret_cast<const char*>(bytes), end - bytes);
}

void AppendTag(uint32_t number, uint32_t wire_type, std::string* out) {
  AppendVarint((number << 3) | wire_type, out);
}

void AppendBytes(uint32_t number, absl::string_view bytes, std::string* out) {
  AppendTag(number, kLength, out);
  AppendVarint(bytes.size(), out);
  out->append(bytes.data(), bytes.size());
}

// metlog.v1.Field numbers and value types.
constexpr uint32_t kFieldName = 1, kFieldValueType = 2, kFieldString = 4,
                   kFieldDouble = 7, kFieldBool = 8;
constexpr uint32_t kDoubleType = 3, kBoolType = 4;

// A Field, written into `scratch` first for its length.
void AppendField(absl::string_view name, absl::string_view string_value,
                 std::string* scratch, std::string* out) {
  scratch->clear();
  AppendBytes(kFieldName, name, scratch);
  AppendBytes(kFieldString, string_value, scratch);
  AppendBytes(/*fields=*/10, *scratch, out);
}

void AppendDoubleField(absl::string_view name, double value,
                       std::string* scratch, std::string* out) {
  scratch->clear();
  AppendBytes(kFieldName, name, scratch);
  AppendTag(kFieldValueType, kVarint, scratch);
  AppendVarint(kDoubleType, scratch);
  char bits[sizeof(double)];
  // protobuf's fixed64 is little-endian, as is every target of this build.
  std::memcpy(bits, &value, sizeof(bits));
  AppendBytes(kFieldDouble, absl::string_view(bits, sizeof(bits)), scratch);
  AppendBytes(/*fields=*/10, *scratch, out);
}

void AppendTrueField(absl::string_view name, std::string* scratch,
                     std::string* out) {
  scratch->clear();
  AppendBytes(kFieldName, name, scratch);
  AppendTag(kFieldValueType, kVarint, scratch);
  AppendVarint(kBoolType, scratch);
  AppendBytes(kFieldBool, "\x01", scratch);
  AppendBytes(/*fields=*/10, *scratch, out);
}

}  // namespace

void AppendStatsdMessage(const StatsdSample& sample, std::string* out) {
  thread_local std::string scratch;
  AppendBytes(/*type=*/3, StatsdMessageType(sample.kind), out);
  AppendBytes(/*logger=*/4, "statsd", out);
  AppendTag(/*severity=*/5, kVarint, out);
  AppendVarint(6, out);
  AppendBytes(/*payload=*/6, sample.value, out);
  AppendField("name", sample.name, &scratch, out);
  if (sample.kind == StatsdSample::Kind::kCounter ||
      sample.kind == StatsdSample::Kind::kTimer) {
    AppendDoubleField("rate", sample.rate, &scratch, out);
  }
  if (sample.delta) AppendTrueField("delta", &scratch, out);
  for (const auto& [key, value] : sample.tags) {
    AppendField(key, value, &scratch, out);
  }
}

}  // namespace metlog
