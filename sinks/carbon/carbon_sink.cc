#include "sinks/carbon/carbon_sink.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "client/net/host_port.h"
#include "client/net/socket_address.h"
#include "glog/logging.h"

namespace metlog {
namespace {

// A connect that has not finished in a minute will not; longer only delays
// the retry (and shutdown).
constexpr uint32_t kMaxConnectTimeoutMs = 60000;
constexpr uint32_t kMaxGaugePaths = 10000000;

// How long slots stay to be added to, and gauge values to take deltas, in
// seconds of message time behind the newest message sent.
constexpr int64_t kSlotMemorySeconds = 60;
constexpr int64_t kGaugeMemorySeconds = 3600;

// Graphite paths are dot-separated words; spaces or newlines would split the
// line.
std::string SafePath(std::string path) {
  for (char& c : path) {
    if (c == ' ' || c == '\n' || c == '\t') c = '_';
  }
  return path;
}

}  // namespace

CarbonSink::CarbonSink(const sinks::CarbonOptions& options)
    : options_(options) {}

CarbonSink::~CarbonSink() { Stop(); }

absl::Status CarbonSink::Start() { return Connect(absl::InfiniteFuture()); }

namespace {

// Milliseconds left until `deadline` for poll(), at least 0.
int PollTimeout(absl::Time deadline) {
  return static_cast<int>(
      std::clamp<int64_t>(absl::ToInt64Milliseconds(deadline - absl::Now() +
                                                    absl::Microseconds(999)),
                          0, 1 << 30));
}

}  // namespace

absl::Status CarbonSink::Connect(absl::Time deadline) {
  Disconnect();
  const std::string& address = options_.address();
  absl::StatusOr<SocketAddress> resolved =
      ResolveHostPort(address, SOCK_STREAM);
  if (!resolved.ok()) {
    const std::string error =
        absl::StrCat("carbon: ", resolved.status().message());
    return absl::IsInvalidArgument(resolved.status())
               ? absl::InvalidArgumentError(error)
               : TransientError(error);
  }
  {
    absl::MutexLock lock(&fd_mu_);
    fd_ =
        socket(resolved->family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  }
  int result = fd_ < 0 ? -1 : connect(fd_, resolved->get(), resolved->length);
  if (result != 0 && errno == EINPROGRESS) {
    pollfd writable{fd_, POLLOUT, 0};
    int error = ETIMEDOUT;
    socklen_t length = sizeof(error);
    const absl::Time connect_deadline = std::min(
        deadline,
        absl::Now() + absl::Milliseconds(options_.connect_timeout_ms()));
    if (poll(&writable, 1, PollTimeout(connect_deadline)) == 1) {
      getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length);
    }
    errno = error;
    result = error == 0 ? 0 : -1;
  }
  if (result != 0) {
    const int error = errno;
    Disconnect();
    return ErrnoError(error, absl::StrCat("carbon: connect ", address));
  }
  // The socket stays non-blocking: Send waits in poll() for the deadline.
  return absl::OkStatus();
}

void CarbonSink::Disconnect() {
  absl::MutexLock lock(&fd_mu_);
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

void CarbonSink::Cancel() {
  absl::MutexLock lock(&fd_mu_);
  if (fd_ >= 0) shutdown(fd_, SHUT_RDWR);
}

absl::Status CarbonSink::Send(absl::string_view text, absl::Time deadline) {
  size_t sent = 0;
  while (sent < text.size()) {
    const ssize_t n = send(fd_, text.data() + sent, text.size() - sent,
                           MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    const int error = errno;
    if (error == EINTR) continue;
    if (error == EAGAIN || error == EWOULDBLOCK) {
      // carbon is not reading (fast enough): wait for room, not past the
      // deadline.
      pollfd writable{fd_, POLLOUT, 0};
      if (poll(&writable, 1, PollTimeout(deadline)) > 0) continue;
      Disconnect();
      return TransientError(absl::StrCat("carbon: send to ", options_.address(),
                                         ": timed out, carbon is not reading"));
    }
    Disconnect();
    return ErrnoError(error,
                      absl::StrCat("carbon: send to ", options_.address()));
  }
  return absl::OkStatus();
}

bool CarbonSink::ConnectionAlive() const {
  pollfd readable{fd_, POLLIN | POLLRDHUP, 0};
  if (poll(&readable, 1, 0) == 0) return true;
  return (readable.revents & (POLLRDHUP | POLLHUP | POLLERR)) == 0;
}

std::optional<std::string> CarbonSink::Path(const MessageView& message) const {
  std::optional<std::string> name =
      RenderName(options_.name_template(), message);
  if (!name.has_value() || name->empty()) return std::nullopt;
  return SafePath(absl::StrCat(options_.prefix(), *name));
}

absl::Status CarbonSink::Write(absl::Span<const MessageView> batch,
                               absl::Time deadline) {
  if (fd_ < 0 || !ConnectionAlive()) {
    if (absl::Status status = Connect(deadline); !status.ok()) return status;
  }
  // Fold the batch into copies of the slots it touches.
  std::map<SlotKey, Slot> touched;
  std::map<std::string, GaugeValue> touched_gauges;
  uint64_t unusable = 0;
  for (const MessageView& message : batch) {
    std::optional<Metric> metric = ReadMetric(message);
    std::optional<std::string> path =
        metric.has_value() ? Path(message) : std::nullopt;
    if (!path.has_value()) {
      ++unusable;
      continue;
    }
    SlotKey key{*std::move(path), message.wire().timestamp / 1000000000};
    auto it = touched.find(key);
    if (it == touched.end()) {
      auto known = slots_.find(key);
      it = touched
               .emplace(key, known != slots_.end() &&
                                     known->second.kind == metric->kind
                                 ? known->second
                                 : Slot{metric->kind})
               .first;
    }
    Slot& slot = it->second;
    slot.kind = metric->kind;
    switch (metric->kind) {
      case Metric::Kind::kCounter:
        slot.value += metric->value / metric->rate;
        break;
      case Metric::Kind::kTimer:
      case Metric::Kind::kHistogram:
        slot.value += metric->value;
        slot.count += 1;
        break;
      case Metric::Kind::kGauge: {
        double current = 0;
        if (metric->delta) {
          if (auto in_batch = touched_gauges.find(key.first);
              in_batch != touched_gauges.end()) {
            current = in_batch->second.value;
          } else if (auto known = gauges_.find(key.first);
                     known != gauges_.end()) {
            current = known->second.value;
          }
        }
        slot.value = current + metric->value;
        touched_gauges[key.first] = {slot.value, key.second};
        break;
      }
      case Metric::Kind::kSet:
        slot.members.Add(metric->member);
        break;
    }
  }
  std::string text;
  int64_t newest = 0;
  for (const auto& [key, slot] : touched) {
    absl::StrAppend(&text, key.first, " ", MetricNumber(slot.Stored()), " ",
                    key.second, "\n");
    newest = std::max(newest, key.second);
  }
  if (absl::Status status = Send(text, deadline); !status.ok()) {
    return status;
  }
  for (auto& [key, slot] : touched) slots_[key] = std::move(slot);
  for (auto it = slots_.begin(); it != slots_.end();) {
    it = it->first.second < newest - kSlotMemorySeconds ? slots_.erase(it)
                                                        : std::next(it);
  }
  RememberGauges(touched_gauges, newest);
  unusable_ += unusable;
  return absl::OkStatus();
}

void CarbonSink::RememberGauges(
    const std::map<std::string, GaugeValue>& touched, int64_t newest) {
  // A full scan per batch would cost O(paths) each time: prune once per
  // slot-memory span of message time instead.
  if (newest >= last_gauge_prune_ + kSlotMemorySeconds) {
    for (auto it = gauges_.begin(); it != gauges_.end();) {
      it = it->second.second < newest - kGaugeMemorySeconds ? gauges_.erase(it)
                                                            : std::next(it);
    }
    last_gauge_prune_ = newest;
  }
  uint64_t not_remembered = 0;
  for (const auto& [path, gauge] : touched) {
    if (auto known = gauges_.find(path); known != gauges_.end()) {
      known->second = gauge;
    } else if (gauges_.size() < options_.max_gauge_paths()) {
      gauges_.emplace(path, gauge);
    } else {
      ++not_remembered;
    }
  }
  if (not_remembered > 0) {
    LOG_EVERY_T(WARNING, 10)
        << "carbon: " << not_remembered
        << " gauge paths not remembered for deltas: max_gauge_paths ("
        << options_.max_gauge_paths() << ") reached";
  }
}

uint64_t CarbonSink::TakeUnusable() { return std::exchange(unusable_, 0); }

void CarbonSink::Stop() { Disconnect(); }

absl::Status CheckCarbonOptions(const sinks::CarbonOptions& options) {
  if (absl::Status status =
          CheckHostPort("address", options.address(), PortZero::kRefused);
      !status.ok()) {
    return status;
  }
  if (options.connect_timeout_ms() < 1 ||
      options.connect_timeout_ms() > kMaxConnectTimeoutMs) {
    return absl::InvalidArgumentError(
        absl::StrCat("connect_timeout_ms is ", options.connect_timeout_ms(),
                     "; it must be in 1..", kMaxConnectTimeoutMs));
  }
  if (options.name_template().empty()) {
    return absl::InvalidArgumentError(
        "name_template is empty: no metric would have a path");
  }
  if (options.max_gauge_paths() < 1 ||
      options.max_gauge_paths() > kMaxGaugePaths) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_gauge_paths is ", options.max_gauge_paths(),
                     "; it must be in 1..", kMaxGaugePaths));
  }
  return absl::OkStatus();
}

namespace {
const SinkRegistration<sinks::CarbonOptions> kRegistration(
    [](const sinks::CarbonOptions& options)
        -> absl::StatusOr<std::unique_ptr<Sink>> {
      if (absl::Status status = CheckCarbonOptions(options); !status.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("carbon: ", status.message()));
      }
      return std::make_unique<CarbonSink>(options);
    });
}  // namespace

}  // namespace metlog
