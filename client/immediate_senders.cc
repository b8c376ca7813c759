#include "client/immediate_senders.h"

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "google/protobuf/stubs/common.h"
#include "google/protobuf/util/json_util.h"

namespace metlog {
namespace {

void CoerceToUtf8(std::string* text) {
  if (google::protobuf::internal::IsStructurallyValidUTF8(*text)) return;
  std::string valid(text->size(), '\0');
  google::protobuf::internal::UTF8CoerceToStructurallyValid(*text, &valid[0],
                                                            '?');
  *text = std::move(valid);
}

// protobuf's JSON printer drops strings that are not UTF-8.
void CoerceStringsToUtf8(v1::Message* message) {
  CoerceToUtf8(message->mutable_type());
  CoerceToUtf8(message->mutable_logger());
  CoerceToUtf8(message->mutable_payload());
  CoerceToUtf8(message->mutable_env_version());
  CoerceToUtf8(message->mutable_hostname());
  for (v1::Field& field : *message->mutable_fields()) {
    CoerceToUtf8(field.mutable_name());
    CoerceToUtf8(field.mutable_representation());
    for (std::string& value : *field.mutable_value_string()) {
      CoerceToUtf8(&value);
    }
  }
}

}  // namespace

LockedSender::LockedSender() { RegisterForkObserver(this); }

LockedSender::~LockedSender() { UnregisterForkObserver(this); }

void LockedSender::BeforeFork() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu_.lock(); }

void LockedSender::AfterForkInParent() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  mu_.unlock();
}

void LockedSender::AfterForkInChild() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  mu_.unlock();
}

void LockedSender::Send(PendingMessage&& message) {
  std::lock_guard<std::mutex> lock(mu_);
  if (shut_down_) {
    ++dropped_shutdown_;
    return;
  }
  ++(SendLocked(message) ? sent_ : failed_);
}

bool LockedSender::Shutdown(absl::Duration timeout) {
  const bool flushed = Flush(timeout);
  std::lock_guard<std::mutex> lock(mu_);
  const bool first = !shut_down_;
  shut_down_ = true;
  return first && flushed;
}

SenderStats LockedSender::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  SenderStats stats;
  stats.sent = sent_;
  stats.dropped_unsent = failed_;
  stats.dropped_shutdown = dropped_shutdown_;
  return stats;
}

absl::StatusOr<std::unique_ptr<StreamSender>> StreamSender::Open(
    const std::string& path) {
  if (path == "-") {
    return std::unique_ptr<StreamSender>(new StreamSender(stdout, false));
  }
  FILE* file = std::fopen(path.c_str(), "a");
  if (file == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "stream sender: cannot open ", path, ": ", std::strerror(errno)));
  }
  return std::unique_ptr<StreamSender>(new StreamSender(file, true));
}

StreamSender::~StreamSender() {
  if (owned_) std::fclose(out_);
}

bool StreamSender::SendLocked(PendingMessage& pending) {
  v1::Message message;
  Materialize(pending, random_, &message);
  CoerceStringsToUtf8(&message);
  std::string line;
  if (!google::protobuf::util::MessageToJsonString(message, &line).ok()) {
    return false;
  }
  line.push_back('\n');
  return std::fwrite(line.data(), 1, line.size(), out_) == line.size();
}

bool StreamSender::Flush(absl::Duration) {
  std::lock_guard<std::mutex> lock(mu_);
  return std::fflush(out_) == 0;
}

bool CaptureSender::SendLocked(PendingMessage& pending) {
  messages_.emplace_back();
  Materialize(pending, random_, &messages_.back());
  if (messages_.size() > limit_) messages_.pop_front();
  return true;
}

std::vector<v1::Message> CaptureSender::Messages() const {
  std::lock_guard<std::mutex> lock(mu_);
  return std::vector<v1::Message>(messages_.begin(), messages_.end());
}

void CaptureSender::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  messages_.clear();
}

}  // namespace metlog
