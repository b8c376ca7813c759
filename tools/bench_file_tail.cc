#include "tools/bench_file_tail.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/io/coded_stream.h"

namespace metlog {

absl::StatusOr<ProtobufFileTail> ProtobufFileTail::Open(
    const std::string& path) {
  const int file = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (file < 0) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  const int inotify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify < 0 || inotify_add_watch(inotify, path.c_str(), IN_MODIFY) < 0 ||
      lseek(file, 0, SEEK_END) < 0) {
    close(file);
    if (inotify >= 0) close(inotify);
    return absl::InternalError(absl::StrCat("cannot watch ", path));
  }
  return ProtobufFileTail(file, inotify);
}

ProtobufFileTail::ProtobufFileTail(ProtobufFileTail&& other) noexcept
    : file_(std::exchange(other.file_, -1)),
      inotify_(std::exchange(other.inotify_, -1)),
      pending_(std::move(other.pending_)) {}

ProtobufFileTail::~ProtobufFileTail() {
  if (file_ >= 0) close(file_);
  if (inotify_ >= 0) close(inotify_);
}

absl::StatusOr<int> ProtobufFileTail::ReadNew(
    absl::Duration timeout,
    const std::function<void(const v1::Message&, absl::Time)>& on_record) {
  // Read first: what was written before this call raised events that are
  // drained below, so waiting first could sleep on data already there.
  char buffer[1 << 16];
  ssize_t got = 0;
  bool grew = false;
  bool waited = false;
  for (;;) {
    while ((got = read(file_, buffer, sizeof(buffer))) > 0) {
      pending_.append(buffer, got);
      grew = true;
    }
    if (got < 0) return absl::InternalError("read of the sink's file failed");
    if (grew || waited) break;
    pollfd events{inotify_, POLLIN, 0};
    if (poll(&events, 1, absl::ToInt64Milliseconds(timeout)) <= 0) return 0;
    alignas(inotify_event) char drained[4096];
    while (read(inotify_, drained, sizeof(drained)) > 0) {
    }
    waited = true;
  }
  if (!grew) return 0;
  const absl::Time read_at = absl::Now();

  using google::protobuf::io::CodedInputStream;
  const auto* data = reinterpret_cast<const uint8_t*>(pending_.data());
  size_t consumed = 0;
  int records = 0;
  v1::Message message;
  while (consumed < pending_.size()) {
    CodedInputStream input(data + consumed, pending_.size() - consumed);
    uint32_t length = 0;
    if (!input.ReadVarint32(&length)) break;  // the length is still partial
    const size_t header = input.CurrentPosition();
    if (pending_.size() - consumed - header < length) break;
    if (!message.ParseFromArray(data + consumed + header, length)) {
      return absl::DataLossError("a record in the sink's file does not parse");
    }
    on_record(message, read_at);
    consumed += header + length;
    ++records;
  }
  pending_.erase(0, consumed);
  return records;
}

}  // namespace metlog
