// Random datagrams through the metlog JSON decoder: no crash or sanitizer
// report, every rejection explained, and an accepted message is the one
// MetlogJsonToMessage describes (with the uuid and timestamp the router
// fills).
#include <cstdint>
#include <cstdlib>

#include "proto/metlog.pb.h"
#include "router/inputs/metlog_json/metlog_json_decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static metlog::MetlogJsonDecoder* decoder =
      new metlog::MetlogJsonDecoder(metlog::v1::LimitsConfig());
  const absl::string_view datagram(reinterpret_cast<const char*>(data), size);
  metlog::DecodeResult result = decoder->Decode(datagram);
  if (result.rejected_total() > 0 && result.first_error.empty()) std::abort();
  if (result.accepted() + result.rejected_total() != 1) std::abort();
  if (result.accepted() == 1) {
    absl::StatusOr<metlog::v1::Message> expected =
        metlog::MetlogJsonToMessage(datagram);
    if (!expected.ok()) std::abort();
    metlog::v1::Message got = result.packet->Parsed(0);
    if (got.uuid().size() != 16) std::abort();
    got.clear_uuid();
    if (!expected->has_timestamp()) got.clear_timestamp();
    if (got.SerializeAsString() != expected->SerializeAsString()) std::abort();
  }
  return 0;
}
