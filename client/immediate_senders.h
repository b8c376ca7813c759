// Senders that finish their work on the caller's thread: for development
// (StreamSender prints JSON lines) and for applications' own tests
// (CaptureSender keeps the last messages). They build the full message per
// call, so they cost microseconds, not nanoseconds. Both hold their lock
// across fork(), so a child never inherits it locked.
#ifndef METLOG_CLIENT_IMMEDIATE_SENDERS_H_
#define METLOG_CLIENT_IMMEDIATE_SENDERS_H_

#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "client/fork_observer.h"
#include "client/sender.h"

namespace metlog {

// A sender that does its work under one lock, taken across fork().
class LockedSender : public Sender, private ForkObserver {
 public:
  LockedSender();
  ~LockedSender() override;

  void Send(PendingMessage&& message) final;
  bool Shutdown(absl::Duration timeout) override;
  SenderStats Stats() const final;

 protected:
  // Delivers one message under mu_; false when it could not be written.
  virtual bool SendLocked(PendingMessage& message)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) = 0;

  mutable std::mutex mu_;
  absl::InsecureBitGen random_ ABSL_GUARDED_BY(mu_);

 private:
  void BeforeFork() override;
  void AfterForkInParent() override;
  void AfterForkInChild() override;

  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t sent_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t failed_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t dropped_shutdown_ ABSL_GUARDED_BY(mu_) = 0;
};

// Writes each message as one JSON object per line (protobuf's JSON mapping).
// JSON strings are UTF-8: bytes of string fields that are not are written as
// '?' (BYTES fields are base64 and kept exactly).
class StreamSender : public LockedSender {
 public:
  // "-" is standard output; anything else a file opened for appending.
  static absl::StatusOr<std::unique_ptr<StreamSender>> Open(
      const std::string& path);
  ~StreamSender() override;

  bool Flush(absl::Duration timeout) override;

 private:
  StreamSender(FILE* out, bool owned) : out_(out), owned_(owned) {}
  bool SendLocked(PendingMessage& message) override;

  FILE* const out_;
  const bool owned_;
};

// Keeps the most recent `limit` messages in memory.
class CaptureSender : public LockedSender {
 public:
  explicit CaptureSender(size_t limit = 1000) : limit_(limit) {}

  bool Flush(absl::Duration) override { return true; }

  // The captured messages, oldest first.
  std::vector<v1::Message> Messages() const;
  void Clear();

 private:
  bool SendLocked(PendingMessage& message) override;

  const size_t limit_;
  std::deque<v1::Message> messages_ ABSL_GUARDED_BY(mu_);
};

}  // namespace metlog

#endif  // METLOG_CLIENT_IMMEDIATE_SENDERS_H_
