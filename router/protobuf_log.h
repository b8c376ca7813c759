// protobuf logs a line for every message with a non-UTF-8 string it parses
// or prints (proto2 accepts such strings, and so does the router), so a
// sender could flood the router's log. The router passes protobuf's lines on
// at most once a second, with a count of those held back.
#ifndef METLOG_ROUTER_PROTOBUF_LOG_H_
#define METLOG_ROUTER_PROTOBUF_LOG_H_

namespace metlog {

// Installs the rate-limited handler. Call once, before other threads start.
void RateLimitProtobufLogs();

}  // namespace metlog

#endif  // METLOG_ROUTER_PROTOBUF_LOG_H_
