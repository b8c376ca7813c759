#include "sinks/message/message_batch.h"

#include "absl/status/statusor.h"
#include "glog/logging.h"
#include "sinks/message/shared_packet.h"

namespace metlog {

void MessageBatch::Release::operator()(const SharedPacket* packet) const {
  packet->Release(1);
}

MessageBatch::MessageBatch(absl::Span<const v1::Message> messages) {
  absl::StatusOr<PacketRef> packet = SharedPacket::FromMessages(messages);
  if (!packet.ok()) {
    LOG(FATAL) << "MessageBatch: " << packet.status();
  }
  packet_.reset(packet->release());
  for (size_t i = 0; i < packet_->size(); ++i) {
    views_.push_back(packet_->View(i));
  }
}

}  // namespace metlog
