#include "sinks/distinct_members.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace metlog {
namespace {

TEST(DistinctMembersTest, CountsEachMemberOnce) {
  DistinctMembers members;
  EXPECT_TRUE(members.Add("u-1"));
  EXPECT_TRUE(members.Add("u-2"));
  EXPECT_FALSE(members.Add("u-1"));
  EXPECT_EQ(members.count(), 2u);
}

TEST(DistinctMembersTest, StopsGrowingAtItsBound) {
  DistinctMembers members;
  for (size_t i = 0; i < DistinctMembers::kMaxMembers + 5; ++i) {
    members.Add(absl::StrCat("member-", i));
  }
  EXPECT_EQ(members.count(), DistinctMembers::kMaxMembers);
  EXPECT_FALSE(members.Add("one more"));
  // Members already kept are still recognised.
  EXPECT_FALSE(members.Add("member-0"));
}

TEST(DistinctMembersTest, ACallersBudgetCanRefuseNewMembers) {
  DistinctMembers members;
  EXPECT_FALSE(members.Add("u-1", /*may_grow=*/false));
  EXPECT_EQ(members.count(), 0u);
}

}  // namespace
}  // namespace metlog
