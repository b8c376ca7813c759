// The DSN's parts and the event's JSON, field by field.
#include "sinks/sentry/sentry_event.h"

#include <cmath>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rapidjson/document.h"
#include "sinks/sentry/sentry_dsn.h"

namespace metlog {
namespace {

using ::testing::HasSubstr;

v1::Message Exception() {
  v1::Message message;
  message.set_uuid(
      std::string("\x01\x23\x45\x67\x89\xab\xcd\xef"
                  "\x01\x23\x45\x67\x89\xab\xcd\xef",
                  16));
  message.set_timestamp(1700000000123456000);
  message.set_type("exception");
  message.set_logger("shop");
  message.set_severity(1);
  message.set_payload("checkout failed");
  message.set_hostname("web-1");
  message.set_pid(42);
  auto add = [&message](const std::string& name, const std::string& value) {
    v1::Field* field = message.add_fields();
    field->set_name(name);
    field->add_value_string(value);
  };
  add("exception_type", "TypeError");
  add("message", "x is undefined");
  add("stack",
      "TypeError: x is undefined\n"
      "    at inner (/app/cart.js:10:5)\n"
      "    at /app/main.js:3:1\n");
  add("region", "eu");
  add("note", std::string(300, 'n'));
  return message;
}

rapidjson::Document Parse(const std::string& json) {
  rapidjson::Document document;
  document.Parse(json.c_str(), json.size());
  EXPECT_FALSE(document.HasParseError()) << json;
  return document;
}

TEST(SentryDsnTest, ReadsEveryPart) {
  absl::StatusOr<SentryDsn> dsn =
      ParseSentryDsn("https://abc123@sentry.example.com:9000/prefix/42");
  ASSERT_TRUE(dsn.ok()) << dsn.status();
  EXPECT_EQ(dsn->EnvelopeUrl(),
            "https://sentry.example.com:9000/prefix/api/42/envelope/");
  EXPECT_EQ(dsn->AuthHeader(),
            "Sentry sentry_version=7, sentry_key=abc123, "
            "sentry_client=metlog-router/1.0");
  EXPECT_EQ(ParseSentryDsn("http://k@127.0.0.1:1/7")->EnvelopeUrl(),
            "http://127.0.0.1:1/api/7/envelope/");
}

TEST(SentryDsnTest, RefusesMalformedOnes) {
  const struct {
    const char* dsn;
    const char* error;
  } cases[] = {
      {"sentry.example.com/1", "has no scheme"},
      {"ftp://k@host/1", "is neither https nor http"},
      {"https://host/1", "has no KEY@"},
      {"https://@host/1", "has an empty key"},
      {"https://k@host", "has no project id"},
      {"https://k@/1", "has no host"},
      {"https://k@host/project", "does not end in a numeric project id"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<SentryDsn> dsn = ParseSentryDsn(c.dsn);
    ASSERT_FALSE(dsn.ok()) << c.dsn;
    EXPECT_TRUE(absl::IsInvalidArgument(dsn.status()));
    EXPECT_THAT(std::string(dsn.status().message()), HasSubstr(c.error));
  }
}

TEST(SentryEventTest, MapsEveryField) {
  sinks::SentryOptions options;
  options.set_environment("prod");
  options.set_release("shop@1.2");
  const rapidjson::Document event =
      Parse(SentryEventJson(Exception(), options));
  EXPECT_STREQ(event["event_id"].GetString(),
               "0123456789abcdef0123456789abcdef");
  EXPECT_STREQ(event["timestamp"].GetString(), "2023-11-14T22:13:20.123456Z");
  EXPECT_STREQ(event["level"].GetString(), "fatal");
  EXPECT_STREQ(event["logger"].GetString(), "shop");
  EXPECT_STREQ(event["server_name"].GetString(), "web-1");
  EXPECT_STREQ(event["environment"].GetString(), "prod");
  EXPECT_STREQ(event["release"].GetString(), "shop@1.2");
  EXPECT_STREQ(event["message"]["formatted"].GetString(), "checkout failed");
  const auto& exception = event["exception"]["values"][0];
  EXPECT_STREQ(exception["type"].GetString(), "TypeError");
  EXPECT_STREQ(exception["value"].GetString(), "x is undefined");
  const auto& frames = exception["stacktrace"]["frames"];
  ASSERT_EQ(frames.Size(), 2u);
  // Outermost first.
  EXPECT_STREQ(frames[0]["filename"].GetString(), "/app/main.js");
  EXPECT_EQ(frames[0]["lineno"].GetInt(), 3);
  EXPECT_FALSE(frames[0].HasMember("function"));
  EXPECT_STREQ(frames[1]["function"].GetString(), "inner");
  EXPECT_STREQ(frames[1]["filename"].GetString(), "/app/cart.js");
  EXPECT_EQ(frames[1]["lineno"].GetInt(), 10);
  EXPECT_EQ(frames[1]["colno"].GetInt(), 5);
  EXPECT_STREQ(event["tags"]["region"].GetString(), "eu");
  EXPECT_STREQ(event["tags"]["metlog.type"].GetString(), "exception");
  EXPECT_FALSE(event["tags"].HasMember("exception_type"));
  // Too long for a tag: an extra.
  EXPECT_FALSE(event["tags"].HasMember("note"));
  EXPECT_EQ(event["extra"]["note"].GetStringLength(), 300u);
  EXPECT_EQ(event["extra"]["pid"].GetInt(), 42);
}

TEST(SentryEventTest, ReadsTheCppClientsWhatAndPythonTracebacks) {
  v1::Message message;
  message.set_type("exception");
  message.set_payload("payload");
  v1::Field* type = message.add_fields();
  type->set_name("exception_type");
  type->add_value_string("std::runtime_error");
  v1::Field* what = message.add_fields();
  what->set_name("what");
  what->add_value_string("disk full");
  v1::Field* stack = message.add_fields();
  stack->set_name("stack");
  stack->add_value_string(
      "Traceback (most recent call last):\n"
      "  File \"/app/main.py\", line 3, in <module>\n"
      "  File \"/app/disk.py\", line 9, in write\n"
      "OSError: disk full\n");
  const rapidjson::Document event =
      Parse(SentryEventJson(message, sinks::SentryOptions()));
  const auto& exception = event["exception"]["values"][0];
  EXPECT_STREQ(exception["type"].GetString(), "std::runtime_error");
  EXPECT_STREQ(exception["value"].GetString(), "disk full");
  const auto& frames = exception["stacktrace"]["frames"];
  ASSERT_EQ(frames.Size(), 2u);
  EXPECT_STREQ(frames[0]["function"].GetString(), "<module>");
  EXPECT_STREQ(frames[1]["filename"].GetString(), "/app/disk.py");
  EXPECT_EQ(frames[1]["lineno"].GetInt(), 9);
  // No uuid of 16 bytes: Sentry assigns the id.
  EXPECT_FALSE(event.HasMember("event_id"));
}

TEST(SentryEventTest, CppClientStackLinesBecomeNativeFramesOutermostFirst) {
  v1::Message message;
  message.set_type("exception");
  v1::Field* type = message.add_fields();
  type->set_name("exception_type");
  type->add_value_string("std::runtime_error");
  v1::Field* stack = message.add_fields();
  stack->set_name("stack");
  // What client/metlog.h's Exception() sends, innermost first.
  stack->add_value_string(
      "#0 0x000055d3c4a1b2c3 in shop::Pay(int) (/srv/shop/bin/shop+0x1b2c3)\n"
      "#1 0x00007f8adc24524a in ?? (/lib/x86_64-linux-gnu/libc.so.6+0x2724a)"
      "\n");
  const rapidjson::Document event =
      Parse(SentryEventJson(message, sinks::SentryOptions()));
  const auto& frames = event["exception"]["values"][0]["stacktrace"]["frames"];
  ASSERT_EQ(frames.Size(), 2u);
  EXPECT_FALSE(frames[0].HasMember("function"));
  EXPECT_STREQ(frames[0]["package"].GetString(),
               "/lib/x86_64-linux-gnu/libc.so.6");
  EXPECT_STREQ(frames[0]["instruction_addr"].GetString(), "0x00007f8adc24524a");
  EXPECT_STREQ(frames[1]["function"].GetString(), "shop::Pay(int)");
  EXPECT_STREQ(frames[1]["package"].GetString(), "/srv/shop/bin/shop");
  EXPECT_STREQ(frames[1]["instruction_addr"].GetString(), "0x000055d3c4a1b2c3");
}

TEST(SentryEventTest, LevelsFollowSeverity) {
  EXPECT_STREQ(SentryLevel(0), "fatal");
  EXPECT_STREQ(SentryLevel(2), "fatal");
  EXPECT_STREQ(SentryLevel(3), "error");
  EXPECT_STREQ(SentryLevel(4), "warning");
  EXPECT_STREQ(SentryLevel(6), "info");
  EXPECT_STREQ(SentryLevel(7), "debug");
}

TEST(SentryEventTest, AnOversizeEventIsTrimmedNotDropped) {
  v1::Message message = Exception();
  message.set_payload(std::string(100000, 'p'));
  v1::Field* big = message.add_fields();
  big->set_name("dump");
  for (int i = 0; i < 50; ++i) big->add_value_string(std::string(5000, 'd'));
  sinks::SentryOptions options;
  options.set_max_event_bytes(4096);
  const std::string json = SentryEventJson(message, options);
  EXPECT_LE(json.size(), 4096u);
  const rapidjson::Document event = Parse(json);
  EXPECT_STREQ(event["event_id"].GetString(),
               "0123456789abcdef0123456789abcdef");
  EXPECT_STREQ(event["exception"]["values"][0]["type"].GetString(),
               "TypeError");
  const std::string kept = event["message"]["formatted"].GetString();
  EXPECT_GT(kept.size(), 0u);
  EXPECT_LT(kept.size(), 4096u);
  EXPECT_EQ(kept, std::string(kept.size(), 'p'));
  EXPECT_FALSE(event.HasMember("extra"));
}

TEST(SentryEventTest, EscapedStringsStillFitTheSmallestLimit) {
  // Control characters escape to six bytes each (\u0001): the worst case.
  const std::string control(8192, '\x01');
  v1::Message message = Exception();
  message.set_logger(control);
  message.set_hostname(control);
  message.set_payload(control);
  for (int i = 0; i < 100; ++i) {
    v1::Field* tag = message.add_fields();
    tag->set_name("tag" + std::to_string(i));
    tag->add_value_string(std::string(200, 't'));
  }
  sinks::SentryOptions options;
  options.set_max_event_bytes(4096);
  options.set_environment(std::string(64, '\x02'));
  options.set_release(std::string(200, '\x03'));
  const std::string json = SentryEventJson(message, options);
  EXPECT_LE(json.size(), 4096u);
  const rapidjson::Document event = Parse(json);
  EXPECT_STREQ(event["exception"]["values"][0]["type"].GetString(),
               "TypeError");
}

TEST(SentryEventTest, StringsAreCutOnUtf8Boundaries) {
  v1::Message message = Exception();
  std::string text;
  for (int i = 0; i < 100; ++i) text += "\xc3\xa9";  // é
  message.set_payload(text);
  sinks::SentryOptions options;
  options.set_max_string_bytes(7);
  const rapidjson::Document event = Parse(SentryEventJson(message, options));
  EXPECT_STREQ(event["message"]["formatted"].GetString(),
               "\xc3\xa9\xc3\xa9\xc3\xa9");
}

TEST(SentryEventTest, InvalidUtf8AndNonFiniteNumbersStayValidJson) {
  v1::Message message = Exception();
  message.set_payload("ok \xff\xc3 end");
  v1::Field* nan = message.add_fields();
  nan->set_name("ratio");
  nan->set_value_type(v1::Field::DOUBLE);
  nan->add_value_double(std::nan(""));
  nan->add_value_double(1.5);
  const rapidjson::Document event =
      Parse(SentryEventJson(message, sinks::SentryOptions()));
  EXPECT_STREQ(event["message"]["formatted"].GetString(),
               "ok \xEF\xBF\xBD\xEF\xBF\xBD end");
  EXPECT_STREQ(event["extra"]["ratio"][0].GetString(), "nan");
  EXPECT_EQ(event["extra"]["ratio"][1].GetDouble(), 1.5);
}

TEST(SentryEventTest, EnvelopeDeclaresTheItemLength) {
  EXPECT_EQ(SentryEnvelope("ab", "{\"x\":1}"),
            "{\"event_id\":\"ab\"}\n{\"type\":\"event\",\"length\":7}\n"
            "{\"x\":1}\n");
}

}  // namespace
}  // namespace metlog
