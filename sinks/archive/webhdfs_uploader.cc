#include "sinks/archive/webhdfs_uploader.h"

#include <curl/curl.h>
#include <sys/stat.h>

#include <cstdio>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "sinks/sink.h"

namespace metlog {
namespace {

struct CurlDeleter {
  void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
using Curl = std::unique_ptr<CURL, CurlDeleter>;

struct FileCloser {
  void operator()(FILE* file) const { fclose(file); }
};

// Response bodies are not needed, only their status; reading them keeps the
// connection reusable.
size_t Discard(char*, size_t size, size_t count, void*) { return size * count; }

absl::Status HttpError(const std::string& what, long status) {
  const std::string message =
      absl::StrCat("archive sink: WebHDFS ", what, " answered HTTP ", status);
  return status >= 500 || status == 429
             ? TransientError(message)
             : absl::FailedPreconditionError(message);
}

// Escapes a path for a URL, keeping its slashes.
std::string EscapePath(CURL* curl, const std::string& path) {
  std::string escaped;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    char* part = curl_easy_escape(curl, path.data() + start,
                                  static_cast<int>(slash - start));
    absl::StrAppend(&escaped, part, slash < path.size() ? "/" : "");
    curl_free(part);
    start = slash + 1;
  }
  return escaped;
}

}  // namespace

absl::Status CheckWebHdfsOptions(const sinks::WebHdfsOptions& options) {
  if (!absl::StartsWith(options.namenode_url(), "http://") &&
      !absl::StartsWith(options.namenode_url(), "https://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("webhdfs.namenode_url \"", options.namenode_url(),
                     "\" is not an http:// or https:// URL"));
  }
  if (!absl::StartsWith(options.directory(), "/")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "webhdfs.directory \"", options.directory(), "\" is not absolute"));
  }
  if (options.timeout_ms() == 0 || options.retry_interval_ms() == 0) {
    return absl::InvalidArgumentError(
        "webhdfs.timeout_ms and retry_interval_ms must be positive");
  }
  return absl::OkStatus();
}

WebHdfsUploader::WebHdfsUploader(const sinks::WebHdfsOptions& options)
    : options_(options) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
}

absl::Status WebHdfsUploader::Upload(const std::string& local_path,
                                     const std::string& relative_path) const {
  struct stat info {};
  if (stat(local_path.c_str(), &info) != 0) {
    return ErrnoError(errno, absl::StrCat("archive sink: stat ", local_path));
  }
  Curl curl(curl_easy_init());
  if (curl == nullptr) return TransientError("archive sink: curl_easy_init");
  std::string url = options_.namenode_url();
  while (absl::EndsWith(url, "/")) url.pop_back();
  absl::StrAppend(&url, "/webhdfs/v1",
                  EscapePath(curl.get(), absl::StrCat(options_.directory(), "/",
                                                      relative_path)),
                  "?op=CREATE&overwrite=true");
  if (!options_.user().empty()) {
    char* user = curl_easy_escape(curl.get(), options_.user().data(),
                                  static_cast<int>(options_.user().size()));
    absl::StrAppend(&url, "&user.name=", user);
    curl_free(user);
  }
  const absl::Time deadline =
      absl::Now() + absl::Milliseconds(options_.timeout_ms());
  auto common = [&](const std::string& target) {
    curl_easy_reset(curl.get());
    curl_easy_setopt(curl.get(), CURLOPT_URL, target.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, Discard);
    curl_easy_setopt(
        curl.get(), CURLOPT_TIMEOUT_MS,
        static_cast<long>(std::max<int64_t>(
            1, absl::ToInt64Milliseconds(deadline - absl::Now()))));
  };

  // Step 1: the namenode names a datanode; no data is sent to it.
  common(url);
  curl_easy_setopt(curl.get(), CURLOPT_INFILESIZE_LARGE, curl_off_t{0});
  CURLcode result = curl_easy_perform(curl.get());
  if (result != CURLE_OK) {
    return TransientError(absl::StrCat("archive sink: WebHDFS namenode: ",
                                       curl_easy_strerror(result)));
  }
  long status = 0;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
  char* location = nullptr;
  curl_easy_getinfo(curl.get(), CURLINFO_REDIRECT_URL, &location);
  if (status != 307 || location == nullptr) {
    return HttpError("namenode CREATE (307 expected)", status);
  }
  const std::string datanode = location;

  // Step 2: the bytes to the datanode.
  std::unique_ptr<FILE, FileCloser> file(fopen(local_path.c_str(), "rb"));
  if (file == nullptr) {
    return ErrnoError(errno, absl::StrCat("archive sink: open ", local_path));
  }
  common(datanode);
  curl_easy_setopt(curl.get(), CURLOPT_READDATA, file.get());
  curl_easy_setopt(curl.get(), CURLOPT_INFILESIZE_LARGE,
                   static_cast<curl_off_t>(info.st_size));
  struct curl_slist* headers =
      curl_slist_append(nullptr, "Content-Type: application/octet-stream");
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers);
  result = curl_easy_perform(curl.get());
  curl_slist_free_all(headers);
  if (result != CURLE_OK) {
    return TransientError(absl::StrCat("archive sink: WebHDFS datanode: ",
                                       curl_easy_strerror(result)));
  }
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
  if (status != 201) return HttpError("datanode CREATE (201 expected)", status);
  return absl::OkStatus();
}

}  // namespace metlog
