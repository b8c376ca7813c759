// The null sink: Write succeeds and does nothing (or, with read_messages,
// only parses). Its runner still counts every message, so it measures the
// router without a back end.
#include <memory>

#include "sinks/null/null.pb.h"
#include "sinks/sink.h"

namespace metlog {
namespace {

class NullSink : public Sink {
 public:
  explicit NullSink(bool read_messages) : read_messages_(read_messages) {}

  bool ReadsMessages() const override { return read_messages_; }

  absl::Status Write(absl::Span<const MessageView> batch,
                     absl::Time /*deadline*/) override {
    if (read_messages_) {
      for (const MessageView& message : batch) {
        read_bytes_ += message.message().payload().size();
      }
    }
    return absl::OkStatus();
  }

 private:
  const bool read_messages_;
  // Keeps the reads from being optimised away.
  uint64_t read_bytes_ = 0;
};

const SinkRegistration<sinks::NullOptions> kRegistration(
    [](const sinks::NullOptions& options)
        -> absl::StatusOr<std::unique_ptr<Sink>> {
      return std::make_unique<NullSink>(options.read_messages());
    });

}  // namespace
}  // namespace metlog
