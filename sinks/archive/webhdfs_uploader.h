// Uploads a local file to HDFS over WebHDFS with the documented two-step
// CREATE: PUT <namenode>/webhdfs/v1<path>?op=CREATE to the namenode, which
// answers 307 with a datanode's Location, then PUT of the bytes there,
// answered 201 Created
// (https://hadoop.apache.org/docs/stable/hadoop-project-dist/hadoop-hdfs/WebHDFS.html#Create_and_Write_to_a_File).
#ifndef METLOG_SINKS_ARCHIVE_WEBHDFS_UPLOADER_H_
#define METLOG_SINKS_ARCHIVE_WEBHDFS_UPLOADER_H_

#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "sinks/archive/archive.pb.h"

namespace metlog {

// Whether the webhdfs block names an http(s) namenode and an absolute
// directory. Errors name the option.
absl::Status CheckWebHdfsOptions(const sinks::WebHdfsOptions& options);

class WebHdfsUploader {
 public:
  explicit WebHdfsUploader(const sinks::WebHdfsOptions& options);

  // Writes the file at `local_path` to <directory>/<relative_path> in HDFS,
  // replacing what a failed earlier try may have left (overwrite=true), so
  // a retry is safe. Network errors and 5xx are transient, other answers
  // permanent.
  absl::Status Upload(const std::string& local_path,
                      const std::string& relative_path) const;

 private:
  const sinks::WebHdfsOptions options_;
};

}  // namespace metlog

#endif  // METLOG_SINKS_ARCHIVE_WEBHDFS_UPLOADER_H_
