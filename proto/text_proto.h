// Parses text-format config files (router and client) with errors that name
// the source, line and column, as editors expect.
#ifndef METLOG_PROTO_TEXT_PROTO_H_
#define METLOG_PROTO_TEXT_PROTO_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace metlog {

// Parses `text` into `message`. On failure the error reads
// "SOURCE:LINE:COLUMN: what" (1-based), one line per problem.
absl::Status ParseTextProto(absl::string_view text, absl::string_view source,
                            google::protobuf::Message* message);

// Reads `path` and parses it; NotFound when it cannot be read.
absl::Status ReadTextProto(const std::string& path,
                           google::protobuf::Message* message);

}  // namespace metlog

#endif  // METLOG_PROTO_TEXT_PROTO_H_
