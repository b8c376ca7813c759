#ifndef METLOG_ROUTER_SIZED_MESSAGE_H_
#define METLOG_ROUTER_SIZED_MESSAGE_H_

#include <cstdint>

#include "sinks/sink.h"

namespace metlog {

// A decoded message and its size on the wire, which queue byte bounds count
// (known from decoding, so never recomputed).
struct SizedMessage {
  MessagePtr message;
  uint32_t bytes = 0;
};

}  // namespace metlog

#endif  // METLOG_ROUTER_SIZED_MESSAGE_H_
