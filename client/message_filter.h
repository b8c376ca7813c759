// Decides on the caller's thread which messages a client sends at all, so
// filtered messages cost nothing further.
#ifndef METLOG_CLIENT_MESSAGE_FILTER_H_
#define METLOG_CLIENT_MESSAGE_FILTER_H_

#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "proto/client_config.pb.h"

namespace metlog {

class MessageFilter {
 public:
  // Lets everything through.
  MessageFilter() = default;
  explicit MessageFilter(const v1::FilterConfig& config);

  // False when severity is above the maximum (less severe), the type is not
  // on a non-empty allow-list, or it is on the deny-list.
  bool Allows(absl::string_view type, int severity) const;

  // False for timers disabled by name, or all of them by "*".
  bool TimerEnabled(absl::string_view name) const;

 private:
  int max_severity_ = 7;
  absl::flat_hash_set<std::string> type_allow_;
  absl::flat_hash_set<std::string> type_deny_;
  absl::flat_hash_set<std::string> disabled_timers_;
  bool all_timers_disabled_ = false;
};

}  // namespace metlog

#endif  // METLOG_CLIENT_MESSAGE_FILTER_H_
