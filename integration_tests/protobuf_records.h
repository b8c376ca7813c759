// Reads what a file sink with `encoding { codec: PROTOBUF }` wrote, for
// end-to-end tests that assert on messages field by field.
#ifndef METLOG_INTEGRATION_TESTS_PROTOBUF_RECORDS_H_
#define METLOG_INTEGRATION_TESTS_PROTOBUF_RECORDS_H_

#include <string>
#include <vector>

#include "proto/metlog.pb.h"

namespace metlog::testing {

// The length-delimited Message records in `path`, in order. Stops at the end
// or at a record the router is still writing; a missing file reads as none.
std::vector<v1::Message> ReadProtobufRecords(const std::string& path);

}  // namespace metlog::testing

#endif  // METLOG_INTEGRATION_TESTS_PROTOBUF_RECORDS_H_
