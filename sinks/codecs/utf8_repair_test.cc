#include "sinks/codecs/utf8_repair.h"

#include <string>

#include "gtest/gtest.h"

namespace metlog {
namespace {

std::string Repaired(absl::string_view text, bool* replaced = nullptr) {
  std::string out = "prefix:";
  const bool any = AppendRepairedUtf8(text, &out);
  if (replaced != nullptr) *replaced = any;
  return out;
}

TEST(Utf8RepairTest, ValidTextIsAppendedUnchanged) {
  bool replaced = true;
  EXPECT_EQ(
      Repaired(std::string("caf\xC3\xA9 \xF0\x9F\x98\x80 a\0b", 13), &replaced),
      std::string("prefix:caf\xC3\xA9 \xF0\x9F\x98\x80 a\0b", 20));
  EXPECT_FALSE(replaced);
}

TEST(Utf8RepairTest, EachByteStartingNoSequenceBecomesOneReplacement) {
  bool replaced = false;
  // The examples: a Latin-1 byte, and a wholly invalid string.
  EXPECT_EQ(Repaired("caf\xE9 ok", &replaced), "prefix:caf\xEF\xBF\xBD ok");
  EXPECT_TRUE(replaced);
  EXPECT_EQ(Repaired("/tmp/\xFF\xFE"), "prefix:/tmp/\xEF\xBF\xBD\xEF\xBF\xBD");
  // An overlong '/', a surrogate, and a sequence cut short at the end.
  EXPECT_EQ(Repaired("\xC0\xAF"), "prefix:\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(Repaired("\xED\xA0\x80"),
            "prefix:\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(Repaired("ok\xE2\x82"), "prefix:ok\xEF\xBF\xBD\xEF\xBF\xBD");
}

}  // namespace
}  // namespace metlog
