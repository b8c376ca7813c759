// Moves serialized Packets to the router. Called from one thread only (the
// QueuedSender's), so implementations need no locking.
#ifndef METLOG_CLIENT_TRANSPORT_H_
#define METLOG_CLIENT_TRANSPORT_H_

#include <functional>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace metlog {

class Transport {
 public:
  virtual ~Transport() = default;

  // Sends one packet without blocking. An error means the packet is lost
  // (no router connected, buffers full); the caller counts it as dropped.
  virtual absl::Status Send(absl::string_view packet) = 0;

  // True once after the peer refused a packet that an earlier Send()
  // reported as sent (UDP learns of a closed port only from the next send).
  virtual bool TakeEarlierRefusal() { return false; }

  // Lets packets still buffered leave for at most `linger`, then closes.
  virtual void Close(absl::Duration linger) { (void)linger; }

  // False when destroying the object in a forked child would touch state
  // that belongs to the parent's threads (ZeroMQ's context); the child then
  // abandons it instead.
  virtual bool SafeToDestroyAfterFork() const { return true; }
};

// Makes a transport: at construction and again in a forked child.
using TransportFactory =
    std::function<absl::StatusOr<std::unique_ptr<Transport>>()>;

}  // namespace metlog

#endif  // METLOG_CLIENT_TRANSPORT_H_
