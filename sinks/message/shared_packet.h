// The messages of one packet as the router carries them: the packet's bytes
// (kept where they were received, or copied once), what routing reads of each
// message (WireMessage), and the messages parsed into v1::Message objects
// only if someone reads one whole: the router does so on the decoding thread
// for sinks that declare it (Sink::ReadsMessages). A packet only metric or
// null sinks get is never parsed; one parse serves every sink.
//
// A packet is reference-counted by hand so that a queue can take or give
// back many references in one atomic step: the router takes one per
// (packet, sink) and not one per message.
#ifndef METLOG_SINKS_MESSAGE_SHARED_PACKET_H_
#define METLOG_SINKS_MESSAGE_SHARED_PACKET_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/call_once.h"
#include "absl/container/inlined_vector.h"
#include "absl/random/bit_gen_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "proto/metlog.pb.h"
#include "sinks/message/wire_message.h"

namespace google::protobuf {
class Arena;
}

namespace metlog {

class PacketMessages;

// Gives back one reference; the packet is freed with its last.
struct PacketRelease {
  void operator()(const PacketMessages* packet) const;
};
using PacketRef = std::unique_ptr<PacketMessages, PacketRelease>;

// Keeps the bytes of a received packet alive where they were received (a
// ZeroMQ message, say), so a packet can view them instead of copying them.
class PacketBytes {
 public:
  virtual ~PacketBytes() = default;
  virtual absl::string_view bytes() const = 0;
};

class PacketMessages {
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

  PacketMessages(const PacketMessages&) = delete;
  PacketMessages& operator=(const PacketMessages&) = delete;

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

  size_t size() const { return slots_.size(); }
  const WireMessage& wire(size_t i) const { return slots_[i].wire; }
  absl::Span<const FieldView> fields(size_t i) const {
    const WireMessage& m = slots_[i].wire;
    return absl::MakeConstSpan(fields_).subspan(m.first_field, m.field_count);
  }

  // The message parsed, with the uuid and timestamp the router filled in.
  // Thread-safe; the first call parses the whole packet.
  const v1::Message& Parsed(size_t i) const;
  // Parses the whole packet now, if no one has. Thread-safe.
  void Parse() const;

  // The memory this packet holds: its bytes, the routing data and the
  // parsed messages, counted before they are parsed (an upper bound of
  // what the parse takes), so that it does not change once the packet is
  // shared. Queue bounds charge it.
  size_t footprint() const;

  // What footprint() counts for the parse from the start: the parse's
  // arena (one block) and the strings' characters protobuf puts on the
  // heap, together within this unless the estimate is wrong.
  size_t parse_reserve() const;
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
  struct Slot {
    WireMessage wire;
    const v1::Message* parsed = nullptr;  // set by ParseAll
  };

  PacketMessages(std::string copy, std::unique_ptr<const PacketBytes> owner,
                 absl::string_view view);
  ~PacketMessages();
  // The memory a packet of these bytes may take beyond them.
  size_t memory_bound() const;
  void ParseAll() const;  // once, through Parse()

  // The bytes are one of these two: a copy, or a view into an owner's.
  const std::string copy_;
  const std::unique_ptr<const PacketBytes> owner_;
  const absl::string_view bytes_;
  // Mutable only for ParseAll, which sets each `parsed` once; readers reach
  // them through Parse()'s once_flag. Inline room for a one-message packet
  // spares it two allocations (a quarter of its decoding time).
  mutable absl::InlinedVector<Slot, 1> slots_;
  FieldList fields_;
  mutable std::atomic<uint32_t> references_{1};
  // The first read parses every message of the packet: one synchronisation
  // per packet, and sinks of one packet mostly read all of it anyway.
  mutable absl::once_flag parse_once_;
  // Made by ParseAll: packets no sink reads never allocate one.
  mutable std::unique_ptr<google::protobuf::Arena> arena_;
  // What a parse of the messages added so far would take, at most, and
  // the part of it that is their bytes (string contents go to the heap).
  size_t parse_cost_ = 0;
  size_t message_bytes_ = 0;
  mutable std::atomic<size_t> arena_bytes_{0};
  static std::atomic<uint64_t> parse_failures_;
};

// One message of a packet. It does not own a reference: whoever hands it
// out (the router's queues) keeps the packet alive for as long as it lends
// it, e.g. for the duration of Sink::Write.
class MessageRef {
 public:
  MessageRef() = default;
  MessageRef(const PacketMessages* packet, uint32_t index)
      : packet_(packet), index_(index) {}

  // The parsed message. The router has usually parsed it already (see
  // Sink::ReadsMessages); otherwise this parses the packet, on this thread.
  const v1::Message& operator*() const { return packet_->Parsed(index_); }
  const v1::Message* operator->() const { return &**this; }

  // What routing reads, without parsing.
  const WireMessage& wire() const { return packet_->wire(index_); }
  absl::Span<const FieldView> fields() const { return packet_->fields(index_); }

  const PacketMessages* packet() const { return packet_; }

 private:
  const PacketMessages* packet_ = nullptr;
  uint32_t index_ = 0;
};

// Gives back one reference per message, one atomic step per run of
// messages from the same packet.
void ReleaseMessages(absl::Span<const MessageRef> messages);

// Messages made in process with their references, for code that needs a
// batch to hand to a sink or a matcher (tests, the router's reports).
class MessageBatch {
 public:
  // Aborts if a message breaks a rule: it is a bug in the caller.
  explicit MessageBatch(absl::Span<const v1::Message> messages);

  absl::Span<const MessageRef> refs() const { return refs_; }
  const MessageRef& operator[](size_t i) const { return refs_[i]; }
  size_t size() const { return refs_.size(); }

 private:
  PacketRef packet_;
  std::vector<MessageRef> refs_;
};

}  // namespace metlog

#endif  // METLOG_SINKS_MESSAGE_SHARED_PACKET_H_
