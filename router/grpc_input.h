// Admin.Publish as an input: batches arriving over gRPC pass the same limits
// and validation as packets, are counted in Stats like any input's, and are
// acknowledged once queued for every matching sink.
#ifndef METLOG_ROUTER_GRPC_INPUT_H_
#define METLOG_ROUTER_GRPC_INPUT_H_

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
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

  // Decodes, validates and routes the batch; with BLOCK overflow it waits
  // for room. Thread-safe (calls are serialised).
  v1::Ack Publish(const v1::Batch& batch, const std::string& peer);

 private:
  Dispatcher* const dispatcher_;
  absl::Mutex mu_;
  PacketDecoder decoder_ ABSL_GUARDED_BY(mu_);
};

}  // namespace metlog

#endif  // METLOG_ROUTER_GRPC_INPUT_H_
