// Turns a datagram of statsd lines into Metlog messages (see
// statsd_message.h). A bad line is counted ("malformed_line") and skipped;
// the rest of its datagram is kept.
#ifndef METLOG_ROUTER_INPUTS_STATSD_STATSD_DECODER_H_
#define METLOG_ROUTER_INPUTS_STATSD_STATSD_DECODER_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "proto/config.pb.h"
#include "router/datagram_decoder.h"

namespace metlog {

class StatsdDecoder : public DatagramDecoder {
 public:
  explicit StatsdDecoder(const v1::LimitsConfig& limits) : limits_(limits) {}

  // Lines are separated by '\n'; empty lines are ignored. Not thread-safe.
  DecodeResult Decode(absl::string_view datagram) override;

 private:
  const v1::LimitsConfig limits_;
  absl::InsecureBitGen random_;
  // Reused between datagrams: the messages' bytes and where each starts.
  std::string encoded_;
  std::vector<std::pair<size_t, size_t>> spans_;
};

}  // namespace metlog

#endif  // METLOG_ROUTER_INPUTS_STATSD_STATSD_DECODER_H_
