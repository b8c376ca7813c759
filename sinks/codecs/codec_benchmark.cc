// What a file or console sink spends per message, next to what the router
// spends parsing it for them:
//   bazel run -c opt //sinks:message_format_benchmark
#include "absl/random/random.h"
#include "benchmark/benchmark.h"
#include "client/field.h"
#include "sinks/message_format.h"
#include "sinks/packet_messages.h"

namespace metlog {
namespace {

v1::Message Timer() {
  v1::Message m;
  m.set_uuid(std::string(16, 'u'));
  m.set_timestamp(1764085500000000000);
  m.set_type("timer");
  m.set_logger("checkout-service");
  m.set_severity(6);
  m.set_payload("12.5");
  m.set_env_version("1.0");
  m.set_pid(4242);
  m.set_hostname("web-1.example");
  *m.add_fields() = MakeField("name", "db.query");
  *m.add_fields() = MakeField("rate", 1.0);
  return m;
}

void BM_FormatJson(benchmark::State& state) {
  const v1::Message message = Timer();
  for (auto _ : state) benchmark::DoNotOptimize(FormatJson(message));
}
BENCHMARK(BM_FormatJson);

void BM_FormatText(benchmark::State& state) {
  const v1::Message message = Timer();
  for (auto _ : state) benchmark::DoNotOptimize(FormatText(message));
}
BENCHMARK(BM_FormatText);

// Reading the wire view and parsing, per message of a 100-message packet.
void BM_ReadAndParse(benchmark::State& state) {
  std::string bytes;
  std::vector<size_t> ends;
  for (int i = 0; i < 100; ++i) {
    Timer().AppendToString(&bytes);
    ends.push_back(bytes.size());
  }
  absl::InsecureBitGen random;
  std::string error;
  for (auto _ : state) {
    PacketRef packet = PacketMessages::Create(bytes);
    size_t begin = 0;
    for (size_t end : ends) {
      packet->Add(packet->bytes().substr(begin, end - begin), 0, random,
                  &error);
      begin = end;
    }
    packet->Parse();
  }
  state.SetItemsProcessed(state.iterations() * 100);
}
BENCHMARK(BM_ReadAndParse);

}  // namespace
}  // namespace metlog
