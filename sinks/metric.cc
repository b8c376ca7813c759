#include "sinks/metric.h"

#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace metlog {

std::optional<std::string> FieldText(const v1::Message& message,
                                     absl::string_view name) {
  for (const v1::Field& field : message.fields()) {
    if (field.name() != name) continue;
    switch (field.value_type()) {
      case v1::Field::STRING:
        if (field.value_string_size() > 0) return field.value_string(0);
        break;
      case v1::Field::BYTES:
        if (field.value_bytes_size() > 0) return field.value_bytes(0);
        break;
      case v1::Field::INTEGER:
        if (field.value_integer_size() > 0) {
          return absl::StrCat(field.value_integer(0));
        }
        break;
      case v1::Field::DOUBLE:
        if (field.value_double_size() > 0) {
          return absl::StrCat(field.value_double(0));
        }
        break;
      case v1::Field::BOOL:
        if (field.value_bool_size() > 0) {
          return field.value_bool(0) ? "true" : "false";
        }
        break;
    }
  }
  return std::nullopt;
}

std::optional<std::string> RenderName(absl::string_view name_template,
                                      const v1::Message& message) {
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
      out.append(message.type());
    } else if (key == "logger") {
      out.append(message.logger());
    } else if (key == "hostname") {
      out.append(message.hostname());
    } else if (absl::ConsumePrefix(&key, "fields.")) {
      out.append(FieldText(message, key).value_or(""));
    }
    pos = close + 1;
  }
  return out;
}

std::optional<Metric> ReadMetric(const v1::Message& message) {
  Metric metric;
  if (message.type() == "counter") {
    metric.kind = Metric::Kind::kCounter;
  } else if (message.type() == "timer") {
    metric.kind = Metric::Kind::kTimer;
  } else if (message.type() == "gauge") {
    metric.kind = Metric::Kind::kGauge;
  } else {
    return std::nullopt;
  }
  std::optional<std::string> name = FieldText(message, "name");
  if (!name.has_value() || name->empty()) return std::nullopt;
  metric.name = *std::move(name);
  if (!absl::SimpleAtod(message.payload(), &metric.value) ||
      !std::isfinite(metric.value)) {
    return std::nullopt;
  }
  if (std::optional<std::string> rate = FieldText(message, "rate")) {
    double value = 1.0;
    if (absl::SimpleAtod(*rate, &value) && value > 0 && value <= 1) {
      metric.rate = value;
    }
  }
  return metric;
}

}  // namespace metlog
