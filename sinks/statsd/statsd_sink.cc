#include "sinks/statsd/statsd_sink.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>

#include "absl/strings/str_cat.h"
#include "client/net/host_port.h"
#include "client/net/socket_address.h"
#include "sinks/metric.h"

namespace metlog {
namespace {

// The largest UDP payload over IPv4 (65535 - 8 UDP - 20 IP header bytes).
constexpr uint32_t kMaxUdpPayloadBytes = 65507;

// statsd's line syntax reserves these; a name containing them would split
// or corrupt the line.
std::string SafeName(std::string name) {
  for (char& c : name) {
    if (c == ':' || c == '|' || c == '@' || c == '\n' || c == ' ') c = '_';
  }
  return name;
}

// A set member ends at '|' and a line at '\n', and Etsy statsd splits a
// line's values at ':': members holding them are sent with '_' instead.
std::string SafeMember(std::string member) {
  for (char& c : member) {
    if (c == ':' || c == '|' || c == '\n') c = '_';
  }
  return member;
}

// The largest UDP payload over IPv4: no datagram carries a longer line.
constexpr size_t kMaxUdpPayload = 65507;

}  // namespace

StatsdSink::StatsdSink(const sinks::StatsdOptions& options)
    : options_(options) {}

StatsdSink::~StatsdSink() { Stop(); }

absl::Status StatsdSink::Start() {
  Stop();
  absl::StatusOr<int> fd = ConnectedUdpSocket(options_.address());
  if (!fd.ok()) {
    const std::string error = absl::StrCat("statsd: ", fd.status().message());
    return absl::IsInvalidArgument(fd.status())
               ? absl::InvalidArgumentError(error)
               : TransientError(error);
  }
  fd_ = *fd;
  return absl::OkStatus();
}

std::vector<std::string> StatsdSink::Lines(const MessageView& message) const {
  std::optional<Metric> metric = ReadMetric(message);
  if (!metric.has_value()) return {};
  std::optional<std::string> name =
      RenderName(options_.name_template(), message);
  if (!name.has_value() || name->empty()) return {};
  const std::string full_name =
      SafeName(absl::StrCat(options_.prefix(), *name));
  const std::string sampled =
      metric->rate < 1.0 ? absl::StrCat("|@", MetricNumber(metric->rate)) : "";
  const std::string value = MetricNumber(metric->value);
  switch (metric->kind) {
    case Metric::Kind::kCounter:
      return {absl::StrCat(full_name, ":", value, "|c", sampled)};
    case Metric::Kind::kTimer:
    case Metric::Kind::kHistogram:
      // Etsy statsd has no "h" (it would count the line as a counter): a
      // histogram is sent as the timer, statsd's one distribution type.
      return {absl::StrCat(full_name, ":", value, "|ms", sampled)};
    case Metric::Kind::kGauge:
      if (metric->delta) {
        // statsd reads an explicit sign as a change to the current value.
        return {absl::StrCat(full_name, ":", value[0] == '-' ? "" : "+", value,
                             "|g")};
      }
      if (value[0] == '-') {
        return {absl::StrCat(full_name, ":0|g"),
                absl::StrCat(full_name, ":", value, "|g")};
      }
      return {absl::StrCat(full_name, ":", value, "|g")};
    case Metric::Kind::kSet:
      return {absl::StrCat(full_name, ":", SafeMember(metric->member), "|s")};
  }
  return {};
}

absl::Status StatsdSink::SendDatagram(const std::string& datagram,
                                      absl::Time deadline) {
  for (;;) {
    if (send(fd_, datagram.data(), datagram.size(), MSG_DONTWAIT) >= 0) {
      return absl::OkStatus();
    }
    const int error = errno;
    if (error == EINTR) continue;
    if (error == EAGAIN || error == EWOULDBLOCK) {
      // The socket's send buffer is full: wait for room until the deadline.
      pollfd writable{fd_, POLLOUT, 0};
      const int64_t wait_ms = std::max<int64_t>(
          0, absl::ToInt64Milliseconds(deadline - absl::Now()));
      if (poll(&writable, 1,
               static_cast<int>(std::min<int64_t>(wait_ms, 1 << 30))) > 0) {
        continue;
      }
      return TransientError(
          absl::StrCat("statsd: send to ", options_.address(), ": timed out"));
    }
    return ErrnoError(error,
                      absl::StrCat("statsd: send to ", options_.address()));
  }
}

absl::Status StatsdSink::Write(absl::Span<const MessageView> batch,
                               absl::Time deadline) {
  if (fd_ < 0) {
    if (absl::Status status = Start(); !status.ok()) return status;
  }
  uint64_t unusable = 0;
  std::string datagram;
  for (const MessageView& message : batch) {
    std::vector<std::string> lines = Lines(message);
    // Left out and counted rather than failing the whole batch with
    // EMSGSIZE, which no retry could cure.
    if (std::any_of(lines.begin(), lines.end(), [](const std::string& line) {
          return line.size() > kMaxUdpPayload;
        })) {
      lines.clear();
    }
    if (lines.empty()) ++unusable;
    for (const std::string& line : lines) {
      if (!datagram.empty() &&
          datagram.size() + 1 + line.size() > options_.max_datagram_bytes()) {
        if (absl::Status status = SendDatagram(datagram, deadline);
            !status.ok()) {
          return status;
        }
        datagram.clear();
      }
      if (!datagram.empty()) datagram.push_back('\n');
      datagram.append(line);
    }
  }
  if (!datagram.empty()) {
    if (absl::Status status = SendDatagram(datagram, deadline); !status.ok()) {
      return status;
    }
  }
  unusable_ += unusable;
  return absl::OkStatus();
}

uint64_t StatsdSink::TakeUnusable() { return std::exchange(unusable_, 0); }

void StatsdSink::Stop() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

absl::Status CheckStatsdOptions(const sinks::StatsdOptions& options) {
  if (absl::Status status =
          CheckHostPort("address", options.address(), PortZero::kRefused);
      !status.ok()) {
    return status;
  }
  if (options.max_datagram_bytes() < 1 ||
      options.max_datagram_bytes() > kMaxUdpPayloadBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_datagram_bytes is ", options.max_datagram_bytes(),
                     "; it must be in 1..", kMaxUdpPayloadBytes));
  }
  if (options.name_template().empty()) {
    return absl::InvalidArgumentError(
        "name_template is empty: no metric would have a name");
  }
  return absl::OkStatus();
}

namespace {
const SinkRegistration<sinks::StatsdOptions> kRegistration(
    [](const sinks::StatsdOptions& options)
        -> absl::StatusOr<std::unique_ptr<Sink>> {
      if (absl::Status status = CheckStatsdOptions(options); !status.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("statsd: ", status.message()));
      }
      return std::make_unique<StatsdSink>(options);
    });
}  // namespace

}  // namespace metlog
