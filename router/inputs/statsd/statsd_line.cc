#include "router/inputs/statsd/statsd_line.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace metlog {
namespace {

bool IsNumber(absl::string_view text, double* value) {
  return absl::SimpleAtod(text, value) && std::isfinite(*value);
}

// Digits with an optional fraction ("42", "320.5"), short enough to be
// finite: what SimpleAtod accepts, checked without it (it was a sixth of a
// line's decoding). Anything else goes to SimpleAtod.
bool IsPlainDecimal(absl::string_view text) {
  constexpr size_t kMaxPlainDigits = 30;
  if (text.empty() || text.size() > kMaxPlainDigits) return false;
  const size_t dot = text.find('.');
  const absl::string_view whole = text.substr(0, dot);
  auto digits = [](absl::string_view part) {
    return !part.empty() &&
           std::all_of(part.begin(), part.end(), absl::ascii_isdigit);
  };
  return digits(whole) &&
         (dot == absl::string_view::npos || digits(text.substr(dot + 1)));
}

// Whether `text` is a finite number; `*negative` says if it is below 0.
bool IsValue(absl::string_view text, bool* negative) {
  if (IsPlainDecimal(text)) {
    *negative = false;
    return true;
  }
  double number = 0;
  if (!IsNumber(text, &number)) return false;
  *negative = number < 0;
  return true;
}

absl::Status ParseTags(absl::string_view text, StatsdSample* sample) {
  for (absl::string_view tag : absl::StrSplit(text, ',')) {
    if (tag.empty()) continue;
    if (sample->tags.size() == kMaxStatsdTags) {
      return absl::InvalidArgumentError(
          absl::StrCat("more than ", kMaxStatsdTags, " tags"));
    }
    const size_t colon = tag.find(':');
    absl::string_view key = tag.substr(0, colon);
    absl::string_view value =
        colon == absl::string_view::npos ? "" : tag.substr(colon + 1);
    if (key.empty()) return absl::InvalidArgumentError("a tag has no name");
    sample->tags.emplace_back(key, value);
  }
  return absl::OkStatus();
}

// One `value|type[|@rate]`.
absl::Status ParseSample(absl::string_view name, absl::string_view text,
                         StatsdSample* sample) {
  sample->name = name;
  // At most value|type|@rate: a fourth section is refused below. Split by
  // hand: a vector per line was a tenth of the input's time.
  absl::string_view sections[3];
  size_t count = 0;
  for (absl::string_view section : absl::StrSplit(text, '|')) {
    if (count == 3) {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected section \"", section, "\""));
    }
    sections[count++] = section;
  }
  if (count < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", text, "\" has no |type"));
  }
  absl::string_view value = sections[0];
  const absl::string_view type = sections[1];
  if (type == "c") {
    sample->kind = StatsdSample::Kind::kCounter;
  } else if (type == "ms" || type == "h") {
    sample->kind = StatsdSample::Kind::kTimer;
  } else if (type == "g") {
    sample->kind = StatsdSample::Kind::kGauge;
  } else if (type == "s") {
    sample->kind = StatsdSample::Kind::kSet;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("unknown metric type \"", type, "\""));
  }
  if (count == 3) {
    const absl::string_view section = sections[2];
    if (section.empty() || section[0] != '@') {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected section \"", section, "\""));
    }
    if (!IsNumber(section.substr(1), &sample->rate) || sample->rate <= 0 ||
        sample->rate > 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("sample rate \"", section, "\" is not in (0, 1]"));
    }
  }
  if (sample->kind == StatsdSample::Kind::kSet) {
    if (value.empty()) return absl::InvalidArgumentError("empty set member");
    sample->value = value;
    return absl::OkStatus();
  }
  if (sample->kind == StatsdSample::Kind::kGauge && !value.empty() &&
      (value[0] == '+' || value[0] == '-')) {
    sample->delta = true;
    if (value[0] == '+') value.remove_prefix(1);
  }
  bool negative = false;
  if (!IsValue(value, &negative) || (!value.empty() && value[0] == '+')) {
    return absl::InvalidArgumentError(
        absl::StrCat("value \"", value, "\" is not a number"));
  }
  if (sample->kind == StatsdSample::Kind::kTimer && negative) {
    return absl::InvalidArgumentError("a timer cannot be negative");
  }
  sample->value = value;
  return absl::OkStatus();
}

}  // namespace

absl::Status ParseStatsdLine(absl::string_view line,
                             absl::InlinedVector<StatsdSample, 1>* samples) {
  samples->clear();
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const size_t colon = line.find(':');
  const absl::string_view name = line.substr(0, colon);
  if (name.empty()) return absl::InvalidArgumentError("no metric name");
  if (name.size() > kMaxStatsdNameBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("metric name of ", name.size(), " bytes exceeds ",
                     kMaxStatsdNameBytes));
  }
  if (colon == absl::string_view::npos) {
    return absl::InvalidArgumentError("no :value");
  }
  // DogStatsD tags come last and hold ':' themselves: split them off
  // before splitting the values.
  absl::string_view values = line.substr(colon + 1), tags;
  bool tagged = false;
  if (const size_t hash = values.find("|#"); hash != absl::string_view::npos) {
    tags = values.substr(hash + 2);
    values = values.substr(0, hash);
    tagged = true;
    if (tags.find('|') != absl::string_view::npos) {
      return absl::InvalidArgumentError("a section after the tags");
    }
  }
  for (absl::string_view text : absl::StrSplit(values, ':')) {
    samples->emplace_back();
    absl::Status status = ParseSample(name, text, &samples->back());
    if (status.ok() && tagged) status = ParseTags(tags, &samples->back());
    if (!status.ok()) {
      samples->clear();
      return status;
    }
  }
  return absl::OkStatus();
}

absl::string_view StatsdMessageType(StatsdSample::Kind kind) {
  switch (kind) {
    case StatsdSample::Kind::kCounter:
      return "counter";
    case StatsdSample::Kind::kTimer:
      return "timer";
    case StatsdSample::Kind::kGauge:
      return "gauge";
    case StatsdSample::Kind::kSet:
      return "set";
  }
  return "counter";
}

}  // namespace metlog
