#include "sinks/sentry/sentry_event.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "client/envelope/field.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "re2/re2.h"
#include "sinks/codecs/utf8_repair.h"

namespace metlog {
namespace {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// Sentry's limits on tags: longer keys or values are refused.
constexpr size_t kMaxTagKeyBytes = 32;
constexpr size_t kMaxTagValueBytes = 200;
// Frames kept per stack trace before any trimming (the innermost ones).
constexpr size_t kMaxFrames = 250;
// The shortest strings trimming goes down to.
constexpr size_t kMinStringBytes = 16;

// The fields an exception is read from; they are not repeated as tags.
constexpr absl::string_view kExceptionFields[] = {"exception_type", "message",
                                                  "what", "stack"};

struct Frame {
  std::string function;
  std::string filename;
  int line = 0;
  int column = 0;
  std::string package;           // the binary or library (C++)
  std::string instruction_addr;  // "0x..." (C++)
};

// How much of the message goes in; halved until the event fits.
struct Budget {
  size_t max_string_bytes;
  size_t max_frames;
  bool with_extra;
  bool with_tags;
};

// At most `max` bytes of `text`, not cutting a UTF-8 sequence.
absl::string_view Truncated(absl::string_view text, size_t max) {
  if (text.size() <= max) return text;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
    --end;
  }
  return text.substr(0, end);
}

// Sentry refuses events that are not UTF-8, and RapidJSON's writer copies
// bytes as they are.
void String(JsonWriter& writer, absl::string_view text) {
  std::string valid;
  AppendRepairedUtf8(text, &valid);
  writer.String(valid.data(), static_cast<rapidjson::SizeType>(valid.size()));
}

void Member(JsonWriter& writer, absl::string_view key,
            absl::string_view value) {
  String(writer, key);
  String(writer, value);
}

const v1::Field* FindField(const v1::Message& message, absl::string_view name) {
  for (const v1::Field& field : message.fields()) {
    if (field.name() == name) return &field;
  }
  return nullptr;
}

std::string FirstString(const v1::Message& message, absl::string_view name) {
  const v1::Field* field = FindField(message, name);
  if (field == nullptr || field->value_type() != v1::Field::STRING ||
      field->value_string_size() == 0) {
    return "";
  }
  return field->value_string(0);
}

// Frames, outermost first as Sentry wants them, from a stack trace's text.
std::vector<Frame> ParseStack(absl::string_view stack) {
  // Node: "    at fn (file:12:5)" or "    at file:12:5".
  static const RE2 kNodeCall(R"(^\s*at (.+) \((.+):(\d+):(\d+)\)\s*$)");
  static const RE2 kNodeAnonymous(R"(^\s*at (.+):(\d+):(\d+)\s*$)");
  // Python: '  File "f.py", line 3, in fn'.
  static const RE2 kPython(R"re(^\s*File "(.+)", line (\d+), in (.+?)\s*$)re");
  // C++ (client/metlog.h): "#0 0x00005555deadbeef in fn() (/bin/app+0x1ef)";
  // the function is "??" when the client found no symbol.
  static const RE2 kNative(
      R"(^\s*#\d+ (0x[0-9a-fA-F]+) in (.+) \((.+)\+0x[0-9a-fA-F]+\)\s*$)");
  std::vector<Frame> frames;
  std::vector<std::string> other_lines;
  bool innermost_first = true;
  for (absl::string_view line : absl::StrSplit(stack, '\n')) {
    const re2::StringPiece text(line.data(), line.size());
    Frame frame;
    if (RE2::FullMatch(text, kNodeCall, &frame.function, &frame.filename,
                       &frame.line, &frame.column) ||
        RE2::FullMatch(text, kNodeAnonymous, &frame.filename, &frame.line,
                       &frame.column)) {
      frames.push_back(std::move(frame));
    } else if (RE2::FullMatch(text, kPython, &frame.filename, &frame.line,
                              &frame.function)) {
      innermost_first = false;
      frames.push_back(std::move(frame));
    } else if (RE2::FullMatch(text, kNative, &frame.instruction_addr,
                              &frame.function, &frame.package)) {
      if (frame.function == "??") frame.function.clear();
      frames.push_back(std::move(frame));
    } else if (!absl::StripAsciiWhitespace(line).empty()) {
      other_lines.emplace_back(absl::StripAsciiWhitespace(line));
    }
  }
  // Text in no known form (a C++ backtrace, say): one frame per line,
  // innermost first like most backtraces.
  if (frames.empty()) {
    for (std::string& line : other_lines) {
      frames.push_back(Frame{std::move(line)});
    }
  }
  if (innermost_first) std::reverse(frames.begin(), frames.end());
  return frames;
}

void WriteFieldValue(JsonWriter& writer, const v1::Field& field, int index,
                     size_t max_bytes) {
  switch (field.value_type()) {
    case v1::Field::STRING:
      String(writer, Truncated(field.value_string(index), max_bytes));
      break;
    case v1::Field::BYTES:
      String(writer, Truncated(absl::Base64Escape(field.value_bytes(index)),
                               max_bytes));
      break;
    case v1::Field::INTEGER:
      writer.Int64(field.value_integer(index));
      break;
    case v1::Field::DOUBLE:
      // JSON has no NaN or infinity (RapidJSON writes nothing for them).
      if (std::isfinite(field.value_double(index))) {
        writer.Double(field.value_double(index));
      } else {
        String(writer, absl::StrCat(field.value_double(index)));
      }
      break;
    case v1::Field::BOOL:
      writer.Bool(field.value_bool(index));
      break;
  }
}

bool IsExceptionField(absl::string_view name) {
  return std::find(std::begin(kExceptionFields), std::end(kExceptionFields),
                   name) != std::end(kExceptionFields);
}

bool IsTag(const v1::Field& field) {
  return field.value_type() == v1::Field::STRING &&
         field.value_string_size() == 1 && !field.name().empty() &&
         field.name().size() <= kMaxTagKeyBytes &&
         field.value_string(0).size() <= kMaxTagValueBytes &&
         field.value_string(0).find('\n') == std::string::npos;
}

void WriteException(JsonWriter& writer, const v1::Message& message,
                    const Budget& budget) {
  std::string type = FirstString(message, "exception_type");
  std::string value = FirstString(message, "message");
  if (value.empty()) value = FirstString(message, "what");
  if (value.empty()) value = message.payload();
  std::vector<Frame> frames = ParseStack(FirstString(message, "stack"));
  // The innermost frames (the end) say the most; keep those.
  if (frames.size() > budget.max_frames) {
    frames.erase(frames.begin(), frames.end() - budget.max_frames);
  }
  String(writer, "exception");
  writer.StartObject();
  String(writer, "values");
  writer.StartArray();
  writer.StartObject();
  Member(writer, "type",
         Truncated(type.empty() ? "exception" : type, budget.max_string_bytes));
  Member(writer, "value", Truncated(value, budget.max_string_bytes));
  if (!frames.empty()) {
    String(writer, "stacktrace");
    writer.StartObject();
    String(writer, "frames");
    writer.StartArray();
    for (const Frame& frame : frames) {
      writer.StartObject();
      if (!frame.function.empty()) {
        Member(writer, "function",
               Truncated(frame.function, budget.max_string_bytes));
      }
      if (!frame.filename.empty()) {
        Member(writer, "filename",
               Truncated(frame.filename, budget.max_string_bytes));
      }
      if (frame.line > 0) {
        String(writer, "lineno");
        writer.Int(frame.line);
      }
      if (frame.column > 0) {
        String(writer, "colno");
        writer.Int(frame.column);
      }
      if (!frame.package.empty()) {
        Member(writer, "package",
               Truncated(frame.package, budget.max_string_bytes));
      }
      if (!frame.instruction_addr.empty()) {
        Member(writer, "instruction_addr", frame.instruction_addr);
      }
      writer.EndObject();
    }
    writer.EndArray();
    writer.EndObject();
  }
  writer.EndObject();
  writer.EndArray();
  writer.EndObject();
}

std::string EventJson(const v1::Message& message,
                      const sinks::SentryOptions& options,
                      const Budget& budget) {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  writer.StartObject();
  const std::string event_id = SentryEventId(message);
  if (!event_id.empty()) Member(writer, "event_id", event_id);
  Member(writer, "timestamp",
         absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ",
                          absl::FromUnixNanos(message.timestamp()),
                          absl::UTCTimeZone()));
  Member(writer, "platform", "other");
  Member(writer, "level", SentryLevel(message.severity()));
  if (!message.logger().empty()) {
    Member(writer, "logger",
           Truncated(message.logger(),
                     std::min(kMaxTagValueBytes, budget.max_string_bytes)));
  }
  if (!message.hostname().empty()) {
    Member(writer, "server_name",
           Truncated(message.hostname(),
                     std::min(kMaxTagValueBytes, budget.max_string_bytes)));
  }
  if (!options.environment().empty()) {
    Member(writer, "environment", options.environment());
  }
  if (!options.release().empty()) Member(writer, "release", options.release());
  String(writer, "message");
  writer.StartObject();
  Member(writer, "formatted",
         Truncated(message.payload(), budget.max_string_bytes));
  writer.EndObject();
  if (message.type() == "exception" ||
      FindField(message, "exception_type") != nullptr) {
    WriteException(writer, message, budget);
  }
  if (budget.with_tags) {
    String(writer, "tags");
    writer.StartObject();
    Member(writer, "metlog.type", Truncated(message.type(), kMaxTagValueBytes));
    for (const v1::Field& field : message.fields()) {
      if (!IsExceptionField(field.name()) && IsTag(field)) {
        Member(writer, field.name(), field.value_string(0));
      }
    }
    writer.EndObject();
  }
  if (budget.with_extra) {
    String(writer, "extra");
    writer.StartObject();
    if (message.has_pid()) {
      String(writer, "pid");
      writer.Int(message.pid());
    }
    for (const v1::Field& field : message.fields()) {
      if (IsExceptionField(field.name()) || IsTag(field)) continue;
      String(writer, Truncated(field.name(), budget.max_string_bytes));
      const int count = FieldValueCount(field);
      if (count == 1) {
        WriteFieldValue(writer, field, 0, budget.max_string_bytes);
        continue;
      }
      writer.StartArray();
      for (int i = 0; i < count; ++i) {
        WriteFieldValue(writer, field, i, budget.max_string_bytes);
      }
      writer.EndArray();
    }
    writer.EndObject();
  }
  writer.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace

std::string SentryEventId(const v1::Message& message) {
  if (message.uuid().size() != 16) return "";
  return absl::BytesToHexString(message.uuid());
}

const char* SentryLevel(int severity) {
  if (severity <= 2) return "fatal";
  switch (severity) {
    case 3:
      return "error";
    case 4:
      return "warning";
    case 5:
    case 6:
      return "info";
    default:
      return "debug";
  }
}

std::string SentryEventJson(const v1::Message& message,
                            const sinks::SentryOptions& options) {
  Budget budget{options.max_string_bytes(), kMaxFrames, true, true};
  std::string json = EventJson(message, options, budget);
  // Trim, never drop: extra goes first, then strings and frames shrink;
  // tags go last. Each step shrinks the event; what is left at the end (the
  // fixed members, 16-byte strings, one frame, environment and release)
  // stays under 2.5 KB however its strings escape, so the factory's minimum
  // max_event_bytes of 4096 always holds.
  while (json.size() > options.max_event_bytes()) {
    if (budget.with_extra) {
      budget.with_extra = false;
    } else if (budget.max_string_bytes > kMinStringBytes ||
               budget.max_frames > 1) {
      budget.max_string_bytes =
          std::max(budget.max_string_bytes / 2, kMinStringBytes);
      budget.max_frames = std::max<size_t>(budget.max_frames / 2, 1);
    } else if (budget.with_tags) {
      budget.with_tags = false;
    } else {
      break;
    }
    json = EventJson(message, options, budget);
  }
  return json;
}

std::string SentryEnvelope(const std::string& event_id,
                           const std::string& event_json) {
  const std::string header =
      event_id.empty() ? "{}"
                       : absl::StrCat("{\"event_id\":\"", event_id, "\"}");
  return absl::StrCat(header,
                      "\n{\"type\":\"event\",\"length\":", event_json.size(),
                      "}\n", event_json, "\n");
}

}  // namespace metlog
