#include "router/inputs/metlog_json/metlog_json_decoder.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

namespace metlog {
namespace {

using rapidjson::Value;

std::string JsonText(const Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

// A string as itself, anything else as its JSON (Python's str() of a
// number gives the same digits for integers).
std::string Text(const Value& value) {
  if (value.IsString()) {
    return std::string(value.GetString(), value.GetStringLength());
  }
  return JsonText(value);
}

// An int64 JSON integer (not a double, not a bool).
bool IsInt64(const Value& value) { return value.IsInt64(); }

// ISO 8601 as Python's isoformat() writes it (naive means UTC), or seconds
// since the epoch; false when it is neither.
bool TimestampNanos(const Value& value, int64_t* nanos) {
  if (value.IsNumber() && !value.IsBool()) {
    const double seconds = value.GetDouble();
    if (!std::isfinite(seconds) || std::fabs(seconds) > 9.2e9) return false;
    // Whole seconds apart from the fraction: a double holds nanoseconds
    // since 1970 only to 256 ns.
    const double whole = std::floor(seconds);
    *nanos = static_cast<int64_t>(whole) * 1000000000 +
             std::llround((seconds - whole) * 1e9);
    return true;
  }
  if (!value.IsString()) return false;
  const std::string text(value.GetString(), value.GetStringLength());
  absl::Time time;
  std::string error;
  for (const char* format :
       {"%Y-%m-%d%ET%H:%M:%E*S%Ez", "%Y-%m-%d%ET%H:%M:%E*S",
        "%Y-%m-%d %H:%M:%E*S%Ez", "%Y-%m-%d %H:%M:%E*S", "%Y-%m-%d"}) {
    if (absl::ParseTime(format, text, absl::UTCTimeZone(), &time, &error)) {
      *nanos = absl::ToUnixNanos(time);
      return true;
    }
  }
  return false;
}

void AddValues(const Value* values, size_t count, v1::Field* field) {
  bool all_bool = true, all_int = true, all_number = true;
  for (size_t i = 0; i < count; ++i) {
    all_bool = all_bool && values[i].IsBool();
    all_int = all_int && IsInt64(values[i]);
    all_number = all_number && values[i].IsNumber();
  }
  if (count == 0) {
    field->set_value_type(v1::Field::STRING);
  } else if (all_bool) {
    field->set_value_type(v1::Field::BOOL);
    for (size_t i = 0; i < count; ++i)
      field->add_value_bool(values[i].GetBool());
  } else if (all_int) {
    field->set_value_type(v1::Field::INTEGER);
    for (size_t i = 0; i < count; ++i) {
      field->add_value_integer(values[i].GetInt64());
    }
  } else if (all_number) {
    field->set_value_type(v1::Field::DOUBLE);
    for (size_t i = 0; i < count; ++i) {
      field->add_value_double(values[i].GetDouble());
    }
  } else {
    field->set_value_type(v1::Field::STRING);
    for (size_t i = 0; i < count; ++i) field->add_value_string(Text(values[i]));
  }
}

// Deeper documents are refused: writing a nested value back as text
// (JsonText) recurses once per level.
constexpr size_t kMaxDepth = 64;

bool NestedDeeperThan(const Value& root, size_t limit) {
  std::vector<std::pair<const Value*, size_t>> pending = {{&root, 1}};
  while (!pending.empty()) {
    const auto [value, depth] = pending.back();
    pending.pop_back();
    if (depth > limit) return true;
    if (value->IsArray()) {
      for (const Value& item : value->GetArray()) {
        pending.emplace_back(&item, depth + 1);
      }
    } else if (value->IsObject()) {
      for (const auto& member : value->GetObject()) {
        pending.emplace_back(&member.value, depth + 1);
      }
    }
  }
  return false;
}

}  // namespace

absl::StatusOr<v1::Message> MetlogJsonToMessage(absl::string_view json) {
  rapidjson::Document document;
  // Not kParseFullPrecisionFlag: Debian's RapidJSON 1.1.0 reads out of
  // bounds in that path on long mantissas (found by the fuzzer; the seed
  // corpus keeps the input). Numbers may be 1 ulp off instead.
  document.Parse<rapidjson::kParseIterativeFlag |
                 rapidjson::kParseValidateEncodingFlag>(json.data(),
                                                        json.size());
  if (document.HasParseError()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not JSON at offset ", document.GetErrorOffset(), ": ",
                     rapidjson::GetParseError_En(document.GetParseError())));
  }
  if (!document.IsObject()) {
    return absl::InvalidArgumentError("not a JSON object");
  }
  if (NestedDeeperThan(document, kMaxDepth)) {
    return absl::InvalidArgumentError(
        absl::StrCat("nested deeper than ", kMaxDepth, " levels"));
  }
  v1::Message message;
  for (const auto& member : document.GetObject()) {
    const absl::string_view key(member.name.GetString(),
                                member.name.GetStringLength());
    const Value& value = member.value;
    if (value.IsNull()) continue;
    if (key == "type") {
      message.set_type(Text(value));
    } else if (key == "logger") {
      message.set_logger(Text(value));
    } else if (key == "env_version") {
      message.set_env_version(Text(value));
    } else if (key == "payload") {
      message.set_payload(Text(value));
    } else if (key == "metlog_hostname") {
      message.set_hostname(Text(value));
    } else if (key == "severity") {
      if (value.IsInt()) message.set_severity(value.GetInt());
    } else if (key == "metlog_pid") {
      if (value.IsInt()) message.set_pid(value.GetInt());
    } else if (key == "timestamp") {
      int64_t nanos = 0;
      if (TimestampNanos(value, &nanos)) message.set_timestamp(nanos);
    } else if (key == "fields" && value.IsObject()) {
      for (const auto& entry : value.GetObject()) {
        const Value& field_value = entry.value;
        if (field_value.IsNull()) continue;
        v1::Field* field = message.add_fields();
        field->set_name(entry.name.GetString(), entry.name.GetStringLength());
        if (field->name() == "rate" && field_value.IsNumber()) {
          // Metric sinks read the sampling rate as a double.
          field->set_value_type(v1::Field::DOUBLE);
          field->add_value_double(field_value.GetDouble());
        } else if (field_value.IsArray()) {
          AddValues(field_value.Begin(), field_value.Size(), field);
        } else {
          AddValues(&field_value, 1, field);
        }
      }
    }
  }
  return message;
}

DecodeResult MetlogJsonDecoder::Decode(absl::string_view datagram) {
  DecodeResult result;
  auto reject = [&result](RejectReason reason, std::string error) {
    ++result.rejected[static_cast<int>(reason)];
    result.first_error = std::move(error);
  };
  if (datagram.size() > limits_.max_packet_bytes()) {
    reject(RejectReason::kOversizedPacket,
           absl::StrCat("datagram of ", datagram.size(), " bytes exceeds ",
                        limits_.max_packet_bytes()));
    return result;
  }
  absl::StatusOr<v1::Message> message = MetlogJsonToMessage(datagram);
  if (!message.ok()) {
    reject(RejectReason::kMalformedPacket,
           std::string(message.status().message()));
    return result;
  }
  encoded_.clear();
  message->SerializeToString(&encoded_);
  if (encoded_.size() > limits_.max_message_bytes()) {
    reject(RejectReason::kOversizedMessage,
           absl::StrCat("message of ", encoded_.size(), " bytes exceeds ",
                        limits_.max_message_bytes()));
    return result;
  }
  result.packet = SharedPacket::Create(encoded_);
  std::string problem;
  if (const std::optional<RejectReason> reason = RejectReasonFor(
          result.packet->Add(result.packet->bytes(),
                             absl::GetCurrentTimeNanos(), random_, &problem));
      reason.has_value()) {
    reject(*reason, std::move(problem));
  }
  return result;
}

}  // namespace metlog
