// What every input shares: a name, counters, and the router to hand decoded
// messages to.
#ifndef METLOG_ROUTER_INPUT_H_
#define METLOG_ROUTER_INPUT_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "router/packet_decoder.h"
#include "sinks/message/shared_packet.h"

namespace metlog {

// Routes decoded messages to sinks (the Router). Called from input threads.
class Dispatcher {
 public:
  virtual ~Dispatcher() = default;
  // Queues the packets' messages for every sink that matches them (each
  // queue takes its own references) and accepts `signer` (who signed every
  // one of the packets, verified; empty when unsigned). Returns how many
  // (message, sink) deliveries a full queue refused.
  virtual uint64_t Dispatch(absl::Span<const PacketRef> packets,
                            absl::string_view signer) = 0;
  uint64_t Dispatch(absl::Span<const PacketRef> packets) {
    return Dispatch(packets, {});
  }
};

// Packets an input dispatches together, all with the same signer, so that
// sinks' signer lists are checked once per group.
struct PacketGroup {
  std::string signer;
  std::vector<PacketRef> packets;

  size_t size() const { return packets.size(); }
};

struct InputCounters {
  std::atomic<uint64_t> packets{0};
  std::atomic<uint64_t> accepted{0};
  std::array<std::atomic<uint64_t>, static_cast<int>(RejectReason::kCount)>
      rejected{};
};

class Input {
 public:
  explicit Input(std::string name) : name_(std::move(name)) {}
  virtual ~Input() = default;

  virtual void Start() = 0;
  // Stops taking packets from the network at once (between two packets),
  // hands what the input has already taken in to the router until
  // `deadline`, counts what is left after it (reason "shutdown"), and
  // returns once the input's threads have ended.
  virtual void Stop(absl::Time deadline) = 0;
  // Where it listens, for logs.
  virtual std::string address() const = 0;
  // Connections refused before any packet was read (failed ZeroMQ
  // handshakes, CURVE clients not on the allow-list among them); 0 for
  // inputs that decide nothing per connection.
  virtual uint64_t clients_refused() const { return 0; }

  const std::string& name() const { return name_; }
  const InputCounters& counters() const { return counters_; }

 protected:
  // An input drains every packet its socket has ready, up to this many, and
  // dispatches them as one group: the routing table and each sink's queue
  // are then locked once per group instead of once per packet.
  static constexpr size_t kMaxGroup = 64;

  // Counts the outcome of one packet and logs rejections (rate-limited,
  // naming the peer and the reason), then adds the accepted messages to
  // `*group` (which may be null when none were), dispatching the group
  // first if its signer differs. `peer` is asked for only when there is
  // something to log.
  void Accept(DecodeResult result, const std::function<std::string()>& peer,
              PacketGroup* group, Dispatcher* dispatcher);

  // Counts one packet refused before decoding, and logs it like Accept.
  void Refuse(RejectReason reason, std::string error,
              const std::function<std::string()>& peer);

  // Dispatches the group and empties it; returns the deliveries a full
  // queue refused.
  static uint64_t DispatchGroup(PacketGroup* group, Dispatcher* dispatcher);

 private:
  const std::string name_;
  InputCounters counters_;
};

}  // namespace metlog

#endif  // METLOG_ROUTER_INPUT_H_
