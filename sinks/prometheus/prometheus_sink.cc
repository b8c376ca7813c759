#include "sinks/prometheus/prometheus_sink.h"

#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/net/host_port.h"
#include "httplib.h"

namespace metlog {
namespace {

const std::vector<double> kDefaultBucketsMs = {5,   10,   25,   50,   100,  250,
                                               500, 1000, 2500, 5000, 10000};

// Prometheus names match [a-zA-Z_:][a-zA-Z0-9_:]*; label names the same
// without ':'.
std::string SafeName(absl::string_view name, bool allow_colon = true) {
  std::string out;
  for (char c : name) {
    const bool ok =
        absl::ascii_isalnum(c) || c == '_' || (allow_colon && c == ':');
    out.push_back(ok ? c : '_');
  }
  if (out.empty() || absl::ascii_isdigit(out[0])) out.insert(0, "_");
  return out;
}

std::string EscapeLabelValue(absl::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') {
      out.append("\\\\");
    } else if (c == '"') {
      out.append("\\\"");
    } else if (c == '\n') {
      out.append("\\n");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// Adds le="…" to a rendered label set.
std::string WithLe(const std::string& labels, const std::string& le) {
  if (labels.empty()) return absl::StrCat("{le=\"", le, "\"}");
  return absl::StrCat(labels.substr(0, labels.size() - 1), ",le=\"", le, "\"}");
}

}  // namespace

absl::Status CheckPrometheusOptions(const sinks::PrometheusOptions& options) {
  if (absl::Status status = CheckHostPort(
          "listen_address", options.listen_address(), PortZero::kAllowed);
      !status.ok()) {
    return status;
  }
  if (options.name_template().empty()) {
    return absl::InvalidArgumentError(
        "name_template is empty: no metric would have a name");
  }
  if (options.max_series() == 0) {
    return absl::InvalidArgumentError(
        "max_series is 0: every sample would be refused");
  }
  // Label names as exposed; two fields must not share one, and none may be
  // a name Prometheus gives a meaning.
  absl::flat_hash_map<std::string, std::string> labels;
  for (const std::string& field : options.label_fields()) {
    const std::string label = SafeName(field, /*allow_colon=*/false);
    const std::string named =
        absl::StrCat("label_fields \"", field, "\" becomes label \"", label);
    if (label == "le") {
      return absl::InvalidArgumentError(
          absl::StrCat(named, "\", which histograms use for their buckets"));
    }
    if (absl::StartsWith(label, "__")) {
      return absl::InvalidArgumentError(absl::StrCat(
          named, "\"; names starting with __ are Prometheus's own"));
    }
    if (auto [it, added] = labels.emplace(label, field); !added) {
      return absl::InvalidArgumentError(
          absl::StrCat("label_fields \"", it->second, "\" and \"", field,
                       "\" both become label \"", label, "\""));
    }
  }
  for (int i = 0; i < options.buckets_ms_size(); ++i) {
    const double bound = options.buckets_ms(i);
    if (!std::isfinite(bound) || bound < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("buckets_ms holds ", bound,
                       "; bounds must be finite and not negative"));
    }
    if (i > 0 && bound <= options.buckets_ms(i - 1)) {
      return absl::InvalidArgumentError(
          absl::StrCat("buckets_ms must increase: ", bound, " follows ",
                       options.buckets_ms(i - 1)));
    }
  }
  return absl::OkStatus();
}

PrometheusSink::PrometheusSink(const sinks::PrometheusOptions& options)
    : options_(options),
      buckets_(options.buckets_ms().empty()
                   ? kDefaultBucketsMs
                   : std::vector<double>(options.buckets_ms().begin(),
                                         options.buckets_ms().end())) {}

PrometheusSink::~PrometheusSink() { Stop(); }

absl::Status PrometheusSink::Start() {
  const std::string& address = options_.listen_address();
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "prometheus: listen_address \"", address, "\" is not host:port"));
  }
  server_ = std::make_unique<httplib::Server>();
  // httplib's default adds SO_REUSEPORT, with which a second router binds
  // the same port and silently takes half the scrapes. SO_REUSEADDR alone
  // still lets a restart bind while old connections linger in TIME_WAIT,
  // and a port in use fails to bind.
  server_->set_socket_options([](socket_t socket) {
    const int yes = 1;
    setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  server_->Get(
      "/metrics", [this](const httplib::Request&, httplib::Response& response) {
        response.set_content(Exposition(), "text/plain; version=0.0.4");
      });
  const std::string host = address.substr(0, colon);
  port_ = port == 0 ? server_->bind_to_any_port(host)
                    : (server_->bind_to_port(host, port) ? port : -1);
  if (port_ <= 0) {
    server_.reset();
    // Another process holds the port; it may go away.
    return TransientError(absl::StrCat(
        "prometheus: cannot listen on ", address,
        " (in use by another process, or not an address of this host)"));
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // stop() before the listen loop runs would be lost and the loop would
  // never end; wait for it.
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (!server_->is_running() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  if (!server_->is_running()) {
    Stop();
    return TransientError(
        absl::StrCat("prometheus: cannot serve on ", address));
  }
  return absl::OkStatus();
}

std::string PrometheusSink::Labels(const MessageView& message) const {
  if (options_.label_fields().empty()) return "";
  std::string labels = "{";
  for (const std::string& key : options_.label_fields()) {
    std::string value;
    if (key == "logger") {
      value = std::string(message.wire().logger);
    } else if (key == "hostname") {
      value = std::string(message.wire().hostname);
    } else {
      value = FieldText(message, key).value_or("");
    }
    if (labels.size() > 1) labels.push_back(',');
    absl::StrAppend(&labels, SafeName(key, false), "=\"",
                    EscapeLabelValue(value), "\"");
  }
  labels.push_back('}');
  return labels;
}

bool PrometheusSink::Apply(const MessageView& message) {
  std::optional<Metric> metric = ReadMetric(message);
  if (!metric.has_value()) return false;
  std::optional<std::string> rendered =
      RenderName(options_.name_template(), message);
  if (!rendered.has_value() || rendered->empty()) return false;
  std::string name = SafeName(absl::StrCat(options_.prefix(), *rendered));
  if (metric->kind == Metric::Kind::kCounter) absl::StrAppend(&name, "_total");
  if (metric->kind == Metric::Kind::kTimer)
    absl::StrAppend(&name, "_milliseconds");

  Family& family = families_[name];
  if (family.series.empty()) family.kind = metric->kind;
  if (family.kind != metric->kind) return false;  // one name, one type
  const std::string labels = Labels(message);
  auto it = family.series.find(labels);
  if (it == family.series.end()) {
    if (series_count_ >= options_.max_series()) {
      ++series_refused_;
      if (family.series.empty()) families_.erase(name);
      return true;  // used: counted as refused, not unusable
    }
    ++series_count_;
    it = family.series.emplace(labels, Series{labels}).first;
    it->second.bucket_counts.assign(buckets_.size(), 0);
  }
  Series& series = it->second;
  const double weight = 1.0 / metric->rate;  // sampled samples stand for more
  switch (metric->kind) {
    case Metric::Kind::kCounter:
      series.value += metric->value * weight;
      break;
    case Metric::Kind::kGauge:
      series.value =
          metric->delta ? series.value + metric->value : metric->value;
      break;
    case Metric::Kind::kSet:
      switch (
          series.members.Add(metric->member, set_members_ < kMaxSetMembers)) {
        case DistinctMembers::Added::kNew:
          ++set_members_;
          break;
        case DistinctMembers::Added::kKnown:
          break;
        case DistinctMembers::Added::kRefused:
          ++set_members_refused_;
          break;
      }
      break;
    case Metric::Kind::kTimer:
    case Metric::Kind::kHistogram: {
      series.sum += metric->value * weight;
      series.count += weight;
      const auto bucket =
          std::lower_bound(buckets_.begin(), buckets_.end(), metric->value);
      if (bucket != buckets_.end()) {
        series.bucket_counts[bucket - buckets_.begin()] += weight;
      }
      break;
    }
  }
  return true;
}

// Updates memory only: nothing here waits on a peer.
absl::Status PrometheusSink::Write(absl::Span<const MessageView> batch,
                                   absl::Time /*deadline*/) {
  if (server_ == nullptr) {
    if (absl::Status status = Start(); !status.ok()) return status;
  }
  absl::MutexLock lock(&mu_);
  for (const MessageView& message : batch) {
    if (!Apply(message)) ++unusable_;
  }
  return absl::OkStatus();
}

uint64_t PrometheusSink::TakeUnusable() { return std::exchange(unusable_, 0); }

std::string PrometheusSink::Exposition() const {
  absl::MutexLock lock(&mu_);
  std::string out;
  for (const auto& [name, family] : families_) {
    switch (family.kind) {
      case Metric::Kind::kCounter:
      case Metric::Kind::kGauge:
        absl::StrAppend(
            &out, "# TYPE ", name, " ",
            family.kind == Metric::Kind::kCounter ? "counter" : "gauge", "\n");
        for (const auto& [labels, series] : family.series) {
          absl::StrAppend(&out, name, labels, " ", MetricNumber(series.value),
                          "\n");
        }
        break;
      case Metric::Kind::kSet:
        absl::StrAppend(&out, "# TYPE ", name, " gauge\n");
        for (const auto& [labels, series] : family.series) {
          absl::StrAppend(&out, name, labels, " ", series.members.count(),
                          "\n");
        }
        break;
      case Metric::Kind::kTimer:
      case Metric::Kind::kHistogram: {
        const bool histogram =
            options_.timer_type() == sinks::PrometheusOptions::HISTOGRAM;
        absl::StrAppend(&out, "# TYPE ", name, " ",
                        histogram ? "histogram" : "summary", "\n");
        for (const auto& [labels, series] : family.series) {
          if (histogram) {
            double cumulative = 0;
            for (size_t i = 0; i < buckets_.size(); ++i) {
              cumulative += series.bucket_counts[i];
              absl::StrAppend(&out, name, "_bucket",
                              WithLe(labels, MetricNumber(buckets_[i])), " ",
                              MetricNumber(cumulative), "\n");
            }
            absl::StrAppend(&out, name, "_bucket", WithLe(labels, "+Inf"), " ",
                            MetricNumber(series.count), "\n");
          }
          absl::StrAppend(&out, name, "_sum", labels, " ",
                          MetricNumber(series.sum), "\n", name, "_count",
                          labels, " ", MetricNumber(series.count), "\n");
        }
        break;
      }
    }
  }
  absl::StrAppend(&out,
                  "# TYPE metlog_prometheus_series_refused_total counter\n"
                  "metlog_prometheus_series_refused_total ",
                  series_refused_, "\n");
  absl::StrAppend(&out,
                  "# TYPE metlog_prometheus_set_members_refused_total counter\n"
                  "metlog_prometheus_set_members_refused_total ",
                  set_members_refused_, "\n");
  return out;
}

void PrometheusSink::Stop() {
  if (server_ != nullptr) server_->stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
}

namespace {
const SinkRegistration<sinks::PrometheusOptions> kRegistration(
    [](const sinks::PrometheusOptions& options)
        -> absl::StatusOr<std::unique_ptr<Sink>> {
      if (absl::Status status = CheckPrometheusOptions(options); !status.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("prometheus: ", status.message()));
      }
      return std::make_unique<PrometheusSink>(options);
    });
}  // namespace

}  // namespace metlog
