// Ready-made senders. Each returns an error for an address that cannot work
// (malformed, a port out of range, a missing ipc directory, a host name that
// does not resolve), a malformed key, or no resources left (file
// descriptors, threads); an unreachable router is never an error (messages
// are dropped and counted until it appears). Hand the result to Client as
// is, so an error cannot abort:
//   metlog::Client metlog(metlog::MakeZmqSender({endpoint}), "shop");
#ifndef METLOG_CLIENT_SENDERS_H_
#define METLOG_CLIENT_SENDERS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/queued_sender.h"
#include "client/sender.h"
#include "client/zmq_transport.h"

namespace metlog {

// PUSH over ZeroMQ to each endpoint, batched by a background thread.
// Memory at most: options.max_queued_bytes + 3 x options.max_packet_bytes +
// endpoints x (send_hwm + 2) x max_packet_bytes + the queue's slots
// (2 x queue_capacity x sizeof(PendingMessage)); with the defaults and one
// router 8 + 0.4 + 4.3 + 11 MiB.
absl::StatusOr<std::unique_ptr<Sender>> MakeZmqSender(
    std::vector<std::string> endpoints,
    QueuedSender::Options options = QueuedSender::Options());

// As above, with every ZeroMQ option (CURVE keys, high-water mark).
absl::StatusOr<std::unique_ptr<Sender>> MakeZmqSender(
    const ZmqTransport::Options& transport_options,
    QueuedSender::Options options);

// One Packet per UDP datagram to "host:port", each kept under
// min(options.max_packet_bytes, kMaxUdpPayload) bytes.
absl::StatusOr<std::unique_ptr<Sender>> MakeUdpSender(
    const std::string& address,
    QueuedSender::Options options = QueuedSender::Options());

}  // namespace metlog

#endif  // METLOG_CLIENT_SENDERS_H_
