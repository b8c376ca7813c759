#include "sinks/archive/archive_sink.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "glog/logging.h"

namespace metlog {
namespace {

constexpr absl::Duration kAgeCheckInterval = absl::Seconds(1);

bool IsName(absl::string_view name) {
  if (name.empty() || name.size() > 100) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '_' &&
        c != '-') {
      return false;
    }
  }
  return true;
}

std::string HostName() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "router";
  std::string sanitized(name);
  for (char& c : sanitized) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-') {
      c = '_';
    }
  }
  return sanitized.empty() ? "router" : sanitized;
}

// The map key of a partition: its hour and its raw type.
void PartitionKey(int64_t hour, absl::string_view type, std::string* key) {
  key->clear();
  absl::StrAppend(key, hour, "/", type);
}

}  // namespace

absl::Status CheckArchiveOptions(const sinks::ArchiveOptions& options) {
  const std::string& root = options.root();
  if (root.empty()) return absl::InvalidArgumentError("root is empty");
  struct stat info {};
  if (stat(root.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat("root \"", root, "\" is not a directory"));
  }
  if (access(root.c_str(), W_OK | X_OK) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("root \"", root, "\" is not writable"));
  }
  if (!IsName(options.table())) {
    return absl::InvalidArgumentError(
        absl::StrCat("table \"", options.table(),
                     "\": use 1-100 letters, digits, '_' or '-'"));
  }
  if (options.has_router() && !IsName(options.router())) {
    return absl::InvalidArgumentError(
        absl::StrCat("router \"", options.router(),
                     "\": use 1-100 letters, digits, '_' or '-'"));
  }
  if (absl::Status status = CheckLayout(options.layout()); !status.ok()) {
    return status;
  }
  if (options.compression_level() < 1 || options.compression_level() > 9) {
    return absl::InvalidArgumentError(absl::StrCat(
        "compression_level is ", options.compression_level(), "; use 1-9"));
  }
  if (options.max_file_bytes() == 0 || options.max_file_age_ms() == 0 ||
      options.max_open_files() == 0) {
    return absl::InvalidArgumentError(
        "max_file_bytes, max_file_age_ms and max_open_files must be positive");
  }
  if (options.has_webhdfs()) return CheckWebHdfsOptions(options.webhdfs());
  return absl::OkStatus();
}

ArchiveSink::ArchiveSink(const sinks::ArchiveOptions& options,
                         std::function<absl::Time()> clock)
    : options_(options),
      clock_(std::move(clock)),
      path_(options.layout(), options.table()),
      router_(options.has_router() ? options.router() : HostName()),
      start_ms_(absl::ToUnixMillis(clock_())),
      encoder_(MakeEncoder(sinks::EncodingOptions::JSON)),
      compressor_(options.compression_level()),
      uploader_(options.has_webhdfs()
                    ? std::make_unique<WebHdfsUploader>(options.webhdfs())
                    : nullptr) {}

ArchiveSink::~ArchiveSink() { Stop(); }

absl::Status ArchiveSink::Start() {
  const std::string prefix = absl::StrCat(".part-", router_, "-");
  std::error_code error;
  std::vector<std::string> leftovers;
  for (auto it = std::filesystem::recursive_directory_iterator(
           options_.root(),
           std::filesystem::directory_options::skip_permission_denied, error);
       !error && it != std::filesystem::recursive_directory_iterator();
       it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (it->is_regular_file() && absl::StartsWith(name, prefix) &&
        !FinalName(name).empty()) {
      leftovers.push_back(it->path().string());
    }
  }
  if (error) {
    LOG(WARNING) << "archive sink: listing " << options_.root() << ": "
                 << error.message();
  }
  for (const std::string& path : leftovers) {
    absl::StatusOr<RecoveredFile> recovered = RecoverTemporaryFile(path);
    if (!recovered.ok()) {
      ++recovery_.failed;
      LOG(ERROR) << "archive sink: left " << path << ": " << recovered.status();
    } else if (recovered->published) {
      ++recovery_.published;
      LOG(WARNING) << "archive sink: published " << path
                   << " after a crash: " << recovered->kept_bytes
                   << " bytes of whole gzip members "
                   << "kept, a cut tail of " << recovered->dropped_bytes
                   << " bytes removed";
    } else {
      ++recovery_.removed;
      LOG(WARNING) << "archive sink: removed " << path << " after a crash: "
                   << "no whole gzip member in its " << recovered->dropped_bytes
                   << " bytes";
    }
  }
  age_publisher_ = std::thread([this] {
    const absl::Duration retry_interval =
        absl::Milliseconds(options_.webhdfs().retry_interval_ms());
    absl::Time next_upload = absl::Now();
    while (!stopping_.WaitForNotificationWithTimeout(kAgeCheckInterval)) {
      if (absl::Status status = PublishAged(); !status.ok()) {
        LOG(ERROR) << status;
      }
      if (uploader_ != nullptr && absl::Now() >= next_upload) {
        if (absl::Status status = UploadPublished(); !status.ok()) {
          LOG(ERROR) << status << "; retrying in " << retry_interval;
          next_upload = absl::Now() + retry_interval;
        }
      }
    }
  });
  return absl::OkStatus();
}

std::string ArchiveSink::NextFileName() {
  return absl::StrFormat("part-%s-%d-%06d.jsonl.gz", router_, start_ms_,
                         next_sequence_++);
}

absl::StatusOr<ArchiveSink::Partition*> ArchiveSink::PartitionFor(
    int64_t timestamp_ns, absl::string_view type) {
  const int64_t hour = PartitionPath::HourOf(timestamp_ns);
  PartitionKey(hour, type, &key_);
  if (auto it = partitions_.find(key_); it != partitions_.end()) {
    return it->second.get();
  }
  if (partitions_.size() >= options_.max_open_files()) {
    if (absl::Status status = PublishOldest(); !status.ok()) return status;
  }
  absl::StatusOr<std::unique_ptr<GzipPartFile>> file = GzipPartFile::Create(
      absl::StrCat(options_.root(), "/", path_.Directory(timestamp_ns, type)),
      NextFileName(), clock_());
  if (!file.ok()) return file.status();
  auto partition = std::make_unique<Partition>();
  partition->file = *std::move(file);
  Partition* result = partition.get();
  partitions_.emplace(key_, std::move(partition));
  return result;
}

absl::Status ArchiveSink::AppendPending(Partition& partition) {
  if (partition.pending.empty()) return absl::OkStatus();
  absl::Status status = compressor_.Compress(partition.pending, &member_);
  if (status.ok()) status = partition.file->Append(member_);
  partition.pending.clear();
  return status;
}

absl::Status ArchiveSink::Write(absl::Span<const MessageView> batch,
                                absl::Time /*deadline*/) {
  absl::MutexLock lock(&mu_);
  touched_.clear();
  const int64_t now_ns = absl::ToUnixNanos(clock_());
  absl::Status status;
  for (const MessageView& message : batch) {
    const WireMessage& wire = message.wire();
    absl::StatusOr<Partition*> partition =
        PartitionFor(wire.has_timestamp ? wire.timestamp : now_ns, wire.type);
    if (!partition.ok()) {
      status = partition.status();
      break;
    }
    if ((*partition)->pending.empty()) touched_.push_back(*partition);
    encoder_->Append(message, &(*partition)->pending);
  }
  for (Partition* partition : touched_) {
    if (!status.ok()) {
      partition->pending.clear();  // the runner retries the whole batch
      continue;
    }
    status = AppendPending(*partition);
  }
  touched_.clear();
  if (!status.ok()) return status;
  return PublishWhere([this](const Partition& partition) {
    return partition.file->bytes() >= options_.max_file_bytes();
  });
}

absl::Status ArchiveSink::PublishWhere(
    const std::function<bool(const Partition&)>& pick) {
  absl::Status first_error;
  for (auto it = partitions_.begin(); it != partitions_.end();) {
    if (!pick(*it->second)) {
      ++it;
      continue;
    }
    GzipPartFile& file = *it->second->file;
    absl::Status status = file.bytes() > 0 ? file.Publish() : file.Discard();
    if (!status.ok() && first_error.ok()) first_error = status;
    partitions_.erase(it++);
  }
  return first_error;
}

absl::Status ArchiveSink::PublishOldest() {
  const Partition* oldest = nullptr;
  for (const auto& [key, partition] : partitions_) {
    if (!partition->pending.empty()) continue;
    if (oldest == nullptr ||
        partition->file->opened() < oldest->file->opened()) {
      oldest = partition.get();
    }
  }
  if (oldest == nullptr) return absl::OkStatus();
  return PublishWhere(
      [oldest](const Partition& partition) { return &partition == oldest; });
}

absl::Status ArchiveSink::PublishAged() {
  absl::MutexLock lock(&mu_);
  const absl::Time cutoff =
      clock_() - absl::Milliseconds(options_.max_file_age_ms());
  return PublishWhere([cutoff](const Partition& partition) {
    return partition.file->opened() <= cutoff;
  });
}

absl::Status ArchiveSink::Flush() {
  absl::MutexLock lock(&mu_);
  return PublishWhere([](const Partition&) { return true; });
}

absl::Status ArchiveSink::UploadPublished() {
  if (uploader_ == nullptr) return absl::OkStatus();
  const std::string prefix = absl::StrCat("part-", router_, "-");
  std::error_code error;
  std::vector<std::filesystem::path> published;
  for (auto it = std::filesystem::recursive_directory_iterator(
           options_.root(),
           std::filesystem::directory_options::skip_permission_denied, error);
       !error && it != std::filesystem::recursive_directory_iterator();
       it.increment(error)) {
    const std::string name = it->path().filename().string();
    if (it->is_regular_file() && absl::StartsWith(name, prefix) &&
        absl::EndsWith(name, ".jsonl.gz")) {
      published.push_back(it->path());
    }
  }
  for (const std::filesystem::path& path : published) {
    // Shutdown waits for one upload at most; the rest go at the next start.
    if (stopping_.HasBeenNotified()) break;
    const std::string relative =
        std::filesystem::relative(path, options_.root()).string();
    if (absl::Status status = uploader_->Upload(path.string(), relative);
        !status.ok()) {
      return status;
    }
    std::filesystem::remove(path, error);
    if (error) {
      LOG(ERROR) << "archive sink: uploaded " << path << " but cannot remove "
                 << "it (it will be uploaded again): " << error.message();
    }
  }
  return absl::OkStatus();
}

void ArchiveSink::Stop() {
  if (!stopping_.HasBeenNotified()) stopping_.Notify();
  if (age_publisher_.joinable()) age_publisher_.join();
  if (absl::Status status = Flush(); !status.ok()) LOG(ERROR) << status;
}

namespace {
const SinkRegistration<sinks::ArchiveOptions> kRegistration(
    [](const sinks::ArchiveOptions& options)
        -> absl::StatusOr<std::unique_ptr<Sink>> {
      if (absl::Status status = CheckArchiveOptions(options); !status.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("archive sink: ", status.message()));
      }
      return std::make_unique<ArchiveSink>(options);
    });
}  // namespace

}  // namespace metlog
