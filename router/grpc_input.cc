#include "router/grpc_input.h"

namespace metlog {

GrpcInput::GrpcInput(const v1::LimitsConfig& limits, Dispatcher* dispatcher)
    : Input("grpc"), dispatcher_(dispatcher), decoder_(limits) {}

v1::Ack GrpcInput::Publish(const v1::Batch& batch, const std::string& peer) {
  // Re-encoded as a Packet so the decoder's limits and checks apply as they
  // do to every other input.
  v1::Packet packet;
  batch.SerializeToString(packet.mutable_batch());
  absl::MutexLock lock(&mu_);
  DecodeResult result = decoder_.Decode(packet.SerializeAsString());
  v1::Ack ack;
  ack.set_accepted(result.accepted());
  ack.set_rejected(result.rejected_total());
  ack.set_first_error(result.first_error);
  std::vector<PacketRef> group;
  Accept(
      std::move(result), [&peer] { return peer; }, &group);
  ack.set_dropped(DispatchGroup(&group, dispatcher_));
  return ack;
}

}  // namespace metlog
