// Renders a message as one line of text for people, or as one JSON object
// (protobuf's JSON mapping) for programs. Shared by the console and file sinks.
#ifndef METLOG_SINKS_MESSAGE_FORMAT_H_
#define METLOG_SINKS_MESSAGE_FORMAT_H_

#include <string>

#include "absl/strings/string_view.h"
#include "proto/metlog.pb.h"

namespace metlog {

// "EMERGENCY" … "DEBUG" for 0…7, "SEVERITY(n)" otherwise.
std::string SeverityName(int severity);

// One line, no trailing newline, e.g.
//   2026-11-25T15:45:00.123456Z INFO(6) type=counter logger=shop
//   host=web-1 pid=42 payload="1" name="orders" rate=1
// Strings are quoted and C-escaped, and so are field names and
// representations that are not plain words, so a line never spans lines.
std::string FormatText(const v1::Message& message);

// One JSON object on one line (uuid as base64, per the protobuf JSON mapping).
std::string FormatJson(const v1::Message& message);

}  // namespace metlog

#endif  // METLOG_SINKS_MESSAGE_FORMAT_H_
