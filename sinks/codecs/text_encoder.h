// Messages as one readable line each, e.g.
//   2026-11-25T15:45:00.123456Z INFO(6) type="counter" logger="shop"
//   host="web-1" pid=42 payload="1" name="orders" rate=1 elapsed=3,4[ms]
// (one line: wrapped here). Strings are quoted and C-escaped; field names
// and representations are bare when they hold only letters, digits and
// _.-:/% and quoted and escaped otherwise, so that no input breaks the line
// or passes for another key=value. Values of a field are joined by ',';
// bytes are 0x-prefixed hex, doubles have six significant digits.
#ifndef METLOG_SINKS_CODECS_TEXT_ENCODER_H_
#define METLOG_SINKS_CODECS_TEXT_ENCODER_H_

#include <string>

#include "sinks/codecs/encoder.h"
#include "sinks/codecs/message_parts.h"

namespace metlog {

class TextEncoder : public Encoder {
 public:
  using Encoder::Append;
  void Append(const WireMessage& message, absl::Span<const FieldView> fields,
              std::string* out) override;

 private:
  Rfc3339Formatter time_;
};

}  // namespace metlog

#endif  // METLOG_SINKS_CODECS_TEXT_ENCODER_H_
