// libFuzzer target: arbitrary bytes parsed as a Message, then formatted as
// text and as JSON. Neither may crash, and neither may emit a newline: one
// message is one line of a log file, whatever its strings hold.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "proto/metlog.pb.h"
#include "sinks/message_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  metlog::v1::Message message;
  if (!message.ParseFromArray(data, static_cast<int>(size))) return 0;
  const std::string text = metlog::FormatText(message);
  if (text.find('\n') != std::string::npos) std::abort();
  const std::string json = metlog::FormatJson(message);
  if (json.find('\n') != std::string::npos) std::abort();
  return 0;
}
