// Admin.Publish as an input: batches arriving over gRPC pass the same limits
// and validation as packets, are counted in Stats like any input's, and are
// acknowledged once queued for every matching sink.
//
// The request is read as the bytes that arrived, not parsed by protobuf:
// the decoder's bounds (SharedPacket) apply to it as to any packet, and
// bytes that are no Batch are refused and counted like a malformed packet.
#ifndef METLOG_ROUTER_INPUTS_GRPC_PUBLISH_GRPC_INPUT_H_
#define METLOG_ROUTER_INPUTS_GRPC_PUBLISH_GRPC_INPUT_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/support/method_handler.h"
#include "proto/admin.grpc.pb.h"
#include "proto/admin.pb.h"
#include "proto/config.pb.h"
#include "router/input.h"
#include "router/packet_decoder.h"

namespace metlog {

class GrpcInput : public Input {
 public:
  // Answers Publish wherever its handler is served (NewPublishHandler):
  // the admin port's server, or its own (ServeOn).
  GrpcInput(std::string name, const v1::LimitsConfig& limits,
            Dispatcher* dispatcher);
  ~GrpcInput() override;

  // Serves Publish alone on a gRPC server of its own at `listen_address`
  // (host:port; port 0 picks one), bound now. Call once, before Start.
  // Credentials made with refused_clients_counter() count their refusals
  // in clients_refused().
  absl::Status ServeOn(const std::string& listen_address,
                       std::shared_ptr<grpc::ServerCredentials> credentials);

  // The server runs it; nothing to start.
  void Start() override {}
  // New calls are answered UNAVAILABLE; its own server, if any, waits for
  // calls in progress until `deadline` and cancels the rest.
  void Stop(absl::Time deadline) override;
  std::string address() const override;
  uint64_t clients_refused() const override {
    return clients_refused_->load(std::memory_order_relaxed);
  }

  // What the TLS credentials of its own server count refused calls in
  // (ServerCredentialsFor), reported as clients_refused().
  std::shared_ptr<std::atomic<uint64_t>> refused_clients_counter() const {
    return clients_refused_;
  }

  // Decodes, validates and routes a serialized Batch; with BLOCK overflow
  // it waits for room. A request that is not a Batch (or exceeds the packet
  // limit) is refused whole: INVALID_ARGUMENT, counted. Thread-safe (calls
  // are serialised).
  grpc::Status Publish(absl::string_view batch, const std::string& peer,
                       v1::Ack* ack);

  // A handler for Admin.Publish that reads the request's bytes and calls
  // Publish, or answers UNAVAILABLE while `unavailable()` says so or once
  // the input is stopping. For grpc::Service::MarkMethodStreamed, which
  // takes ownership.
  grpc::internal::MethodHandler* NewPublishHandler(
      std::function<bool()> unavailable);

 private:
  // An Admin service that serves Publish alone, for ServeOn.
  class PublishOnlyService : public v1::Admin::Service {
   public:
    explicit PublishOnlyService(GrpcInput* input);
  };

  Dispatcher* const dispatcher_;
  const uint32_t max_packet_bytes_;
  absl::Mutex mu_;
  PacketDecoder decoder_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> stopping_{false};
  const std::shared_ptr<std::atomic<uint64_t>> clients_refused_ =
      std::make_shared<std::atomic<uint64_t>>(0);
  // With ServeOn: the address bound, the service and its server.
  std::string listen_address_;
  std::unique_ptr<PublishOnlyService> service_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace metlog

#endif  // METLOG_ROUTER_INPUTS_GRPC_PUBLISH_GRPC_INPUT_H_
