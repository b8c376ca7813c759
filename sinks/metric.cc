#include "sinks/metric.h"

#include <charconv>
#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace metlog {

std::optional<std::string> FieldText(const MessageView& message,
                                     absl::string_view name) {
  for (const FieldView& field : message.fields()) {
    FieldValue value;
    if (field.name != name || !ReadFieldValue(field, 0, &value)) continue;
    switch (field.value_type) {
      case v1::Field::STRING:
      case v1::Field::BYTES:
        return std::string(value.text);
      case v1::Field::INTEGER:
        return absl::StrCat(value.integer);
      case v1::Field::DOUBLE:
        return absl::StrCat(value.number);
      case v1::Field::BOOL:
        return value.flag ? "true" : "false";
    }
  }
  return std::nullopt;
}

std::optional<std::string> RenderName(absl::string_view name_template,
                                      const MessageView& message) {
  const WireMessage& wire = message.wire();
  std::string out;
  size_t pos = 0;
  while (pos < name_template.size()) {
    const size_t open = name_template.find('{', pos);
    const size_t close = open == absl::string_view::npos
                             ? absl::string_view::npos
                             : name_template.find('}', open);
    if (close == absl::string_view::npos) {
      absl::StrAppend(&out, name_template.substr(pos));
      break;
    }
    absl::StrAppend(&out, name_template.substr(pos, open - pos));
    absl::string_view key = name_template.substr(open + 1, close - open - 1);
    if (key == "name") {
      std::optional<std::string> name = FieldText(message, "name");
      if (!name.has_value() || name->empty()) return std::nullopt;
      out.append(*name);
    } else if (key == "type") {
      absl::StrAppend(&out, wire.type);
    } else if (key == "logger") {
      absl::StrAppend(&out, wire.logger);
    } else if (key == "hostname") {
      absl::StrAppend(&out, wire.hostname);
    } else if (absl::ConsumePrefix(&key, "fields.")) {
      out.append(FieldText(message, key).value_or(""));
    }
    pos = close + 1;
  }
  return out;
}

std::optional<Metric> ReadMetric(const MessageView& message) {
  const WireMessage& wire = message.wire();
  Metric metric;
  if (wire.type == "counter") {
    metric.kind = Metric::Kind::kCounter;
  } else if (wire.type == "timer") {
    metric.kind = Metric::Kind::kTimer;
  } else if (wire.type == "histogram") {
    metric.kind = Metric::Kind::kHistogram;
  } else if (wire.type == "gauge") {
    metric.kind = Metric::Kind::kGauge;
  } else if (wire.type == "set") {
    metric.kind = Metric::Kind::kSet;
  } else {
    return std::nullopt;
  }
  std::optional<std::string> name = FieldText(message, "name");
  if (!name.has_value() || name->empty()) return std::nullopt;
  metric.name = *std::move(name);
  if (metric.kind == Metric::Kind::kSet) {
    if (wire.payload.empty()) return std::nullopt;
    metric.member = std::string(wire.payload);
    return metric;
  }
  if (!absl::SimpleAtod(wire.payload, &metric.value) ||
      !std::isfinite(metric.value)) {
    return std::nullopt;
  }
  if (std::optional<std::string> rate = FieldText(message, "rate")) {
    double value = 1.0;
    if (absl::SimpleAtod(*rate, &value) && value > 0 && value <= 1) {
      metric.rate = value;
    }
  }
  metric.delta = metric.kind == Metric::Kind::kGauge &&
                 FieldText(message, "delta").value_or("") == "true";
  return metric;
}

std::string MetricNumber(double value) {
  if (value == 0) return "0";
  char text[32];  // the longest shortest form of a double is 24 characters
  // Whole numbers as such ("1000000", not the shorter "1e+06") while every
  // digit is exact.
  const bool whole = std::fabs(value) < 1e15 && std::trunc(value) == value;
  const std::to_chars_result written =
      whole ? std::to_chars(text, text + sizeof(text), value,
                            std::chars_format::fixed)
            : std::to_chars(text, text + sizeof(text), value);
  return std::string(text, written.ptr);
}

}  // namespace metlog
