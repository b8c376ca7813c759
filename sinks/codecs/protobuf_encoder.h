// Messages as length-delimited metlog.v1.Message records: the byte count as
// a varint, then the message (protobuf's writeDelimitedTo /
// parseDelimitedFrom framing), for piping to other tools. The record is the
// message's bytes as received, which the walker validated, plus the uuid and
// timestamp the router filled in when the sender left them out.
#ifndef METLOG_SINKS_CODECS_PROTOBUF_ENCODER_H_
#define METLOG_SINKS_CODECS_PROTOBUF_ENCODER_H_

#include <string>

#include "sinks/codecs/encoder.h"

namespace metlog {

class ProtobufEncoder : public Encoder {
 public:
  using Encoder::Append;
  void Append(const WireMessage& message, absl::Span<const FieldView> fields,
              std::string* out) override;
};

}  // namespace metlog

#endif  // METLOG_SINKS_CODECS_PROTOBUF_ENCODER_H_
