#include "client/immediate_senders.h"

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"

namespace metlog {

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

void StreamSender::Send(PendingMessage pending) {
  absl::MutexLock lock(&mu_);
  v1::Message message;
  Materialize(pending, random_, &message);
  std::string line;
  (void)google::protobuf::util::MessageToJsonString(message, &line);
  line.push_back('\n');
  if (std::fwrite(line.data(), 1, line.size(), out_) == line.size()) {
    ++sent_;
  } else {
    ++failed_;
  }
}

bool StreamSender::Flush(absl::Duration) {
  absl::MutexLock lock(&mu_);
  return std::fflush(out_) == 0;
}

SenderStats StreamSender::Stats() const {
  absl::MutexLock lock(&mu_);
  SenderStats stats;
  stats.sent = sent_;
  stats.dropped_unsent = failed_;
  return stats;
}

void CaptureSender::Send(PendingMessage pending) {
  absl::MutexLock lock(&mu_);
  messages_.emplace_back();
  Materialize(pending, random_, &messages_.back());
  if (messages_.size() > limit_) messages_.pop_front();
  ++sent_;
}

SenderStats CaptureSender::Stats() const {
  absl::MutexLock lock(&mu_);
  SenderStats stats;
  stats.sent = sent_;
  return stats;
}

std::vector<v1::Message> CaptureSender::Messages() const {
  absl::MutexLock lock(&mu_);
  return std::vector<v1::Message>(messages_.begin(), messages_.end());
}

void CaptureSender::Clear() {
  absl::MutexLock lock(&mu_);
  messages_.clear();
}

}  // namespace metlog
