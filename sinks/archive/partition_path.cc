#include "sinks/archive/partition_path.h"

#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"

namespace metlog {
namespace {

constexpr size_t kMaxValueBytes = 200;
constexpr int64_t kNanosPerHour = int64_t{3600} * 1000 * 1000 * 1000;

bool IsSafeByte(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
         c == '-' || c == '.';
}

}  // namespace

std::string SanitizePartitionValue(absl::string_view type) {
  if (type.empty()) return "__HIVE_DEFAULT_PARTITION__";
  std::string value(type.substr(0, kMaxValueBytes));
  for (char& c : value) {
    if (!IsSafeByte(c)) c = '_';
  }
  if (value[0] == '.') value[0] = '_';
  return value;
}

absl::Status CheckLayout(absl::string_view layout) {
  if (layout.empty() || layout[0] == '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("layout \"", layout, "\" must be a relative path"));
  }
  for (absl::string_view segment : absl::StrSplit(layout, '/')) {
    if (segment == ".." || segment == "." || segment.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "layout \"", layout, "\" has an empty, '.' or '..' segment"));
    }
  }
  for (absl::string_view needed : {"{dt}", "{hour}", "{type}"}) {
    if (!absl::StrContains(layout, needed)) {
      return absl::InvalidArgumentError(
          absl::StrCat("layout \"", layout, "\" lacks ", needed));
    }
  }
  const std::string rest = absl::StrReplaceAll(
      layout, {{"{table}", ""}, {"{dt}", ""}, {"{hour}", ""}, {"{type}", ""}});
  if (absl::StrContains(rest, "{") || absl::StrContains(rest, "}")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "layout \"", layout,
        "\": only {table}, {dt}, {hour} and {type} are placeholders"));
  }
  return absl::OkStatus();
}

PartitionPath::PartitionPath(std::string layout, std::string table)
    : layout_(std::move(layout)), table_(std::move(table)) {}

int64_t PartitionPath::HourOf(int64_t timestamp_ns) {
  int64_t hour = timestamp_ns / kNanosPerHour;
  if (timestamp_ns < 0 && timestamp_ns % kNanosPerHour != 0) --hour;
  return hour;
}

std::string PartitionPath::Directory(int64_t timestamp_ns,
                                     absl::string_view type) const {
  const absl::Time hour_start =
      absl::FromUnixSeconds(HourOf(timestamp_ns) * 3600);
  return absl::StrReplaceAll(
      layout_,
      {{"{table}", table_},
       {"{dt}", absl::FormatTime("%Y-%m-%d", hour_start, absl::UTCTimeZone())},
       {"{hour}", absl::FormatTime("%H", hour_start, absl::UTCTimeZone())},
       {"{type}", SanitizePartitionValue(type)}});
}

}  // namespace metlog
