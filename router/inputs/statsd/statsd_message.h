// Writes a statsd sample as a serialized metlog.v1.Message, following
// DESIGN.md's metric conventions, so metric sinks read it like a client's:
//   counter: type "counter", payload = count, fields "name", "rate";
//   timer:   type "timer", payload = milliseconds, fields "name", "rate";
//   gauge:   type "gauge", payload = value, field "name", and BOOL "delta"
//            true when the value is a change (+/-);
//   set:     type "set", payload = the member, field "name".
// DogStatsD tags become STRING fields. Logger "statsd", severity 6 (INFO);
// the router fills uuid and timestamp.
#ifndef METLOG_ROUTER_INPUTS_STATSD_STATSD_MESSAGE_H_
#define METLOG_ROUTER_INPUTS_STATSD_STATSD_MESSAGE_H_

#include <string>

#include "router/inputs/statsd/statsd_line.h"

namespace metlog {

// Appends the message's bytes (no length prefix) to `*out`.
void AppendStatsdMessage(const StatsdSample& sample, std::string* out);

}  // namespace metlog

#endif  // METLOG_ROUTER_INPUTS_STATSD_STATSD_MESSAGE_H_
