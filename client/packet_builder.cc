#include "client/packet_builder.h"

#include "google/protobuf/io/coded_stream.h"

namespace metlog {
namespace {

using google::protobuf::io::CodedOutputStream;

constexpr uint8_t kBatchMessagesTag = (1 << 3) | 2;  // Batch.messages
constexpr uint8_t kPacketBatchTag = (1 << 3) | 2;    // Packet.batch

}  // namespace

PacketBuilder::PacketBuilder(size_t max_batch_bytes, const PacketSigner* signer)
    : signer_(signer),
      capacity_(kHeaderRoom + max_batch_bytes +
                (signer != nullptr ? signer->SignatureFieldBytes() : 0)),
      buffer_(new uint8_t[capacity_]) {}

void PacketBuilder::Clear() {
  end_ = kHeaderRoom;
  messages_ = 0;
}

void PacketBuilder::Append(const MessageWriter& writer, size_t message_bytes) {
  uint8_t* out = buffer_.get() + end_;
  *out++ = kBatchMessagesTag;
  out = CodedOutputStream::WriteVarint32ToArray(
      static_cast<uint32_t>(message_bytes), out);
  out = writer.Write(out);
  end_ = out - buffer_.get();
  ++messages_;
}

absl::string_view PacketBuilder::Finish() {
  const size_t batch = batch_bytes();
  const size_t header =
      1 + CodedOutputStream::VarintSize32(static_cast<uint32_t>(batch));
  uint8_t* start = buffer_.get() + kHeaderRoom - header;
  start[0] = kPacketBatchTag;
  CodedOutputStream::WriteVarint32ToArray(static_cast<uint32_t>(batch),
                                          start + 1);
  uint8_t* end = buffer_.get() + end_;
  if (signer_ != nullptr) {
    end = signer_->WriteSignatureField(
        absl::string_view(
            reinterpret_cast<const char*>(buffer_.get() + kHeaderRoom), batch),
        end);
  }
  return absl::string_view(reinterpret_cast<const char*>(start), end - start);
}

}  // namespace metlog
