#include "sinks/message/shared_packet.h"

#include <algorithm>
#include <cstdlib>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/envelope/uuid.h"
#include "google/protobuf/arena.h"

namespace metlog {
namespace {

// What an InlinedVector took beyond its inline room.
template <typename T, size_t kInline>
size_t HeapBytes(const absl::InlinedVector<T, kInline>& list) {
  return list.capacity() > kInline ? list.capacity() * sizeof(T) : 0;
}

}  // namespace

void PacketRelease::operator()(const SharedPacket* packet) const {
  packet->Release(1);
}

// PacketContents is made only here: defined beside SharedPacket, so that
// making and freeing a packet, on every decode, inline.
PacketContents::PacketContents(std::string copy,
                               std::unique_ptr<const PacketBytes> owner,
                               absl::string_view view)
    : copy_(std::move(copy)),
      owner_(std::move(owner)),
      bytes_(owner_ != nullptr ? view : absl::string_view(copy_)) {}

PacketContents::~PacketContents() = default;

SharedPacket::SharedPacket(std::string copy,
                           std::unique_ptr<const PacketBytes> owner,
                           absl::string_view view)
    : PacketContents(std::move(copy), std::move(owner), view) {}

SharedPacket::~SharedPacket() = default;

PacketRef SharedPacket::Create(absl::string_view bytes) {
  return PacketRef(new SharedPacket(std::string(bytes), nullptr, {}));
}

PacketRef SharedPacket::Create(std::unique_ptr<const PacketBytes> owner,
                               absl::string_view view) {
  return PacketRef(new SharedPacket("", std::move(owner), view));
}

absl::StatusOr<PacketRef> SharedPacket::FromMessages(
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

size_t SharedPacket::memory_bound() const {
  return kMemoryAllowance + kMemoryPerByte * bytes_.size();
}

void SharedPacket::Reserve(size_t messages) {
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

WireProblem SharedPacket::Add(absl::string_view bytes, int64_t now_ns,
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

size_t SharedPacket::footprint() const {
  return sizeof(*this) +
         (owner_ != nullptr ? bytes_.size() : copy_.capacity()) +
         HeapBytes(slots_) + HeapBytes(fields_) +
         (parse_charged_ ? parse_reserve() : 0);
}

void SharedPacket::Release(uint32_t references) const {
  if (references_.fetch_sub(references, std::memory_order_acq_rel) ==
      references) {
    delete this;
  }
}

void ReleaseMessages(absl::Span<const MessageView> messages) {
  size_t run_start = 0;
  for (size_t i = 1; i <= messages.size(); ++i) {
    if (i == messages.size() || SharedPacket::Of(messages[i]) !=
                                    SharedPacket::Of(messages[run_start])) {
      SharedPacket::Of(messages[run_start])
          ->Release(static_cast<uint32_t>(i - run_start));
      run_start = i;
    }
  }
}

}  // namespace metlog
