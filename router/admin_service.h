// The gRPC Admin service (proto/admin.proto) over a Router: health, stats,
// tail, reload, and Publish when an input serves it on the admin port
// (router/admin_publish.h; UNIMPLEMENTED otherwise).
#ifndef METLOG_ROUTER_ADMIN_SERVICE_H_
#define METLOG_ROUTER_ADMIN_SERVICE_H_

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "proto/admin.grpc.pb.h"
#include "router/router.h"

namespace metlog {

class AdminService final : public v1::Admin::Service {
 public:
  // Tails open at once; more are refused (RESOURCE_EXHAUSTED). Each holds
  // a bounded backlog (TailBounds), so stalled viewers hold at most this
  // many backlogs: 12 of them took 600 MB.
  static constexpr size_t kMaxTails = 8;

  // `reload` re-reads the config and applies it (Router::Reload); it
  // returns the error that rejected it, if any. Publish goes to the input
  // in router->admin_publish(), if any.
  AdminService(Router* router, std::function<absl::Status()> reload);

  grpc::Status Health(grpc::ServerContext*, const v1::HealthRequest*,
                      v1::HealthResponse* response) override;
  grpc::Status Stats(grpc::ServerContext*, const v1::StatsRequest*,
                     v1::StatsResponse* response) override;
  grpc::Status Tail(grpc::ServerContext* context,
                    const v1::TailRequest* request,
                    grpc::ServerWriter<v1::Message>* writer) override;
  grpc::Status Reload(grpc::ServerContext*, const v1::ReloadRequest*,
                      v1::ReloadResponse* response) override;

  // Marks the router as draining: Health says so, Publish and Reload
  // refuse, and open tails end (a viewer that stopped reading cannot hold
  // the server's shutdown).
  void SetDraining();

 private:
  Router* const router_;
  const std::function<absl::Status()> reload_;
  std::atomic<bool> draining_{false};
  absl::Mutex tails_mu_;
  // The open Tail calls, to cancel when draining.
  std::set<grpc::ServerContext*> tails_ ABSL_GUARDED_BY(tails_mu_);
};

// Serves `service` on `address` (host:port; port 0 picks one) with
// `credentials` (see grpc_tls.h). Returns the server and, through
// `bound_port`, the port chosen.
absl::StatusOr<std::unique_ptr<grpc::Server>> StartAdminServer(
    const std::string& address,
    std::shared_ptr<grpc::ServerCredentials> credentials, AdminService* service,
    int* bound_port);

}  // namespace metlog

#endif  // METLOG_ROUTER_ADMIN_SERVICE_H_
