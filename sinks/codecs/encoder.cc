#include "sinks/codecs/encoder.h"

#include "sinks/codecs/json_encoder.h"
#include "sinks/codecs/protobuf_encoder.h"
#include "sinks/codecs/text_encoder.h"

namespace metlog {

std::unique_ptr<Encoder> MakeEncoder(sinks::EncodingOptions::Codec codec) {
  switch (codec) {
    case sinks::EncodingOptions::TEXT:
      return std::make_unique<TextEncoder>();
    case sinks::EncodingOptions::PROTOBUF:
      return std::make_unique<ProtobufEncoder>();
    case sinks::EncodingOptions::JSON:
      break;
  }
  return std::make_unique<JsonEncoder>();
}

}  // namespace metlog
