// The null sink: Write succeeds and does nothing. Its runner still counts
// every message, so it measures the router without a back end.
#include <memory>

#include "sinks/null/null.pb.h"
#include "sinks/sink.h"

namespace metlog {
namespace {

class NullSink : public Sink {
 public:
  absl::Status Write(absl::Span<const MessageRef>) override {
    return absl::OkStatus();
  }
};

const SinkRegistration<sinks::NullOptions> kRegistration(
    [](const sinks::NullOptions&) -> absl::StatusOr<std::unique_ptr<Sink>> {
      return std::make_unique<NullSink>();
    });

}  // namespace
}  // namespace metlog
