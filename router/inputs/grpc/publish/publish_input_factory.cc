// The gRPC Publish input kind (Admin.Publish), configured by
// metlog.v1.GrpcPublishInputConfig.
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "client/net/host_port.h"
#include "router/admin_publish.h"
#include "router/grpc_tls.h"
#include "router/input_registry.h"
#include "router/inputs/grpc/publish/grpc_input.h"
#include "router/inputs/grpc/publish/publish_input.pb.h"

namespace metlog {
namespace {

class GrpcPublishInputFactory
    : public TypedInputFactory<v1::GrpcPublishInputConfig> {
 public:
  std::string default_name() const override { return "grpc"; }

 private:
  static const v1::TlsServerConfig* TlsOf(
      const v1::GrpcPublishInputConfig& publish) {
    return publish.has_tls() ? &publish.tls() : nullptr;
  }

 protected:
  absl::Status CheckOptions(const v1::GrpcPublishInputConfig& publish,
                            const v1::InputConfig& input,
                            const v1::RouterConfig& router) const override {
    if (input.require_signature()) {
      return absl::InvalidArgumentError(
          "require_signature: Publish batches carry no signature, so every "
          "call would be refused");
    }
    if (!publish.listen_address().empty()) {
      if (publish.listen_address() == router.admin().listen_address()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "listen_address \"", publish.listen_address(),
            "\" is the admin port's; leave it empty to serve Publish there"));
      }
      if (absl::Status status = CheckHostPort(
              "listen_address", publish.listen_address(), PortZero::kAllowed);
          !status.ok()) {
        return status;
      }
      return CheckServerTls(TlsOf(publish), "tls");
    }
    if (publish.has_tls()) {
      return absl::InvalidArgumentError(
          "tls: on the admin port admin.tls applies; tls here needs a "
          "listen_address of the input's own");
    }
    if (router.admin().listen_address().empty()) {
      return absl::InvalidArgumentError(
          "Publish is served on the admin port, but admin.listen_address is "
          "empty (the admin service is off); give the input a "
          "listen_address of its own");
    }
    int on_admin_port = 0;
    for (const v1::InputConfig& other : router.inputs()) {
      v1::GrpcPublishInputConfig options;
      if (other.options().UnpackTo(&options) &&
          options.listen_address().empty()) {
        ++on_admin_port;
      }
    }
    if (on_admin_port > 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          on_admin_port,
          " Publish inputs are on the admin port; at most one may be (give "
          "the others a listen_address of their own)"));
    }
    return absl::OkStatus();
  }

  // On the admin port it has no listener of its own.
  InputReach ReachOf(const v1::GrpcPublishInputConfig& publish) const override {
    InputReach reach{publish.listen_address(), /*listens=*/true,
                     /*signable=*/false};
    reach.authenticated = publish.tls().require_client_cert();
    return reach;
  }

  absl::StatusOr<std::unique_ptr<Input>> CreateInput(
      const v1::GrpcPublishInputConfig& publish,
      const InputEnvironment& environment) const override {
    auto input = std::make_unique<GrpcInput>(
        environment.name, environment.limits, environment.dispatcher);
    if (!publish.listen_address().empty()) {
      auto credentials = ServerCredentialsFor(
          TlsOf(publish), absl::StrCat("input ", environment.name, " tls"),
          input->refused_clients_counter());
      if (!credentials.ok()) return credentials.status();
      if (absl::Status status =
              input->ServeOn(publish.listen_address(), *credentials);
          !status.ok()) {
        return status;
      }
      return std::unique_ptr<Input>(std::move(input));
    }
    if (environment.admin_publish == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "input ", environment.name,
          ": Publish is served on the admin port, but the admin service is "
          "off"));
    }
    GrpcInput* handler = input.get();
    if (absl::Status status = environment.admin_publish->Fill(
            environment.name,
            [handler](std::function<bool()> unavailable) {
              return handler->NewPublishHandler(std::move(unavailable));
            });
        !status.ok()) {
      return status;
    }
    return std::unique_ptr<Input>(std::move(input));
  }
};

const InputRegistration<GrpcPublishInputFactory> kRegistration;

}  // namespace
}  // namespace metlog
