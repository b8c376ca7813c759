// The archive's WebHDFS target against a small server that follows the
// documented two-step CREATE (no HDFS runs here): the namenode answers 307
// with a datanode Location and takes no data, the datanode stores the bytes
// and answers 201 Created.
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "sinks/archive/archive_sink.h"
#include "sinks/message/message_batch.h"

namespace metlog {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

constexpr int64_t kTen = int64_t{1795600800} * 1000000000;

class FakeWebHdfs {
 public:
  FakeWebHdfs() {
    server_.Put(R"(/webhdfs/v1/.*)", [this](const httplib::Request& request,
                                            httplib::Response& response) {
      std::lock_guard<std::mutex> lock(mu_);
      if (request.get_param_value("op") != "CREATE" ||
          request.get_param_value("overwrite") != "true") {
        response.status = 400;
        return;
      }
      if (!request.has_param("datanode")) {
        ++namenode_calls_;
        users_.push_back(request.get_param_value("user.name"));
        if (!request.body.empty())
          response.status = 400;  // no data here
        else {
          response.status = 307;
          response.set_header(
              "Location", absl::StrCat("http://127.0.0.1:", port_, request.path,
                                       "?op=CREATE&overwrite=true&datanode=1"));
        }
        return;
      }
      if (datanode_failures_ > 0) {
        --datanode_failures_;
        response.status = 503;
        return;
      }
      stored_[request.path.substr(strlen("/webhdfs/v1"))] = request.body;
      response.status = 201;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();
  }
  ~FakeWebHdfs() {
    server_.stop();
    thread_.join();
  }

  std::string url() const { return absl::StrCat("http://127.0.0.1:", port_); }
  void FailDatanode(int times) {
    std::lock_guard<std::mutex> lock(mu_);
    datanode_failures_ = times;
  }
  std::map<std::string, std::string> stored() {
    std::lock_guard<std::mutex> lock(mu_);
    return stored_;
  }
  std::vector<std::string> users() {
    std::lock_guard<std::mutex> lock(mu_);
    return users_;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  int datanode_failures_ = 0;
  int namenode_calls_ = 0;
  std::vector<std::string> users_;
  std::map<std::string, std::string> stored_;  // HDFS path → bytes
};

std::string Gunzip(const std::string& bytes) {
  z_stream stream{};
  inflateInit2(&stream, 15 + 16);
  std::string text;
  char buffer[4096];
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  stream.avail_in = bytes.size();
  while (stream.avail_in > 0) {
    stream.next_out = reinterpret_cast<Bytef*>(buffer);
    stream.avail_out = sizeof(buffer);
    const int result = inflate(&stream, Z_NO_FLUSH);
    text.append(buffer, sizeof(buffer) - stream.avail_out);
    if (result == Z_STREAM_END)
      inflateReset(&stream);
    else if (result != Z_OK)
      break;
  }
  inflateEnd(&stream);
  return text;
}

std::vector<std::string> LocalFiles(const std::string& root) {
  std::vector<std::string> files;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(root)) {
    if (entry.is_regular_file()) files.push_back(entry.path().string());
  }
  return files;
}

sinks::ArchiveOptions Options(const std::string& name,
                              const FakeWebHdfs& hdfs) {
  const std::string root = absl::StrCat(std::getenv("TEST_TMPDIR"), "/", name);
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root);
  sinks::ArchiveOptions options;
  options.set_root(root);
  options.set_router("r1");
  options.mutable_webhdfs()->set_namenode_url(hdfs.url());
  options.mutable_webhdfs()->set_directory("/data/metlog");
  options.mutable_webhdfs()->set_user("hive");
  return options;
}

MessageBatch Logs(int count) {
  std::vector<v1::Message> messages;
  for (int i = 0; i < count; ++i) {
    v1::Message message;
    message.set_type("log");
    message.set_timestamp(kTen);
    message.set_payload(absl::StrCat("line ", i));
    messages.push_back(message);
  }
  return MessageBatch(messages);
}

TEST(WebHdfsUploadTest, UploadsPublishedFilesThenDeletesThem) {
  FakeWebHdfs hdfs;
  const sinks::ArchiveOptions options = Options("upload", hdfs);
  ASSERT_TRUE(CheckArchiveOptions(options).ok());
  ArchiveSink sink(options);
  ASSERT_TRUE(sink.Write(Logs(3).views(), absl::InfiniteFuture()).ok());
  ASSERT_TRUE(sink.Flush().ok());
  ASSERT_THAT(LocalFiles(options.root()), SizeIs(1));
  ASSERT_TRUE(sink.UploadPublished().ok());

  const auto stored = hdfs.stored();
  ASSERT_THAT(stored, SizeIs(1));
  const auto& [path, bytes] = *stored.begin();
  EXPECT_THAT(path, HasSubstr("/data/metlog/metlog/dt=2026-11-25/hour=10/"
                              "type=log/part-r1-"));
  const std::string text = Gunzip(bytes);
  EXPECT_THAT(text, HasSubstr("\"payload\":\"line 0\""));
  EXPECT_THAT(text, HasSubstr("\"payload\":\"line 2\""));
  EXPECT_THAT(hdfs.users(), ElementsAre("hive"));
  EXPECT_THAT(LocalFiles(options.root()), IsEmpty());
}

TEST(WebHdfsUploadTest, KeepsTheFileAndRetriesAfterAFailedUpload) {
  FakeWebHdfs hdfs;
  const sinks::ArchiveOptions options = Options("retry", hdfs);
  ArchiveSink sink(options);
  ASSERT_TRUE(sink.Write(Logs(2).views(), absl::InfiniteFuture()).ok());
  ASSERT_TRUE(sink.Flush().ok());
  hdfs.FailDatanode(1);
  const absl::Status failed = sink.UploadPublished();
  EXPECT_TRUE(IsTransient(failed)) << failed;
  EXPECT_THAT(std::string(failed.message()), HasSubstr("503"));
  EXPECT_THAT(hdfs.stored(), IsEmpty());
  EXPECT_THAT(LocalFiles(options.root()), SizeIs(1));

  ASSERT_TRUE(sink.UploadPublished().ok());
  EXPECT_THAT(hdfs.stored(), SizeIs(1));
  EXPECT_THAT(LocalFiles(options.root()), IsEmpty());
}

TEST(WebHdfsUploadTest, AnUnreachableNamenodeIsTransient) {
  FakeWebHdfs hdfs;
  sinks::ArchiveOptions options = Options("down", hdfs);
  options.mutable_webhdfs()->set_namenode_url("http://127.0.0.1:1");
  ArchiveSink sink(options);
  ASSERT_TRUE(sink.Write(Logs(1).views(), absl::InfiniteFuture()).ok());
  ASSERT_TRUE(sink.Flush().ok());
  EXPECT_TRUE(IsTransient(sink.UploadPublished()));
  EXPECT_THAT(LocalFiles(options.root()), SizeIs(1));
}

TEST(WebHdfsUploadTest, OptionsAreChecked) {
  FakeWebHdfs hdfs;
  sinks::ArchiveOptions options = Options("options", hdfs);
  options.mutable_webhdfs()->set_namenode_url("namenode:9870");
  EXPECT_THAT(std::string(CheckArchiveOptions(options).message()),
              HasSubstr("namenode_url"));
  options = Options("options", hdfs);
  options.mutable_webhdfs()->set_directory("relative");
  EXPECT_THAT(std::string(CheckArchiveOptions(options).message()),
              HasSubstr("webhdfs.directory"));
}

}  // namespace
}  // namespace metlog
