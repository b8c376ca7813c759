// The packet the router's queues pin: the bytes of one received packet
// (kept where they were received, or copied once), what routing reads of
// each message (WireMessage), and the messages parsed only if someone reads
// one whole: the router does so on the decoding thread for sinks that
// declare it (Sink::ReadsMessages). A packet only metric or null sinks get
// is never parsed; one parse serves every sink.
//
// A packet is reference-counted by hand so that a queue can take or give
// back many references in one atomic step: the router takes one per
// (packet, sink) and not one per message. Sinks see none of this, only
// MessageView (sinks/message/message_view.h); this target is visible to the
// router, which builds, shares and frees packets.
#ifndef METLOG_SINKS_MESSAGE_SHARED_PACKET_H_
#define METLOG_SINKS_MESSAGE_SHARED_PACKET_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/random/bit_gen_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "proto/metlog.pb.h"
#include "sinks/message/message_view.h"
#include "sinks/message/wire_message.h"

namespace metlog {

class SharedPacket;

// Gives back one reference; the packet is freed with its last.
struct PacketRelease {
  void operator()(const SharedPacket* packet) const;
};
using PacketRef = std::unique_ptr<SharedPacket, PacketRelease>;

class SharedPacket final : public PacketContents {
 public:
  // An empty packet over a copy of `bytes`, holding one reference.
  static PacketRef Create(absl::string_view bytes);
  // An empty packet over `view`, bytes inside `owner`, which it keeps.
  static PacketRef Create(std::unique_ptr<const PacketBytes> owner,
                          absl::string_view view);

  // Messages made in process (the router's own reports, tests), serialised
  // once and read back like any packet's. Fails if one breaks a rule.
  static absl::StatusOr<PacketRef> FromMessages(
      absl::Span<const v1::Message> messages);

  // The packet `message` is a view into: the router's queues hold views
  // and pin their packets.
  static const SharedPacket* Of(const MessageView& message) {
    return static_cast<const SharedPacket*>(message.packet_);
  }

  // The i-th message as sinks read it. It holds no reference.
  MessageView View(size_t i) const {
    return MessageView(this, static_cast<uint32_t>(i));
  }

  // The bytes the messages view.
  absl::string_view bytes() const { return bytes_; }

  // What a packet may take in memory beyond its bytes, routing data and
  // parse included, is bounded by its bytes: kMemoryPerByte for each, plus
  // kMemoryAllowance, so that a small packet never makes a large
  // allocation. A packet of messages denser than that (many empty messages,
  // say) keeps those that fit. The lists grow by doubling, so footprint()
  // stays below twice the bound.
  static constexpr size_t kMemoryPerByte = 32;
  static constexpr size_t kMemoryAllowance = 64 * 1024;

  // Room for this many messages, before adding them (and for a few fields
  // each: growing the lists cost more than the walk), as far as the memory
  // bound admits.
  void Reserve(size_t messages);

  // Reads and validates the message in `bytes` (a view into bytes()) and
  // adds it, with a random uuid and timestamp `now_ns` if the sender left
  // them out; on a problem nothing is added (kTooDense: the packet's memory
  // bound is reached). Only before the packet is shared.
  WireProblem Add(absl::string_view bytes, int64_t now_ns,
                  absl::BitGenRef random, std::string* error);

  // Parses the whole packet now, if no one has. Thread-safe.
  using PacketContents::Parse;

  // The memory this packet holds: its bytes, the routing data and the
  // parsed messages, counted before they are parsed (an upper bound of
  // what the parse takes), so that it does not change once the packet is
  // shared. Queue bounds charge it.
  size_t footprint() const;

  // Leaves the parse out of footprint(): for a packet no sink and no tail
  // will read parsed (the router knows at dispatch), which then costs its
  // queues a third as much. Only before the packet is shared.
  void ChargeNoParse() { parse_charged_ = false; }

  // What footprint() counts for the parse from the start: the parse's
  // arena (one block) and the strings' characters protobuf puts on the
  // heap, together within this unless the estimate is wrong.
  using PacketContents::parse_reserve;
  // What the parse took from its arena (0 before one), within
  // parse_reserve() unless the estimate is wrong.
  size_t arena_bytes() const {
    return arena_bytes_.load(std::memory_order_acquire);
  }

  // Messages this process's walker accepted and protobuf then refused; a
  // bug in the walker if not 0. Such a message is delivered with what the
  // parse read of it.
  static uint64_t parse_failures() {
    return parse_failures_.load(std::memory_order_relaxed);
  }

  void Retain(uint32_t references) const {
    references_.fetch_add(references, std::memory_order_relaxed);
  }
  // Frees the packet when the last reference goes.
  void Release(uint32_t references) const;

 private:
  SharedPacket(std::string copy, std::unique_ptr<const PacketBytes> owner,
               absl::string_view view);
  ~SharedPacket();
  // The memory a packet of these bytes may take beyond them.
  size_t memory_bound() const;

  mutable std::atomic<uint32_t> references_{1};
  bool parse_charged_ = true;
};

// Gives back one reference per message, one atomic step per run of
// messages from the same packet.
void ReleaseMessages(absl::Span<const MessageView> messages);

}  // namespace metlog

#endif  // METLOG_SINKS_MESSAGE_SHARED_PACKET_H_
