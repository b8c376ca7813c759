#include "router/admin_service.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace metlog {
namespace {

// Messages a slow Tail viewer may fall behind by before some are skipped.
constexpr size_t kTailBacklog = 10000;

}  // namespace

AdminService::AdminService(Router* router, GrpcInput* publish,
                           std::function<absl::Status()> reload)
    : router_(router), publish_(publish), reload_(std::move(reload)) {
  // Publish reads the request's bytes, for the decoder to check them.
  constexpr int kPublishMethod = 4;  // its place in proto/admin.proto
  MarkMethodStreamed(kPublishMethod, publish_->NewPublishHandler(
                                         [this] { return draining_.load(); }));
}

void AdminService::SetDraining() { draining_.store(true); }

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
  std::shared_ptr<metlog::Tail> tail =
      router_->AddTail(*std::move(matcher), kTailBacklog);
  uint64_t sent = 0;
  while (!context->IsCancelled() && !draining_.load() &&
         (request->limit() == 0 || sent < request->limit())) {
    auto message = tail->Next(absl::Milliseconds(200));
    if (!message.has_value()) continue;
    if (!writer->Write(**message)) break;
    ++sent;
  }
  router_->RemoveTail(tail);
  return grpc::Status::OK;
}

grpc::Status AdminService::Reload(grpc::ServerContext*,
                                  const v1::ReloadRequest*,
                                  v1::ReloadResponse* response) {
  if (absl::Status status = reload_(); !status.ok()) {
    response->set_error(std::string(status.message()));
  }
  return grpc::Status::OK;
}

absl::StatusOr<std::unique_ptr<grpc::Server>> StartAdminServer(
    const std::string& address, AdminService* service, int* bound_port) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(),
                           bound_port);
  builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || *bound_port == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("admin: cannot listen on ", address));
  }
  return server;
}

}  // namespace metlog
