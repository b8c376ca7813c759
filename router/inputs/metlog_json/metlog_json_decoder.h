// metlog-py's JSON envelope, one per UDP datagram, as metlog-py 0.8's UDP
// and JSON senders write it:
//   {"type": "timer", "timestamp": "2012-03-14T20:20:11.123456",
//    "logger": "app", "severity": 6, "payload": "120",
//    "fields": {"name": "db.query", "rate": 1.0}, "env_version": "0.8",
//    "metlog_pid": 1234, "metlog_hostname": "web1"}
// Every key maps as client/python/metlog/senders/envelope.py maps it:
// type, logger, env_version, payload and metlog_hostname to text (a
// non-string as its JSON); severity and metlog_pid when integers; the
// timestamp (ISO 8601, naive = UTC, or seconds since the epoch) to
// nanoseconds; each entry of `fields` to a typed Field (all bools BOOL, all
// int64 integers INTEGER, all numbers DOUBLE, `rate` always DOUBLE, anything
// else STRING, non-strings as JSON; a list gives several values; null is
// left out). Other keys are ignored. Parsed with RapidJSON, iteratively, so
// nesting depth cannot exhaust the stack; documents nested deeper than 64
// levels are refused.
#ifndef METLOG_ROUTER_INPUTS_METLOG_JSON_METLOG_JSON_DECODER_H_
#define METLOG_ROUTER_INPUTS_METLOG_JSON_METLOG_JSON_DECODER_H_

#include <string>

#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "proto/config.pb.h"
#include "proto/metlog.pb.h"
#include "router/datagram_decoder.h"

namespace metlog {

// The message a JSON envelope describes; an error when `json` is not a JSON
// object.
absl::StatusOr<v1::Message> MetlogJsonToMessage(absl::string_view json);

class MetlogJsonDecoder : public DatagramDecoder {
 public:
  explicit MetlogJsonDecoder(const v1::LimitsConfig& limits)
      : limits_(limits) {}

  // One envelope per datagram; one that does not parse is counted
  // "malformed_packet". Not thread-safe.
  DecodeResult Decode(absl::string_view datagram) override;

 private:
  const v1::LimitsConfig limits_;
  absl::InsecureBitGen random_;
  std::string encoded_;
};

}  // namespace metlog

#endif  // METLOG_ROUTER_INPUTS_METLOG_JSON_METLOG_JSON_DECODER_H_
