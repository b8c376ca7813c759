#include "client/message_filter.h"

namespace metlog {

MessageFilter::MessageFilter(const v1::FilterConfig& config)
    : max_severity_(config.max_severity()),
      type_allow_(config.type_allow().begin(), config.type_allow().end()),
      type_deny_(config.type_deny().begin(), config.type_deny().end()),
      disabled_timers_(config.disabled_timers().begin(),
                       config.disabled_timers().end()),
      all_timers_disabled_(disabled_timers_.contains("*")) {}

bool MessageFilter::Allows(absl::string_view type, int severity) const {
  if (severity > max_severity_) return false;
  if (!type_allow_.empty() && !type_allow_.contains(type)) return false;
  return type_deny_.empty() || !type_deny_.contains(type);
}

bool MessageFilter::TimerEnabled(absl::string_view name) const {
  if (all_timers_disabled_) return false;
  return disabled_timers_.empty() || !disabled_timers_.contains(name);
}

}  // namespace metlog
