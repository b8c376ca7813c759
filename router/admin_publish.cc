#include "router/admin_publish.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace metlog {

absl::Status AdminPublish::Fill(absl::string_view input,
                                NewHandlerFn new_handler) {
  if (new_handler_ != nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("input \"", input, "\": input \"", input_,
                     "\" already serves Admin.Publish on the admin port"));
  }
  input_ = std::string(input);
  new_handler_ = std::move(new_handler);
  return absl::OkStatus();
}

grpc::internal::MethodHandler* AdminPublish::NewHandler(
    std::function<bool()> unavailable) const {
  if (new_handler_ == nullptr) return nullptr;
  return new_handler_(std::move(unavailable));
}

}  // namespace metlog
