#include "sinks/message/message_view.h"

#include "glog/logging.h"
#include "google/protobuf/arena.h"

namespace metlog {
namespace {

// The arena's own bookkeeping: its block header and state.
constexpr size_t kArenaOverhead = 256;

}  // namespace

size_t PacketContents::parse_reserve() const {
  return kArenaOverhead + parse_cost_;
}

const v1::Message& PacketContents::Parsed(size_t i) const {
  Parse();
  return *slots_[i].parsed;
}

void PacketContents::Parse() const {
  absl::call_once(parse_once_, [this] { ParseAll(); });
}

void PacketContents::ParseAll() const {
  // One block sized to what the parse may take, so the arena neither
  // regrows nor overshoots: all of the reserve but the strings' characters,
  // which protobuf puts on the heap (and which the messages' bytes bound).
  google::protobuf::ArenaOptions options;
  options.start_block_size = parse_reserve() - message_bytes_;
  options.max_block_size = options.start_block_size;
  arena_ = std::make_unique<google::protobuf::Arena>(options);
  for (Slot& slot : slots_) {
    auto* message =
        google::protobuf::Arena::CreateMessage<v1::Message>(arena_.get());
    const WireMessage& wire = slot.wire;
    if (!message->ParseFromArray(wire.bytes.data(),
                                 static_cast<int>(wire.bytes.size()))) {
      // ReadWireMessage refuses whatever protobuf refuses
      // (router/packet_decoder_fuzzer checks it), so this is a bug in the
      // walker: say so, rate-limited, and keep serving.
      parse_failures_.fetch_add(1, std::memory_order_relaxed);
      LOG_EVERY_T(ERROR, 1) << "a validated message does not parse";
    }
    if (!wire.has_uuid) message->set_uuid(std::string(wire.uuid()));
    if (!wire.has_timestamp) message->set_timestamp(wire.timestamp);
    slot.parsed = message;
  }
  arena_bytes_.store(arena_->SpaceAllocated(), std::memory_order_release);
}

std::atomic<uint64_t> PacketContents::parse_failures_{0};

}  // namespace metlog
