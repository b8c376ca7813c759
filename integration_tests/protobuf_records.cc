#include "integration_tests/protobuf_records.h"

#include <fstream>

#include "google/protobuf/io/zero_copy_stream_impl.h"
#include "google/protobuf/util/delimited_message_util.h"

namespace metlog::testing {

std::vector<v1::Message> ReadProtobufRecords(const std::string& path) {
  std::vector<v1::Message> messages;
  std::ifstream file(path, std::ios::binary);
  google::protobuf::io::IstreamInputStream in(&file);
  bool clean_eof = false;
  // Parsing merges into the message, so each record gets a fresh one.
  for (v1::Message m; google::protobuf::util::ParseDelimitedFromZeroCopyStream(
           &m, &in, &clean_eof);
       m.Clear()) {
    messages.push_back(m);
  }
  return messages;
}

}  // namespace metlog::testing
