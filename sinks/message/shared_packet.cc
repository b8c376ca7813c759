#include "sinks/message/shared_packet.h"

#include <algorithm>
#include <cstdlib>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/envelope/uuid.h"
#include "glog/logging.h"
#include "google/protobuf/arena.h"

namespace metlog {
namespace {

// The arena's own bookkeeping: its block header and state.
constexpr size_t kArenaOverhead = 256;

// What an InlinedVector took beyond its inline room.
template <typename T, size_t kInline>
size_t HeapBytes(const absl::InlinedVector<T, kInline>& list) {
  return list.capacity() > kInline ? list.capacity() * sizeof(T) : 0;
}

}  // namespace

void PacketRelease::operator()(const PacketMessages* packet) const {
  packet->Release(1);
}

PacketMessages::PacketMessages(std::string copy,
                               std::unique_ptr<const PacketBytes> owner,
                               absl::string_view view)
    : copy_(std::move(copy)),
      owner_(std::move(owner)),
      bytes_(owner_ != nullptr ? view : absl::string_view(copy_)) {}

PacketMessages::~PacketMessages() = default;

PacketRef PacketMessages::Create(absl::string_view bytes) {
  return PacketRef(new PacketMessages(std::string(bytes), nullptr, {}));
}

PacketRef PacketMessages::Create(std::unique_ptr<const PacketBytes> owner,
                                 absl::string_view view) {
  return PacketRef(new PacketMessages("", std::move(owner), view));
}

absl::StatusOr<PacketRef> PacketMessages::FromMessages(
    absl::Span<const v1::Message> messages) {
  std::string bytes;
  std::vector<size_t> ends;
  for (const v1::Message& message : messages) {
    message.AppendToString(&bytes);
    ends.push_back(bytes.size());
  }
  PacketRef packet = Create(bytes);
  absl::InsecureBitGen random;
  const int64_t now_ns = absl::GetCurrentTimeNanos();
  size_t begin = 0;
  for (size_t end : ends) {
    std::string error;
    if (packet->Add(packet->bytes().substr(begin, end - begin), now_ns, random,
                    &error) != WireProblem::kNone) {
      return absl::InvalidArgumentError(
          absl::StrCat("message ", packet->size(), ": ", error));
    }
    begin = end;
  }
  return packet;
}

size_t PacketMessages::parse_reserve() const {
  return kArenaOverhead + parse_cost_;
}

size_t PacketMessages::memory_bound() const {
  return kMemoryAllowance + kMemoryPerByte * bytes_.size();
}

void PacketMessages::Reserve(size_t messages) {
  // No more messages than the memory bound admits at their cheapest (a
  // parsed message holds at least a uuid), and fields for a few each,
  // as far as a typical field's 16 bytes allow.
  constexpr size_t kCheapestMessage =
      sizeof(Slot) + sizeof(v1::Message) + sizeof(std::string) + 16;
  constexpr size_t kTypicalFieldBytes = 16;
  slots_.reserve(std::min(messages, memory_bound() / kCheapestMessage));
  fields_.reserve(
      std::min(4 * slots_.capacity(), bytes_.size() / kTypicalFieldBytes));
}

WireProblem PacketMessages::Add(absl::string_view bytes, int64_t now_ns,
                                absl::BitGenRef random, std::string* error) {
  const size_t fields_before = fields_.size();
  // Read in place: a WireMessage is large enough that copying it shows.
  WireMessage& wire = slots_.emplace_back().wire;
  WireProblem problem = ReadWireMessage(bytes, &wire, &fields_, error);
  if (problem == WireProblem::kNone &&
      HeapBytes(slots_) + HeapBytes(fields_) + parse_cost_ + wire.parse_cost >
          memory_bound()) {
    *error = absl::StrCat("packet of ", bytes_.size(),
                          " bytes reached its memory bound of ", memory_bound(),
                          " bytes");
    problem = WireProblem::kTooDense;
  }
  if (problem != WireProblem::kNone) {
    slots_.pop_back();
    fields_.resize(fields_before);
    return problem;
  }
  parse_cost_ += wire.parse_cost;
  message_bytes_ += bytes.size();
  if (!wire.has_uuid) wire.generated_uuid = RandomUuidBytes(random);
  if (!wire.has_timestamp) wire.timestamp = now_ns;
  return problem;
}

const v1::Message& PacketMessages::Parsed(size_t i) const {
  Parse();
  return *slots_[i].parsed;
}

void PacketMessages::Parse() const {
  absl::call_once(parse_once_, [this] { ParseAll(); });
}

void PacketMessages::ParseAll() const {
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

std::atomic<uint64_t> PacketMessages::parse_failures_{0};

size_t PacketMessages::footprint() const {
  return sizeof(*this) +
         (owner_ != nullptr ? bytes_.size() : copy_.capacity()) +
         HeapBytes(slots_) + HeapBytes(fields_) + parse_reserve();
}

void PacketMessages::Release(uint32_t references) const {
  if (references_.fetch_sub(references, std::memory_order_acq_rel) ==
      references) {
    delete this;
  }
}

void ReleaseMessages(absl::Span<const MessageRef> messages) {
  size_t run_start = 0;
  for (size_t i = 1; i <= messages.size(); ++i) {
    if (i == messages.size() ||
        messages[i].packet() != messages[run_start].packet()) {
      messages[run_start].packet()->Release(
          static_cast<uint32_t>(i - run_start));
      run_start = i;
    }
  }
}

MessageBatch::MessageBatch(absl::Span<const v1::Message> messages) {
  absl::StatusOr<PacketRef> packet = PacketMessages::FromMessages(messages);
  if (!packet.ok()) {
    LOG(FATAL) << "MessageBatch: " << packet.status();
  }
  packet_ = *std::move(packet);
  for (size_t i = 0; i < packet_->size(); ++i) {
    refs_.emplace_back(packet_.get(), static_cast<uint32_t>(i));
  }
}

}  // namespace metlog
