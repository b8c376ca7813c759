// Packs messages into the wire bytes of one v1::Packet (a Batch, optionally
// signed) in a buffer allocated once and reused from packet to packet: the
// bytes protobuf would serialize for the same Packet, without a v1::Batch.
#ifndef METLOG_CLIENT_PACKET_BUILDER_H_
#define METLOG_CLIENT_PACKET_BUILDER_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/strings/string_view.h"
#include "client/message_writer.h"
#include "client/packet_signer.h"

namespace metlog {

class PacketBuilder {
 public:
  // Room for a batch of up to `max_batch_bytes`; signs with `signer` when
  // not null (it must outlive the builder).
  PacketBuilder(size_t max_batch_bytes, const PacketSigner* signer);

  // Starts an empty packet.
  void Clear();
  size_t messages() const { return messages_; }
  // Batch bytes so far.
  size_t batch_bytes() const { return end_ - kHeaderRoom; }

  // Adds the message `writer` has prepared, `message_bytes` long (what
  // Prepare() returned). The caller keeps the batch within
  // max_batch_bytes: with its framing, a message adds 1 + the varint of
  // message_bytes + message_bytes.
  void Append(const MessageWriter& writer, size_t message_bytes);

  // The packet's bytes, valid until the next Clear() or Append().
  absl::string_view Finish();

 private:
  // Packet.batch's tag and length go right before the batch: at most
  // 1 + 5 bytes.
  static constexpr size_t kHeaderRoom = 6;

  const PacketSigner* const signer_;
  const size_t capacity_;  // header, batch and signature
  std::unique_ptr<uint8_t[]> buffer_;
  size_t end_ = kHeaderRoom;
  size_t messages_ = 0;
};

}  // namespace metlog

#endif  // METLOG_CLIENT_PACKET_BUILDER_H_
