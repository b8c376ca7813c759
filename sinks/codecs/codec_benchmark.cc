// What encoding a message costs a file or console sink, per codec, beside
// protobuf's MessageToJsonString (the JSON the file sink wrote before issue
// 11) and the text line as it was formatted from a parsed message then:
//   bazel run -c opt //sinks/codecs:codec_benchmark
// Arguments: kind (0 log, 1 timer), fields (0, 3, 20).
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "client/envelope/field.h"
#include "google/protobuf/util/json_util.h"
#include "sinks/codecs/encoder.h"
#include "sinks/message/message_batch.h"

namespace metlog {
namespace {

v1::Message Sample(int kind, int fields) {
  v1::Message m;
  m.set_uuid(
      std::string("\x12\x34\x56\x78\x9a\xbc\xde\xf0\x01\x23\x45\x67"
                  "\x89\xab\xcd\xef",
                  16));
  m.set_timestamp(1764085500123456789);
  m.set_logger("checkout-service");
  m.set_env_version("1.0");
  m.set_pid(4242);
  m.set_hostname("web-1.example");
  if (kind == 0) {
    m.set_type("log");
    m.set_severity(6);
    m.set_payload("user 42 logged in from 10.0.0.1 after 2 attempts");
  } else {
    m.set_type("timer");
    m.set_payload("12.5");
  }
  for (int i = 0; i < fields; ++i) {
    const std::string name = absl::StrCat("field_", i);
    switch (i % 4) {
      case 0:
        *m.add_fields() = MakeField(name, "db.query");
        break;
      case 1:
        *m.add_fields() = MakeField(name, 1.0);
        break;
      case 2:
        *m.add_fields() = MakeField(name, int64_t{1234567});
        break;
      default:
        *m.add_fields() = MakeField(name, 12.5, "ms");
        break;
    }
  }
  return m;
}

void EncodeWith(benchmark::State& state, sinks::EncodingOptions::Codec codec) {
  const v1::Message message = Sample(static_cast<int>(state.range(0)),
                                     static_cast<int>(state.range(1)));
  MessageBatch batch({message});
  const std::unique_ptr<Encoder> encoder = MakeEncoder(codec);
  std::string out;
  for (auto _ : state) {
    out.clear();
    encoder->Append(batch[0], &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * out.size());
}

void BM_Json(benchmark::State& state) {
  EncodeWith(state, sinks::EncodingOptions::JSON);
}
void BM_Text(benchmark::State& state) {
  EncodeWith(state, sinks::EncodingOptions::TEXT);
}
void BM_Protobuf(benchmark::State& state) {
  EncodeWith(state, sinks::EncodingOptions::PROTOBUF);
}

// protobuf's JSON mapping of the parsed message, as the file sink wrote it
// before issue 11 (the parse, done by the router, is not counted).
void BM_MessageToJsonString(benchmark::State& state) {
  const v1::Message message = Sample(static_cast<int>(state.range(0)),
                                     static_cast<int>(state.range(1)));
  for (auto _ : state) {
    std::string json;
    (void)google::protobuf::util::MessageToJsonString(message, &json);
    benchmark::DoNotOptimize(json.data());
  }
}

// The text line as the console sink formatted it before issue 11, from the
// parsed message: the baseline "no slower than today" is measured against.
std::string TextBeforeCodecs(const v1::Message& message) {
  static constexpr const char* kNames[] = {"EMERGENCY", "ALERT",   "CRITICAL",
                                           "ERROR",     "WARNING", "NOTICE",
                                           "INFO",      "DEBUG"};
  auto quoted = [](absl::string_view text) {
    return absl::StrCat("\"", absl::CHexEscape(text), "\"");
  };
  std::string line = absl::StrCat(
      absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ",
                       absl::FromUnixNanos(message.timestamp()),
                       absl::UTCTimeZone()),
      " ", kNames[message.severity()], "(", message.severity(), ")",
      " type=", quoted(message.type()), " logger=", quoted(message.logger()),
      " host=", quoted(message.hostname()), " pid=", message.pid(),
      " payload=", quoted(message.payload()));
  for (const v1::Field& field : message.fields()) {
    absl::StrAppend(&line, " ", field.name(), "=");
    switch (field.value_type()) {
      case v1::Field::STRING:
        absl::StrAppend(
            &line, absl::StrJoin(field.value_string(), ",",
                                 [&](std::string* out, const std::string& v) {
                                   out->append(quoted(v));
                                 }));
        break;
      case v1::Field::INTEGER:
        absl::StrAppend(&line, absl::StrJoin(field.value_integer(), ","));
        break;
      case v1::Field::DOUBLE:
        absl::StrAppend(&line, absl::StrJoin(field.value_double(), ","));
        break;
      default:
        break;
    }
    if (!field.representation().empty()) {
      absl::StrAppend(&line, "[", field.representation(), "]");
    }
  }
  return line;
}

void BM_TextBeforeCodecs(benchmark::State& state) {
  const v1::Message message = Sample(static_cast<int>(state.range(0)),
                                     static_cast<int>(state.range(1)));
  for (auto _ : state) benchmark::DoNotOptimize(TextBeforeCodecs(message));
}

#define METLOG_CODEC_BENCHMARK(name)  \
  BENCHMARK(name)                     \
      ->ArgNames({"timer", "fields"}) \
      ->ArgsProduct({{0, 1}, {0, 3, 20}})

METLOG_CODEC_BENCHMARK(BM_Json);
METLOG_CODEC_BENCHMARK(BM_MessageToJsonString);
METLOG_CODEC_BENCHMARK(BM_Text);
METLOG_CODEC_BENCHMARK(BM_TextBeforeCodecs);
METLOG_CODEC_BENCHMARK(BM_Protobuf);

}  // namespace
}  // namespace metlog
