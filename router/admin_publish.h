// Admin.Publish is a method of the Admin service (proto/admin.proto), so on
// the admin port the Admin server serves it; what answers it is an input
// (router/inputs/grpc/publish). The router hands this slot to the inputs it
// creates; the one configured to answer Publish on the admin port fills
// it, and AdminService serves its handler (UNIMPLEMENTED when none did).
#ifndef METLOG_ROUTER_ADMIN_PUBLISH_H_
#define METLOG_ROUTER_ADMIN_PUBLISH_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "grpcpp/support/method_handler.h"

namespace metlog {

// Publish's place among the methods of proto/admin.proto's Admin service.
inline constexpr int kAdminPublishMethodIndex = 4;

// Filled while the router is created, read once the admin server is
// built: not thread-safe, and needs none.
class AdminPublish {
 public:
  // Makes a handler for Admin.Publish that answers UNAVAILABLE while
  // `unavailable()` says so; the caller (gRPC) owns it.
  using NewHandlerFn = std::function<grpc::internal::MethodHandler*(
      std::function<bool()> unavailable)>;

  // Makes `input` the one answering Publish. FailedPrecondition when
  // another input already does.
  absl::Status Fill(absl::string_view input, NewHandlerFn new_handler);

  // The filling input's handler, or null when no input filled the slot.
  grpc::internal::MethodHandler* NewHandler(
      std::function<bool()> unavailable) const;

 private:
  std::string input_;
  NewHandlerFn new_handler_;
};

}  // namespace metlog

#endif  // METLOG_ROUTER_ADMIN_PUBLISH_H_
