// What a UDP input does with one datagram: decode a Packet, statsd lines,
// a JSON envelope ...
#ifndef METLOG_ROUTER_DATAGRAM_DECODER_H_
#define METLOG_ROUTER_DATAGRAM_DECODER_H_

#include "absl/strings/string_view.h"
#include "router/packet_decoder.h"

namespace metlog {

class DatagramDecoder {
 public:
  virtual ~DatagramDecoder() = default;
  // The messages of one datagram, or why (some of) it was refused. Called
  // from the input's one thread.
  virtual DecodeResult Decode(absl::string_view datagram) = 0;
};

}  // namespace metlog

#endif  // METLOG_ROUTER_DATAGRAM_DECODER_H_
