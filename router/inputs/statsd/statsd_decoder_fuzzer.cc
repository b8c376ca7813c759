// Random datagrams through the statsd decoder: whatever it accepts must be
// a message protobuf reads back as the metric its line named, and every
// line is either accepted or counted, and every value accepted as a number
// is one to absl::SimpleAtod.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "proto/metlog.pb.h"
#include "router/inputs/statsd/statsd_decoder.h"
#include "router/inputs/statsd/statsd_line.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static metlog::StatsdDecoder* decoder =
      new metlog::StatsdDecoder(metlog::v1::LimitsConfig());
  const absl::string_view datagram(reinterpret_cast<const char*>(data), size);
  metlog::DecodeResult result = decoder->Decode(datagram);
  Check(result.rejected_total() == 0 || !result.first_error.empty());
  // What the parser says of each line, to compare with the messages.
  std::vector<metlog::StatsdSample> expected;
  uint64_t bad_lines = 0;
  absl::InlinedVector<metlog::StatsdSample, 1> samples;
  for (absl::string_view line : absl::StrSplit(datagram, '\n')) {
    if (line.empty()) continue;
    if (!metlog::ParseStatsdLine(line, &samples).ok()) {
      ++bad_lines;
      continue;
    }
    expected.insert(expected.end(), samples.begin(), samples.end());
  }
  Check(
      result.rejected[static_cast<int>(metlog::RejectReason::kMalformedLine)] ==
      bad_lines);
  Check(result.accepted() + result.rejected_total() - bad_lines ==
        expected.size());
  if (result.rejected_total() != bad_lines) return 0;
  for (size_t i = 0; i < result.accepted(); ++i) {
    const metlog::v1::Message& m = result.packet->Parsed(i);
    Check(m.type() == metlog::StatsdMessageType(expected[i].kind));
    Check(m.payload() == expected[i].value);
    // The parser checks plain decimals itself: they must be numbers to
    // SimpleAtod too.
    double number = 0;
    Check(expected[i].kind == metlog::StatsdSample::Kind::kSet ||
          (absl::SimpleAtod(m.payload(), &number) && std::isfinite(number)));
    Check(m.fields_size() >= 1 && m.fields(0).name() == "name" &&
          m.fields(0).value_string_size() == 1 &&
          m.fields(0).value_string(0) == expected[i].name);
  }
  return 0;
}
