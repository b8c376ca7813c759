// Counts the distinct members of a statsd-style set in bounded memory, for
// the metric sinks that carry sets (carbon, prometheus).
#ifndef METLOG_SINKS_DISTINCT_MEMBERS_H_
#define METLOG_SINKS_DISTINCT_MEMBERS_H_

#include <cstddef>
#include <cstdint>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"

namespace metlog {

// Keeps a 64-bit hash of each member, never the member itself, so a member
// costs about 16 bytes whatever its length (two members whose hashes
// collide count once; with 10 000 members that happens about once in 10^11
// sets). At most kMaxMembers are kept: a set that reaches it stops growing
// and count() stays there, so a set with more members is under-counted,
// never unbounded.
class DistinctMembers {
 public:
  static constexpr size_t kMaxMembers = 10000;

  enum class Added { kNew, kKnown, kRefused };
  // Adds `member` when it is new, the set is below kMaxMembers and
  // `may_grow` (the caller's own budget allows one more); kRefused when a
  // new member was not kept.
  Added Add(absl::string_view member, bool may_grow = true);
  size_t count() const { return hashes_.size(); }

 private:
  absl::flat_hash_set<uint64_t> hashes_;
};

}  // namespace metlog

#endif  // METLOG_SINKS_DISTINCT_MEMBERS_H_
