// libFuzzer target: parses arbitrary text as a router config and, when it
// parses, runs the same check as `router --check`. Neither may crash; what
// start-up would refuse, the check must refuse first (config_validation.h).
#include <cstddef>
#include <cstdint>

#include "absl/strings/string_view.h"
#include "google/protobuf/stubs/logging.h"
#include "router/config_loader.h"
#include "router/router.h"

// protobuf logs each text-format parse error; the errors are returned too.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<metlog::v1::RouterConfig> config =
      metlog::ParseRouterConfig(text, "fuzz.textproto");
  if (config.ok()) (void)metlog::Router::Check(*config);
  return 0;
}
