#include "sinks/distinct_members.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace metlog {
namespace {

TEST(DistinctMembersTest, CountsEachMemberOnce) {
  DistinctMembers members;
  EXPECT_EQ(members.Add("u-1"), DistinctMembers::Added::kNew);
  EXPECT_EQ(members.Add("u-2"), DistinctMembers::Added::kNew);
  EXPECT_EQ(members.Add("u-1"), DistinctMembers::Added::kKnown);
  EXPECT_EQ(members.count(), 2u);
}

TEST(DistinctMembersTest, StopsGrowingAtItsBound) {
  DistinctMembers members;
  for (size_t i = 0; i < DistinctMembers::kMaxMembers + 5; ++i) {
    members.Add(absl::StrCat("member-", i));
  }
  EXPECT_EQ(members.count(), DistinctMembers::kMaxMembers);
  EXPECT_EQ(members.Add("one more"), DistinctMembers::Added::kRefused);
  // Members already kept are still recognised.
  EXPECT_EQ(members.Add("member-0"), DistinctMembers::Added::kKnown);
}

TEST(DistinctMembersTest, ACallersBudgetCanRefuseNewMembers) {
  DistinctMembers members;
  EXPECT_EQ(members.Add("u-1", /*may_grow=*/false),
            DistinctMembers::Added::kRefused);
  EXPECT_EQ(members.count(), 0u);
}

}  // namespace
}  // namespace metlog
