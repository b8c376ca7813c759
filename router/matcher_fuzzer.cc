// libFuzzer target: compiles arbitrary text as a match expression and, when
// it compiles, evaluates it against a few fixed messages. Neither step may
// crash, and a refused expression names where ("line:column: ") unless it is
// refused whole for its size.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "absl/strings/string_view.h"
#include "re2/re2.h"
#include "router/matcher.h"
#include "sinks/message/message_batch.h"

namespace metlog {
namespace {

std::vector<v1::Message> Samples() {
  std::vector<v1::Message> samples(3);
  v1::Message& timer = samples[0];
  timer.set_uuid(std::string(16, '\x5a'));
  timer.set_timestamp(1000);
  timer.set_type("timer");
  timer.set_logger("shop");
  timer.set_severity(4);
  timer.set_payload("12.5");
  timer.set_pid(42);
  timer.set_hostname("web-1");
  v1::Field* name = timer.add_fields();
  name->set_name("name");
  name->add_value_string("db.query");
  name->add_value_string("second");
  v1::Field* rate = timer.add_fields();
  rate->set_name("rate");
  rate->set_value_type(v1::Field::DOUBLE);
  rate->add_value_double(0.5);
  v1::Field* rows = timer.add_fields();
  rows->set_name("rows");
  rows->set_value_type(v1::Field::INTEGER);
  rows->add_value_integer(7);
  v1::Field* cached = timer.add_fields();
  cached->set_name("cached");
  cached->set_value_type(v1::Field::BOOL);
  cached->add_value_bool(true);
  v1::Field* blob = timer.add_fields();
  blob->set_name("blob");
  blob->set_value_type(v1::Field::BYTES);
  blob->add_value_bytes(std::string("\0\xff", 2));
  samples[1].set_type("log");
  samples[1].set_payload("line\nwith\0nul");
  // samples[2] is empty: every variable at its default.
  return samples;
}

}  // namespace
}  // namespace metlog

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const auto* const kSamples =
      new metlog::MessageBatch(metlog::Samples());
  const absl::string_view expression(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<metlog::Matcher> matcher =
      metlog::Matcher::Compile(expression);
  if (!matcher.ok()) {
    const bool too_long = size > metlog::Matcher::kMaxExpressionBytes;
    if (!too_long && !RE2::PartialMatch(std::string(matcher.status().message()),
                                        R"(^\d+:\d+: )")) {
      std::abort();  // an error that does not say where
    }
    return 0;
  }
  for (size_t i = 0; i < kSamples->size(); ++i) {
    matcher->Matches((*kSamples)[i]);
  }
  return 0;
}
