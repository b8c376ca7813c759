// Splits a TCP byte stream in Heka's framing into messages:
//   0x1E | header length (1 byte) | Header | 0x1F | message
// checking each message's HMAC (Heka's: MD5 or SHA1 over the message bytes)
// against RouterConfig.signers when keys are given. Bytes that are no frame
// are skipped up to the next 0x1E and counted, as Heka's own reader
// resynchronises.
#ifndef METLOG_ROUTER_INPUTS_HEKA_HEKA_STREAM_H_
#define METLOG_ROUTER_INPUTS_HEKA_HEKA_STREAM_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/random/random.h"
#include "absl/strings/string_view.h"
#include "proto/config.pb.h"
#include "router/packet_decoder.h"
#include "router/packet_verifier.h"

namespace metlog {

class HekaStream {
 public:
  // `keys` may be null: HMACs are then not checked. With keys and
  // `require_signature`, unsigned messages and unknown signers are refused.
  HekaStream(const v1::LimitsConfig& limits,
             std::shared_ptr<const SignerKeys> keys, bool require_signature);

  // Adds received bytes and decodes every whole frame they complete, into
  // one result (null packet when none was accepted). What is left of an
  // incomplete frame is kept, never more than one frame's bound.
  DecodeResult Feed(absl::string_view bytes);

  // Bytes held for an incomplete frame.
  size_t buffered() const { return buffer_.size(); }

 private:
  const v1::LimitsConfig limits_;
  const std::shared_ptr<const SignerKeys> keys_;
  const bool require_signature_;
  std::string buffer_;
  absl::InsecureBitGen random_;
};

}  // namespace metlog

#endif  // METLOG_ROUTER_INPUTS_HEKA_HEKA_STREAM_H_
