// Senders that finish their work on the caller's thread: for development
// (StreamSender prints JSON lines) and for applications' own tests
// (CaptureSender keeps the last messages). They build the full message per
// call, so they cost microseconds, not nanoseconds.
#ifndef METLOG_CLIENT_IMMEDIATE_SENDERS_H_
#define METLOG_CLIENT_IMMEDIATE_SENDERS_H_

#include <cstdio>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "client/sender.h"

namespace metlog {

// Writes each message as one JSON object per line (protobuf's JSON mapping).
class StreamSender : public Sender {
 public:
  // "-" is standard output; anything else a file opened for appending.
  static absl::StatusOr<std::unique_ptr<StreamSender>> Open(
      const std::string& path);
  ~StreamSender() override;

  void Send(PendingMessage message) override;
  bool Flush(absl::Duration timeout) override;
  SenderStats Stats() const override;

 private:
  StreamSender(FILE* out, bool owned) : out_(out), owned_(owned) {}

  mutable absl::Mutex mu_;
  FILE* const out_;
  const bool owned_;
  absl::InsecureBitGen random_ ABSL_GUARDED_BY(mu_);
  uint64_t sent_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t failed_ ABSL_GUARDED_BY(mu_) = 0;
};

// Keeps the most recent `limit` messages in memory.
class CaptureSender : public Sender {
 public:
  explicit CaptureSender(size_t limit = 1000) : limit_(limit) {}

  void Send(PendingMessage message) override;
  bool Flush(absl::Duration) override { return true; }
  SenderStats Stats() const override;

  // The captured messages, oldest first.
  std::vector<v1::Message> Messages() const;
  void Clear();

 private:
  const size_t limit_;
  mutable absl::Mutex mu_;
  std::deque<v1::Message> messages_ ABSL_GUARDED_BY(mu_);
  absl::InsecureBitGen random_ ABSL_GUARDED_BY(mu_);
  uint64_t sent_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace metlog

#endif  // METLOG_CLIENT_IMMEDIATE_SENDERS_H_
