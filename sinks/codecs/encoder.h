// The one layer every sink that writes whole messages (file, console) and
// every tool that prints them encode through. An encoder writes from the
// wire view a router carries (no parse into a v1::Message) and appends to a
// buffer the caller reuses, so a warmed-up encoder allocates nothing per
// message.
#ifndef METLOG_SINKS_CODECS_ENCODER_H_
#define METLOG_SINKS_CODECS_ENCODER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/types/span.h"
#include "sinks/codecs/encoding.pb.h"
#include "sinks/message/message_view.h"
#include "sinks/message/wire_message.h"

namespace metlog {

class Encoder {
 public:
  virtual ~Encoder() = default;

  // Appends one record for the message to *out: a line ending in '\n' (JSON,
  // TEXT) or a length-delimited Message (PROTOBUF). `message` and `fields`
  // are what MessageView::wire() and fields() hold for one message, i.e.
  // bytes the walker already validated.
  virtual void Append(const WireMessage& message,
                      absl::Span<const FieldView> fields, std::string* out) = 0;

  void Append(const MessageView& message, std::string* out) {
    Append(message.wire(), message.fields(), out);
  }

  // Strings so far that were not valid UTF-8 and had bytes replaced (JSON
  // only: see JsonEncoder), so that a sink can report them.
  virtual uint64_t repaired_strings() const { return 0; }
};

// A new encoder for `codec`; one per thread (encoders keep scratch space).
std::unique_ptr<Encoder> MakeEncoder(sinks::EncodingOptions::Codec codec);

}  // namespace metlog

#endif  // METLOG_SINKS_CODECS_ENCODER_H_
