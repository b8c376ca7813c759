#include "sinks/distinct_members.h"

#include "absl/hash/hash.h"

namespace metlog {

bool DistinctMembers::Add(absl::string_view member, bool may_grow) {
  const uint64_t hash = absl::Hash<absl::string_view>()(member);
  if (!may_grow || hashes_.size() >= kMaxMembers || hashes_.contains(hash)) {
    return false;
  }
  hashes_.insert(hash);
  return true;
}

}  // namespace metlog
