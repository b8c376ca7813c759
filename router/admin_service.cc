#include "router/admin_service.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/envelope/field.h"

namespace metlog {
namespace {

// Tells a tail's viewer that it fell behind and `dropped` messages were
// left out, in the stream itself, where the viewer looks.
v1::Message DroppedNotice(uint64_t dropped) {
  v1::Message notice;
  notice.set_timestamp(absl::GetCurrentTimeNanos());
  notice.set_type("metlog.tail.dropped");
  notice.set_logger("metlog.router");
  notice.set_severity(4);
  notice.set_payload(absl::StrCat(
      dropped, " messages dropped: this tail fell behind its backlog"));
  *notice.add_fields() =
      MakeField("dropped", static_cast<int64_t>(dropped), "count");
  return notice;
}

}  // namespace

AdminService::AdminService(Router* router, std::function<absl::Status()> reload)
    : router_(router), reload_(std::move(reload)) {
  // The input reads the request's bytes, for the decoder to check them.
  if (grpc::internal::MethodHandler* publish =
          router_->admin_publish().NewHandler(
              [this] { return draining_.load(); })) {
    MarkMethodStreamed(kAdminPublishMethodIndex, publish);
  }
}

void AdminService::SetDraining() {
  draining_.store(true);
  absl::MutexLock lock(&tails_mu_);
  for (grpc::ServerContext* tail : tails_) tail->TryCancel();
}

grpc::Status AdminService::Health(grpc::ServerContext*,
                                  const v1::HealthRequest*,
                                  v1::HealthResponse* response) {
  response->set_status(draining_.load() ? "DRAINING" : "SERVING");
  response->set_uptime_seconds(absl::ToInt64Seconds(router_->uptime()));
  return grpc::Status::OK;
}

grpc::Status AdminService::Stats(grpc::ServerContext*, const v1::StatsRequest*,
                                 v1::StatsResponse* response) {
  *response = router_->Stats();
  return grpc::Status::OK;
}

grpc::Status AdminService::Tail(grpc::ServerContext* context,
                                const v1::TailRequest* request,
                                grpc::ServerWriter<v1::Message>* writer) {
  absl::StatusOr<Matcher> matcher = Matcher::Compile(request->match());
  if (!matcher.ok()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        std::string(matcher.status().message()));
  }
  {
    absl::MutexLock lock(&tails_mu_);
    if (draining_.load()) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, "router is stopping");
    }
    if (tails_.size() >= kMaxTails) {
      return grpc::Status(
          grpc::StatusCode::RESOURCE_EXHAUSTED,
          absl::StrCat(kMaxTails, " tails are open already; at most ",
                       kMaxTails, " at once"));
    }
    tails_.insert(context);
  }
  std::shared_ptr<metlog::Tail> tail =
      router_->AddTail(request->match(), *std::move(matcher), TailBounds());
  uint64_t sent = 0;
  while (!context->IsCancelled() && !draining_.load() &&
         (request->limit() == 0 || sent < request->limit())) {
    if (const uint64_t dropped = tail->TakeNewlyDropped(); dropped > 0) {
      if (!writer->Write(DroppedNotice(dropped))) break;
    }
    auto message = tail->Next(absl::Milliseconds(200));
    if (!message.has_value()) continue;
    if (!writer->Write(**message)) break;
    ++sent;
  }
  // Frees the backlog at once, whether the viewer left or was cut off.
  tail->Close();
  router_->RemoveTail(tail);
  absl::MutexLock lock(&tails_mu_);
  tails_.erase(context);
  return grpc::Status::OK;
}

grpc::Status AdminService::Reload(grpc::ServerContext*,
                                  const v1::ReloadRequest*,
                                  v1::ReloadResponse* response) {
  if (draining_.load()) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        "router is stopping: reload refused");
  }
  if (absl::Status status = reload_(); !status.ok()) {
    response->set_error(std::string(status.message()));
  }
  return grpc::Status::OK;
}

absl::StatusOr<std::unique_ptr<grpc::Server>> StartAdminServer(
    const std::string& address,
    std::shared_ptr<grpc::ServerCredentials> credentials, AdminService* service,
    int* bound_port) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, std::move(credentials), bound_port);
  builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || *bound_port == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("admin: cannot listen on ", address));
  }
  return server;
}

}  // namespace metlog
