// Counts the connections a ZeroMQ socket drops because their ZMTP handshake
// failed for a reason ZeroMQ decides itself, before any ZAP handler is
// asked: the peer speaks another security mechanism (NULL or PLAIN against a
// CURVE socket, CURVE against a NULL one), CURVE's cryptography fails (a
// client holding the wrong server public key), the peer breaks the protocol,
// or the connection ends or times out mid-handshake. ZeroMQ drops such a
// connection before it delivers any message from it.
//
// Handshakes a ZAP handler refuses are not counted here: the handler
// (CurveAuthenticator) counts those, so each refused handshake is counted
// once. ZeroMQ reports failures through zmq_socket_monitor on a PAIR socket
// read by this class's own thread, so the input's receive path is untouched.
// The thread reads until Stop, which first stops the reports: ZeroMQ's I/O
// thread blocks once a monitor's queue of unread events is full.
#ifndef METLOG_ROUTER_INPUTS_ZMQ_HANDSHAKE_MONITOR_H_
#define METLOG_ROUTER_INPUTS_ZMQ_HANDSHAKE_MONITOR_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "zmq.hpp"

namespace metlog {

class HandshakeMonitor {
 public:
  // Starts watching `socket` (before it binds or connects, so that no
  // handshake goes unseen) through `inproc_endpoint`, which must be unique
  // in `socket`'s context, and starts the thread counting failures.
  // `input_name` names the failures in log lines. Internal when ZeroMQ
  // cannot monitor the socket.
  static absl::StatusOr<std::unique_ptr<HandshakeMonitor>> Watch(
      zmq::socket_t& socket, const std::string& inproc_endpoint,
      std::string input_name);

  // Stops, if Stop was not called.
  ~HandshakeMonitor();

  // Stops ZeroMQ's monitoring of the socket, counts every failure it had
  // reported, and ends the counting thread: at once, as ZeroMQ's last event
  // wakes it. Failures after it are not counted. The socket must still be
  // open, and no other thread may be using it (ZeroMQ sockets are not
  // thread-safe). Idempotent.
  void Stop();

  // Handshakes that failed so far (see above).
  uint64_t failed() const;

 private:
  class Events;

  explicit HandshakeMonitor(std::unique_ptr<Events> events);

  // Reads and counts events until Stop.
  void Read();

  const std::unique_ptr<Events> events_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace metlog

#endif  // METLOG_ROUTER_INPUTS_ZMQ_HANDSHAKE_MONITOR_H_
