// How the sink reads a server's answers (against a local cpp-httplib server
// that answers as told), the deadline and Cancel, and the factory's checks.
#include "sinks/sentry/sentry_sink.h"

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "sinks/message/message_batch.h"

namespace metlog {
namespace {

using ::testing::HasSubstr;

// Answers every envelope POST with the status and headers of the next
// scripted reply (the last one repeats), keeping the requests it saw. A
// reply with `hold` blocks until Release().
class ScriptedSentry {
 public:
  struct Reply {
    int status = 200;
    httplib::Headers headers;
    bool hold = false;
  };

  explicit ScriptedSentry(std::vector<Reply> replies)
      : replies_(std::move(replies)) {
    server_.Post("/api/7/envelope/", [this](const httplib::Request& request,
                                            httplib::Response& response) {
      std::unique_lock<std::mutex> lock(mu_);
      requests_.push_back(request);
      const Reply& reply =
          replies_[std::min(requests_.size(), replies_.size()) - 1];
      released_.wait(lock, [&] { return !reply.hold || released_flag_; });
      response.status = reply.status;
      for (const auto& [name, value] : reply.headers) {
        response.set_header(name.c_str(), value);
      }
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }

  ~ScriptedSentry() {
    Release();
    server_.stop();
    thread_.join();
  }

  std::string Dsn() const {
    return "http://testkey@127.0.0.1:" + std::to_string(port_) + "/7";
  }

  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_flag_ = true;
    released_.notify_all();
  }

  std::vector<httplib::Request> Requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  httplib::Server server_;
  std::vector<Reply> replies_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable released_;
  bool released_flag_ = false;
  std::vector<httplib::Request> requests_;
};

absl::StatusOr<std::unique_ptr<Sink>> Create(const std::string& text) {
  sinks::SentryOptions options;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &options))
      << text;
  google::protobuf::Any any;
  any.PackFrom(options);
  return SinkRegistry::Global().Create(any);
}

std::unique_ptr<Sink> SinkFor(const ScriptedSentry& server) {
  absl::StatusOr<std::unique_ptr<Sink>> sink =
      Create("dsn: '" + server.Dsn() + "'");
  EXPECT_TRUE(sink.ok()) << sink.status();
  return sink.ok() ? *std::move(sink) : nullptr;
}

MessageBatch Exceptions(int count) {
  std::vector<v1::Message> messages;
  for (int i = 0; i < count; ++i) {
    v1::Message message;
    message.set_uuid(std::string(16, static_cast<char>(i + 1)));
    message.set_timestamp(1700000000000000000);
    message.set_type("exception");
    message.set_severity(1);
    message.set_payload("boom " + std::to_string(i));
    messages.push_back(message);
  }
  return MessageBatch(messages);
}

absl::Time Later() { return absl::Now() + absl::Seconds(30); }

TEST(SentrySinkTest, PostsOneEnvelopePerEventWithTheAuthHeader) {
  ScriptedSentry server({{200}, {200}});
  std::unique_ptr<Sink> sink = SinkFor(server);
  ASSERT_TRUE(sink->Write(Exceptions(2).views(), Later()).ok());
  EXPECT_EQ(sink->TakeUnusable(), 0u);
  const std::vector<httplib::Request> requests = server.Requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].get_header_value("X-Sentry-Auth"),
            "Sentry sentry_version=7, sentry_key=testkey, "
            "sentry_client=metlog-router/1.0");
  EXPECT_EQ(requests[0].get_header_value("Content-Type"),
            "application/x-sentry-envelope");
  EXPECT_THAT(requests[0].body,
              HasSubstr("{\"event_id\":\"01010101010101010101010101010101\"}\n"
                        "{\"type\":\"event\",\"length\":"));
  EXPECT_THAT(requests[1].body, HasSubstr("\"formatted\":\"boom 1\""));
}

TEST(SentrySinkTest, TooManyRequestsIsTransientWithRetryAfter) {
  ScriptedSentry server({{429, {{"Retry-After", "7"}}}});
  std::unique_ptr<Sink> sink = SinkFor(server);
  const absl::Status status = sink->Write(Exceptions(3).views(), Later());
  EXPECT_TRUE(IsTransient(status)) << status;
  EXPECT_EQ(RetryDelay(status), absl::Seconds(7));
  // The batch stops at the first transient failure.
  EXPECT_EQ(server.Requests().size(), 1u);
}

TEST(SentrySinkTest, RateLimitHeaderWinsForTheErrorCategory) {
  ScriptedSentry server({{200},
                         {503,
                          {{"X-Sentry-Rate-Limits",
                            "3600:transaction:key, 30:error;default:project"},
                           {"Retry-After", "5"}}}});
  std::unique_ptr<Sink> sink = SinkFor(server);
  const absl::Status status = sink->Write(Exceptions(2).views(), Later());
  EXPECT_TRUE(IsTransient(status)) << status;
  EXPECT_EQ(RetryDelay(status), absl::Seconds(30));
}

TEST(SentrySinkTest, ServerErrorWithoutHeadersLeavesTheDelayToTheRunner) {
  ScriptedSentry server({{502}, {502}});
  std::unique_ptr<Sink> sink = SinkFor(server);
  const absl::Status status = sink->Write(Exceptions(1).views(), Later());
  EXPECT_TRUE(IsTransient(status)) << status;
  EXPECT_EQ(RetryDelay(status), absl::ZeroDuration());
}

TEST(SentrySinkTest, OtherClientErrorsDropThatEventAloneAndCountIt) {
  ScriptedSentry server({{200}, {400}, {413}, {200}});
  std::unique_ptr<Sink> sink = SinkFor(server);
  EXPECT_TRUE(sink->Write(Exceptions(4).views(), Later()).ok());
  EXPECT_EQ(sink->TakeUnusable(), 2u);
  EXPECT_EQ(server.Requests().size(), 4u);
  EXPECT_EQ(sink->TakeUnusable(), 0u);
}

TEST(SentrySinkTest, ClassifiesRetryAfterDatesAndDefaults) {
  const absl::Time now = absl::FromUnixSeconds(1700000000);
  // Tue, 14 Nov 2023 22:13:20 GMT is `now`; 90 s later:
  const absl::Status dated =
      ClassifySentryResponse(429, "Tue, 14 Nov 2023 22:14:50 GMT", "", now);
  EXPECT_TRUE(IsTransient(dated));
  EXPECT_EQ(RetryDelay(dated), absl::Seconds(90));
  // A 429 that says nothing: Sentry's SDKs wait 60 s.
  EXPECT_EQ(RetryDelay(ClassifySentryResponse(429, "", "", now)),
            absl::Seconds(60));
  EXPECT_TRUE(ClassifySentryResponse(204, "", "", now).ok());
  const absl::Status forbidden = ClassifySentryResponse(403, "9", "", now);
  EXPECT_FALSE(IsTransient(forbidden));
  EXPECT_TRUE(absl::IsFailedPrecondition(forbidden));
}

TEST(SentrySinkTest, AnUnreachableServerIsTransient) {
  absl::StatusOr<std::unique_ptr<Sink>> sink =
      Create("dsn: 'http://k@127.0.0.1:1/7'");
  ASSERT_TRUE(sink.ok());
  EXPECT_TRUE(IsTransient((*sink)->Write(Exceptions(1).views(), Later())));
}

TEST(SentrySinkTest, WriteReturnsByItsDeadline) {
  ScriptedSentry server({{200, {}, /*hold=*/true}});
  std::unique_ptr<Sink> sink = SinkFor(server);
  const absl::Status status =
      sink->Write(Exceptions(1).views(), absl::Now() + absl::Milliseconds(300));
  EXPECT_TRUE(IsTransient(status)) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("imeout"));
}

TEST(SentrySinkTest, CancelEndsAWriteInProgress) {
  ScriptedSentry server({{200, {}, /*hold=*/true}});
  std::unique_ptr<Sink> sink = SinkFor(server);
  absl::Status status;
  std::atomic<bool> returned{false};
  std::thread writer([&] {
    status = sink->Write(Exceptions(1).views(), absl::Now() + absl::Hours(1));
    returned = true;
  });
  // Cancel once the request is in flight (or the write failed before).
  while (server.Requests().empty() && !returned) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  sink->Cancel();
  writer.join();
  EXPECT_TRUE(IsTransient(status)) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("callback"));
}

TEST(SentryOptionsTest, FactoryRefusesBadOptions) {
  const struct {
    std::string options;
    const char* error;
  } cases[] = {
      {"", "sentry: dsn \"\" has no scheme"},
      {"dsn: 'https://sentry.io/1'", "has no KEY@"},
      {"dsn: 'https://k@sentry.io/x'", "numeric project id"},
      {"dsn: 'https://k@h/1' max_event_bytes: 4095",
       "sentry: max_event_bytes is 4095; it must be in 4096..1048576"},
      {"dsn: 'https://k@h/1' max_event_bytes: 1048577",
       "sentry: max_event_bytes is 1048577"},
      {"dsn: 'https://k@h/1' max_string_bytes: 0",
       "sentry: max_string_bytes is 0; it must be in 1..8192"},
      {"dsn: 'https://k@h/1' environment: '" + std::string(65, 'e') + "'",
       "sentry: environment is longer than 64 bytes"},
      {"dsn: 'https://k@h/1' release: '" + std::string(201, 'r') + "'",
       "sentry: release is longer than 200 bytes"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<std::unique_ptr<Sink>> sink = Create(c.options);
    ASSERT_FALSE(sink.ok()) << c.options;
    EXPECT_TRUE(absl::IsInvalidArgument(sink.status())) << c.options;
    EXPECT_THAT(std::string(sink.status().message()), HasSubstr(c.error))
        << c.options;
  }
  EXPECT_TRUE(Create("dsn: 'https://k@sentry.example.com/42' "
                     "environment: 'prod' release: 'r1'")
                  .ok());
}

}  // namespace
}  // namespace metlog
