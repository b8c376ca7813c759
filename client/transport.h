// Moves serialized Packets to the router. Called from one thread only (the
// QueuedSender's), so implementations need no locking.
#ifndef METLOG_CLIENT_TRANSPORT_H_
#define METLOG_CLIENT_TRANSPORT_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace metlog {

class Transport {
 public:
  virtual ~Transport() = default;

  // Sends one packet without blocking. An error means the packet is lost
  // (no router connected, buffers full); the caller counts it as dropped.
  virtual absl::Status Send(absl::string_view packet) = 0;
};

}  // namespace metlog

#endif  // METLOG_CLIENT_TRANSPORT_H_
