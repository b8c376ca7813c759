// Messages made in process, as the views a sink or a matcher reads, for
// tests and benchmarks that need a batch to hand them.
#ifndef METLOG_SINKS_MESSAGE_MESSAGE_BATCH_H_
#define METLOG_SINKS_MESSAGE_MESSAGE_BATCH_H_

#include <memory>
#include <vector>

#include "absl/types/span.h"
#include "proto/metlog.pb.h"
#include "sinks/message/message_view.h"

namespace metlog {

class SharedPacket;

class MessageBatch {
 public:
  // Aborts if a message breaks a rule: it is a bug in the caller.
  explicit MessageBatch(absl::Span<const v1::Message> messages);

  absl::Span<const MessageView> views() const { return views_; }
  const MessageView& operator[](size_t i) const { return views_[i]; }
  size_t size() const { return views_.size(); }

 private:
  // Gives back the batch's reference to its packet.
  struct Release {
    void operator()(const SharedPacket* packet) const;
  };

  std::unique_ptr<const SharedPacket, Release> packet_;
  std::vector<MessageView> views_;
};

}  // namespace metlog

#endif  // METLOG_SINKS_MESSAGE_MESSAGE_BATCH_H_
