#include "router/inputs/statsd/statsd_decoder.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "router/inputs/statsd/statsd_line.h"
#include "router/inputs/statsd/statsd_message.h"

namespace metlog {

DecodeResult StatsdDecoder::Decode(absl::string_view datagram) {
  DecodeResult result;
  if (datagram.size() > limits_.max_packet_bytes()) {
    result.Reject(RejectReason::kOversizedPacket,
                  absl::StrCat("datagram of ", datagram.size(),
                               " bytes exceeds ", limits_.max_packet_bytes()));
    return result;
  }
  encoded_.clear();
  spans_.clear();
  absl::InlinedVector<StatsdSample, 1> samples;
  for (absl::string_view line : absl::StrSplit(datagram, '\n')) {
    if (line.empty()) continue;
    if (absl::Status status = ParseStatsdLine(line, &samples); !status.ok()) {
      result.Reject(RejectReason::kMalformedLine,
                    absl::StrCat("statsd line \"", line.substr(0, 100),
                                 "\": ", status.message()));
      continue;
    }
    for (const StatsdSample& sample : samples) {
      const size_t start = encoded_.size();
      AppendStatsdMessage(sample, &encoded_);
      const size_t size = encoded_.size() - start;
      if (size > limits_.max_message_bytes()) {
        encoded_.resize(start);
        result.Reject(RejectReason::kOversizedMessage,
                      absl::StrCat("message of ", size, " bytes exceeds ",
                                   limits_.max_message_bytes()));
        continue;
      }
      spans_.emplace_back(start, size);
    }
  }
  result.KeepMessages(encoded_, spans_, random_);
  return result;
}

}  // namespace metlog
