#include "router/inputs/grpc/publish/grpc_input.h"

#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "router/admin_publish.h"

namespace metlog {
namespace {

// Owns the Packet made around a request's batch.
class StringBytes : public PacketBytes {
 public:
  explicit StringBytes(std::string bytes) : bytes_(std::move(bytes)) {}
  absl::string_view bytes() const override { return bytes_; }

 private:
  const std::string bytes_;
};

// A Packet holding `batch` as its field 1, so the decoder's limits and
// checks apply as they do to every other input.
std::string PacketAround(absl::string_view batch) {
  std::string packet(1, '\x0a');
  uint64_t length = batch.size();
  while (length >= 0x80) {
    packet.push_back(static_cast<char>(length | 0x80));
    length >>= 7;
  }
  packet.push_back(static_cast<char>(length));
  packet.append(batch.data(), batch.size());
  return packet;
}

}  // namespace

GrpcInput::GrpcInput(std::string name, const v1::LimitsConfig& limits,
                     Dispatcher* dispatcher)
    : Input(std::move(name)),
      dispatcher_(dispatcher),
      max_packet_bytes_(limits.max_packet_bytes()),
      decoder_(limits) {}

GrpcInput::~GrpcInput() { Stop(absl::Now()); }

GrpcInput::PublishOnlyService::PublishOnlyService(GrpcInput* input) {
  MarkMethodStreamed(kAdminPublishMethodIndex,
                     input->NewPublishHandler([] { return false; }));
}

absl::Status GrpcInput::ServeOn(
    const std::string& listen_address,
    std::shared_ptr<grpc::ServerCredentials> credentials) {
  service_ = std::make_unique<PublishOnlyService>(this);
  int port = 0;
  grpc::ServerBuilder builder;
  // gRPC would share a port in use with SO_REUSEPORT (the admin server's,
  // say) and split the connections between the two servers.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(listen_address, std::move(credentials), &port);
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port == 0) {
    server_.reset();
    return absl::InvalidArgumentError(absl::StrCat(
        "input ", name(), ": gRPC Publish cannot listen on ", listen_address));
  }
  listen_address_ = absl::StrCat(
      listen_address.substr(0, listen_address.rfind(':')), ":", port);
  return absl::OkStatus();
}

void GrpcInput::Stop(absl::Time deadline) {
  stopping_.store(true);
  if (server_ != nullptr) {
    // Without a deadline gRPC waits for every call still open.
    server_->Shutdown(absl::ToChronoTime(deadline));
    server_.reset();
  }
}

std::string GrpcInput::address() const {
  return listen_address_.empty() ? "(Admin.Publish on the admin port)"
                                 : listen_address_;
}

grpc::Status GrpcInput::Publish(absl::string_view batch,
                                const std::string& peer, v1::Ack* ack) {
  const auto peer_name = [&peer] { return peer; };
  if (batch.size() > max_packet_bytes_) {
    std::string error = absl::StrCat("batch of ", batch.size(),
                                     " bytes exceeds ", max_packet_bytes_);
    Refuse(RejectReason::kOversizedPacket, error, peer_name);
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, error);
  }
  absl::MutexLock lock(&mu_);
  DecodeResult result =
      decoder_.Decode(std::make_unique<StringBytes>(PacketAround(batch)));
  if (result.rejected[static_cast<int>(RejectReason::kMalformedPacket)] > 0) {
    // protobuf would not parse this request at all: refuse all of it.
    std::string error = absl::StrCat("not a Batch: ", result.first_error);
    Refuse(RejectReason::kMalformedPacket, error, peer_name);
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, error);
  }
  ack->set_accepted(result.accepted());
  ack->set_rejected(result.rejected_total());
  ack->set_first_error(result.first_error);
  PacketGroup group;
  Accept(std::move(result), peer_name, &group, dispatcher_);
  ack->set_dropped(DispatchGroup(&group, dispatcher_));
  return grpc::Status::OK;
}

grpc::internal::MethodHandler* GrpcInput::NewPublishHandler(
    std::function<bool()> unavailable) {
  using Streamer = grpc::ServerUnaryStreamer<grpc::ByteBuffer, v1::Ack>;
  return new grpc::internal::StreamedUnaryHandler<grpc::ByteBuffer, v1::Ack>(
      [this, unavailable = std::move(unavailable)](grpc::ServerContext* context,
                                                   Streamer* stream) {
        if (stopping_.load() || unavailable()) {
          return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                              "router is stopping");
        }
        grpc::ByteBuffer request;
        if (!stream->Read(&request)) {
          return grpc::Status(grpc::StatusCode::CANCELLED, "no request");
        }
        std::vector<grpc::Slice> slices;
        if (!request.Dump(&slices).ok()) {
          return grpc::Status(grpc::StatusCode::INTERNAL, "unreadable request");
        }
        std::string batch;
        batch.reserve(request.Length());
        for (const grpc::Slice& slice : slices) {
          batch.append(reinterpret_cast<const char*>(slice.begin()),
                       slice.size());
        }
        v1::Ack ack;
        grpc::Status status = Publish(batch, context->peer(), &ack);
        if (status.ok() && !stream->Write(ack)) {
          return grpc::Status(grpc::StatusCode::CANCELLED, "caller left");
        }
        return status;
      });
}

}  // namespace metlog
