#include "sinks/distinct_members.h"

#include "absl/hash/hash.h"

namespace metlog {

DistinctMembers::Added DistinctMembers::Add(absl::string_view member,
                                            bool may_grow) {
  const uint64_t hash = absl::Hash<absl::string_view>()(member);
  if (hashes_.contains(hash)) return Added::kKnown;
  if (!may_grow || hashes_.size() >= kMaxMembers) return Added::kRefused;
  hashes_.insert(hash);
  return Added::kNew;
}

}  // namespace metlog
