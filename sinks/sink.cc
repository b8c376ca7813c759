#include "sinks/sink.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace metlog {

absl::Status TransientError(absl::string_view message) {
  return absl::UnavailableError(message);
}

bool IsTransient(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status) ||
         absl::IsResourceExhausted(status);
}

bool IsTransientErrno(int error_number) {
  switch (error_number) {
    // The request itself is wrong: sending it again fails the same way.
    case EMSGSIZE:
    case EISDIR:
    case ENOTDIR:
    case EACCES:
    case EPERM:
    case EROFS:
    case EINVAL:
    case EBADF:
    case EFBIG:
    case ENAMETOOLONG:
    case ELOOP:
    case EAFNOSUPPORT:
    case EPROTONOSUPPORT:
    case EDESTADDRREQ:
      return false;
    // Everything else (refused, reset, timed out, unreachable, a full buffer
    // or disk, an interrupted call ...) is about the back end's or the
    // machine's state, which may change; retries are bounded anyway.
    default:
      return true;
  }
}

absl::Status ErrnoError(int error_number, absl::string_view context) {
  const std::string message =
      absl::StrCat(context, ": ", std::strerror(error_number));
  return IsTransientErrno(error_number)
             ? TransientError(message)
             : absl::FailedPreconditionError(message);
}

SinkRegistry& SinkRegistry::Global() {
  static auto* registry = new SinkRegistry();
  return *registry;
}

void SinkRegistry::Register(const google::protobuf::Message& default_options,
                            CreateFn create) {
  entries_.emplace_back(default_options.GetDescriptor()->full_name(),
                        Entry{&default_options, std::move(create)});
}

absl::StatusOr<std::unique_ptr<Sink>> SinkRegistry::Create(
    const google::protobuf::Any& options) const {
  absl::string_view type_url = options.type_url();
  const absl::string_view type_name =
      type_url.substr(type_url.find_last_of('/') + 1);
  for (const auto& [name, entry] : entries_) {
    if (name != type_name) continue;
    std::unique_ptr<google::protobuf::Message> typed(
        entry.default_options->New());
    if (!options.UnpackTo(typed.get())) {
      return absl::InvalidArgumentError(
          absl::StrCat("sink options of type ", name, " do not parse"));
    }
    return entry.create(*typed);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("no sink is registered for options type \"", type_name,
                   "\"; known types: ", absl::StrJoin(KnownTypes(), ", ")));
}

std::vector<std::string> SinkRegistry::KnownTypes() const {
  std::vector<std::string> names;
  for (const auto& entry : entries_) names.push_back(entry.first);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace metlog
