// One message of a packet the router received, as a sink reads it: the wire
// view (header fields and Fields as views into the packet's bytes, validated
// once by the decoder) and, for sinks that read whole messages
// (Sink::ReadsMessages), the parsed metlog.v1.Message. Read-only: how the
// router builds packets, shares them between queues and keeps them alive is
// sinks/message/shared_packet.h, which sinks do not see.
#ifndef METLOG_SINKS_MESSAGE_MESSAGE_VIEW_H_
#define METLOG_SINKS_MESSAGE_MESSAGE_VIEW_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/base/call_once.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "proto/metlog.pb.h"
#include "sinks/message/wire_message.h"

namespace google::protobuf {
class Arena;
}

namespace metlog {

// Keeps the bytes of a received packet alive where they were received (a
// ZeroMQ message, say), so a packet can view them instead of copying them.
class PacketBytes {
 public:
  virtual ~PacketBytes() = default;
  virtual absl::string_view bytes() const = 0;
};

// What a packet holds for its readers: its bytes, each message's wire view
// and fields, and the messages parsed into v1::Message objects only if
// someone reads one whole (one parse serves every sink). Only SharedPacket,
// the router's side of the same object, makes and fills one.
class PacketContents {
 public:
  PacketContents(const PacketContents&) = delete;
  PacketContents& operator=(const PacketContents&) = delete;

  size_t size() const { return slots_.size(); }
  const WireMessage& wire(size_t i) const { return slots_[i].wire; }
  absl::Span<const FieldView> fields(size_t i) const {
    const WireMessage& m = slots_[i].wire;
    return absl::MakeConstSpan(fields_).subspan(m.first_field, m.field_count);
  }

  // The message parsed, with the uuid and timestamp the router filled in.
  // Thread-safe; the first call parses the whole packet.
  const v1::Message& Parsed(size_t i) const;

 private:
  friend class SharedPacket;

  struct Slot {
    WireMessage wire;
    const v1::Message* parsed = nullptr;  // set by ParseAll
  };

  // Defined in shared_packet.cc, beside the only class that makes one.
  PacketContents(std::string copy, std::unique_ptr<const PacketBytes> owner,
                 absl::string_view view);
  ~PacketContents();

  // Parses the whole packet now, if no one has. Thread-safe.
  void Parse() const;
  void ParseAll() const;  // once, through Parse()
  // What the parse may take: its arena (one block) and the strings'
  // characters protobuf puts on the heap.
  size_t parse_reserve() const;

  // The bytes are one of these two: a copy, or a view into an owner's.
  const std::string copy_;
  const std::unique_ptr<const PacketBytes> owner_;
  const absl::string_view bytes_;
  // Mutable only for ParseAll, which sets each `parsed` once; readers reach
  // them through Parse()'s once_flag. Inline room for a one-message packet
  // spares it two allocations (a quarter of its decoding time).
  mutable absl::InlinedVector<Slot, 1> slots_;
  FieldList fields_;
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

// One message of a packet, lent to a sink for the duration of Sink::Write
// (copy what must outlive the call). It owns nothing: the router's queue
// that lends it keeps the packet alive. Two words, copied freely.
class MessageView {
 public:
  MessageView() = default;

  // What routing reads, without parsing.
  const WireMessage& wire() const { return packet_->wire(index_); }
  absl::Span<const FieldView> fields() const { return packet_->fields(index_); }

  // The parsed message. The router has parsed it already for sinks that
  // read messages (Sink::ReadsMessages); otherwise this parses the whole
  // packet, on this thread.
  const v1::Message& message() const { return packet_->Parsed(index_); }

 private:
  friend class SharedPacket;  // makes views, and finds a view's packet

  MessageView(const PacketContents* packet, uint32_t index)
      : packet_(packet), index_(index) {}

  const PacketContents* packet_ = nullptr;
  uint32_t index_ = 0;
};

}  // namespace metlog

#endif  // METLOG_SINKS_MESSAGE_MESSAGE_VIEW_H_
