#include "sinks/archive/partition_path.h"

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace metlog {
namespace {

using ::testing::HasSubstr;

constexpr char kDefaultLayout[] = "{table}/dt={dt}/hour={hour}/type={type}";

int64_t Nanos(absl::string_view rfc3339) {
  absl::Time time;
  std::string error;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &time, &error))
      << error;
  return absl::ToUnixNanos(time);
}

TEST(PartitionPathTest, PartitionsByUtcDateHourAndType) {
  const PartitionPath path(kDefaultLayout, "metlog");
  EXPECT_EQ(path.Directory(Nanos("2026-11-25T23:59:59.999999999Z"), "log"),
            "metlog/dt=2026-11-25/hour=23/type=log");
  EXPECT_EQ(path.Directory(Nanos("2026-11-26T00:00:00Z"), "timer"),
            "metlog/dt=2026-11-26/hour=00/type=timer");
  // An offset in the timestamp is converted to UTC.
  EXPECT_EQ(path.Directory(Nanos("2026-11-26T01:30:00+02:00"), "log"),
            "metlog/dt=2026-11-25/hour=23/type=log");
}

TEST(PartitionPathTest, TimesBeforeTheEpochRoundDownToTheirHour) {
  EXPECT_EQ(PartitionPath::HourOf(-1), -1);
  EXPECT_EQ(PartitionPath::HourOf(0), 0);
  const PartitionPath path(kDefaultLayout, "t");
  EXPECT_EQ(path.Directory(-1, "x"), "t/dt=1969-12-31/hour=23/type=x");
}

TEST(PartitionPathTest, FollowsTheLayoutTemplate) {
  const PartitionPath path("year/{dt}/{hour}/{type}/{table}", "events");
  EXPECT_EQ(path.Directory(Nanos("2026-01-02T03:04:05Z"), "log"),
            "year/2026-01-02/03/log/events");
}

TEST(PartitionPathTest, SanitisesTypesIntoOneSafeSegment) {
  EXPECT_EQ(SanitizePartitionValue("../../etc"), "_._.._etc");
  EXPECT_EQ(SanitizePartitionValue(".hidden"), "_hidden");
  EXPECT_EQ(SanitizePartitionValue("a/b c=d"), "a_b_c_d");
  EXPECT_EQ(SanitizePartitionValue("caf\xc3\xa9"), "caf__");
  EXPECT_EQ(SanitizePartitionValue("log.v2-x_y"), "log.v2-x_y");
  EXPECT_EQ(SanitizePartitionValue(""), "__HIVE_DEFAULT_PARTITION__");
  EXPECT_EQ(SanitizePartitionValue(std::string(500, 'a')).size(), 200u);
}

TEST(PartitionPathTest, ChecksLayouts) {
  EXPECT_TRUE(CheckLayout(kDefaultLayout).ok());
  EXPECT_THAT(std::string(CheckLayout("/abs/{dt}/{hour}/{type}").message()),
              HasSubstr("relative"));
  EXPECT_THAT(std::string(CheckLayout("../{dt}/{hour}/{type}").message()),
              HasSubstr("'..'"));
  EXPECT_THAT(std::string(CheckLayout("x//{dt}/{hour}/{type}").message()),
              HasSubstr("empty"));
  EXPECT_THAT(std::string(CheckLayout("{dt}/{type}").message()),
              HasSubstr("lacks {hour}"));
  EXPECT_THAT(std::string(CheckLayout("{dt}/{hour}/{type}/{host}").message()),
              HasSubstr("placeholders"));
}

}  // namespace
}  // namespace metlog
