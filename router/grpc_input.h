// Admin.Publish as an input: batches arriving over gRPC pass the same limits
// and validation as packets, are counted in Stats like any input's, and are
// acknowledged once queued for every matching sink.
//
// The request is read as the bytes that arrived, not parsed by protobuf:
// the decoder's bounds (SharedPacket) apply to it as to any packet, and
// bytes that are no Batch are refused and counted like a malformed packet.
#ifndef METLOG_ROUTER_GRPC_INPUT_H_
#define METLOG_ROUTER_GRPC_INPUT_H_

#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/support/method_handler.h"
#include "proto/admin.pb.h"
#include "proto/config.pb.h"
#include "router/input.h"
#include "router/packet_decoder.h"

namespace metlog {

class GrpcInput : public Input {
 public:
  GrpcInput(const v1::LimitsConfig& limits, Dispatcher* dispatcher);

  // The gRPC server runs it; nothing to start or stop here.
  void Start() override {}
  void Stop(absl::Time) override {}
  std::string address() const override {
    return "(Admin.Publish on the admin port)";
  }

  // Decodes, validates and routes a serialized Batch; with BLOCK overflow
  // it waits for room. A request that is not a Batch (or exceeds the packet
  // limit) is refused whole: INVALID_ARGUMENT, counted. Thread-safe (calls
  // are serialised).
  grpc::Status Publish(absl::string_view batch, const std::string& peer,
                       v1::Ack* ack);

  // A handler for Admin.Publish that reads the request's bytes and calls
  // Publish, or answers UNAVAILABLE while `unavailable()` says so. For
  // grpc::Service::MarkMethodStreamed, which takes ownership.
  grpc::internal::MethodHandler* NewPublishHandler(
      std::function<bool()> unavailable);

 private:
  Dispatcher* const dispatcher_;
  const uint32_t max_packet_bytes_;
  absl::Mutex mu_;
  PacketDecoder decoder_ ABSL_GUARDED_BY(mu_);
};

}  // namespace metlog

#endif  // METLOG_ROUTER_GRPC_INPUT_H_
