// Nanoseconds per matcher evaluation for typical expressions.
//   bazel run -c opt //router:matcher_benchmark
#include <string>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "router/matcher.h"
#include "sinks/message/message_batch.h"

namespace metlog {
namespace {

v1::Message Timer() {
  v1::Message m;
  m.set_type("timer");
  m.set_logger("checkout");
  m.set_severity(6);
  m.set_payload("12.5");
  m.set_hostname("web-1");
  v1::Field* name = m.add_fields();
  name->set_name("name");
  name->add_value_string("db.query.users");
  v1::Field* rate = m.add_fields();
  rate->set_name("rate");
  rate->set_value_type(v1::Field::DOUBLE);
  rate->add_value_double(1.0);
  return m;
}

void BM_Match(benchmark::State& state, const char* expression) {
  const Matcher matcher = *Matcher::Compile(expression);
  const MessageBatch message({Timer()});
  bool matched = false;
  for (auto _ : state) {
    matched = matcher.Matches(message[0]);
    benchmark::DoNotOptimize(matched);
  }
  state.SetLabel(matched ? "matches" : "no match");
}

BENCHMARK_CAPTURE(BM_Match, true_constant, "TRUE");
BENCHMARK_CAPTURE(BM_Match, type_equals, R"(Type == "timer")");
BENCHMARK_CAPTURE(BM_Match, severity_range, "Severity <= 4");
BENCHMARK_CAPTURE(
    BM_Match, type_and_severity_or_field_regex,
    R"(Type == "timer" && Severity <= 4 || Fields[name] =~ /^db\./)");
BENCHMARK_CAPTURE(BM_Match, field_number, "Fields[rate] >= 0.5");
BENCHMARK_CAPTURE(BM_Match, payload_regex_miss, R"(Payload =~ /error|fail/)");
BENCHMARK_CAPTURE(BM_Match, missing_field_nil, "Fields[user] == NIL");

// A long allow-list: 100 loggers, none of which matches, so every term runs.
void BM_LongOrChain(benchmark::State& state) {
  std::string expression = R"(Logger == "service-0")";
  for (int i = 1; i < 100; ++i) {
    absl::StrAppend(&expression, R"( || Logger == "service-)", i, "\"");
  }
  BM_Match(state, expression.c_str());
}
BENCHMARK(BM_LongOrChain);

}  // namespace
}  // namespace metlog
