#include "router/inputs/statsd/statsd_decoder.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "router/inputs/statsd/statsd_line.h"
#include "router/inputs/statsd/statsd_message.h"

namespace metlog {

DecodeResult StatsdDecoder::Decode(absl::string_view datagram) {
  DecodeResult result;
  auto reject = [&result](RejectReason reason, std::string error) {
    ++result.rejected[static_cast<int>(reason)];
    if (result.first_error.empty()) result.first_error = std::move(error);
  };
  if (datagram.size() > limits_.max_packet_bytes()) {
    reject(RejectReason::kOversizedPacket,
           absl::StrCat("datagram of ", datagram.size(), " bytes exceeds ",
                        limits_.max_packet_bytes()));
    return result;
  }
  encoded_.clear();
  spans_.clear();
  absl::InlinedVector<StatsdSample, 1> samples;
  for (absl::string_view line : absl::StrSplit(datagram, '\n')) {
    if (line.empty()) continue;
    if (absl::Status status = ParseStatsdLine(line, &samples); !status.ok()) {
      reject(RejectReason::kMalformedLine,
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
        reject(RejectReason::kOversizedMessage,
               absl::StrCat("message of ", size, " bytes exceeds ",
                            limits_.max_message_bytes()));
        continue;
      }
      spans_.emplace_back(start, size);
    }
  }
  if (spans_.empty()) return result;
  result.packet = SharedPacket::Create(encoded_);
  result.packet->Reserve(spans_.size());
  const absl::string_view kept = result.packet->bytes();
  const int64_t now_ns = absl::GetCurrentTimeNanos();
  for (const auto& [start, size] : spans_) {
    std::string problem;
    if (const std::optional<RejectReason> reason =
            RejectReasonFor(result.packet->Add(kept.substr(start, size), now_ns,
                                               random_, &problem));
        reason.has_value()) {
      reject(*reason, std::move(problem));
    }
  }
  return result;
}

}  // namespace metlog
