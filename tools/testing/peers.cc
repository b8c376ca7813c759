#include "tools/testing/peers.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <regex>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace metlog::testing {
namespace {

std::string PeersDir() {
  const char* dir = std::getenv("METLOG_PEERS_DIR");
  return dir != nullptr ? dir : "/opt/metlog-peers";
}

}  // namespace

absl::StatusOr<EtsyStatsd> EtsyStatsd::Start() {
  EtsyStatsd statsd;
  statsd.port_ = FreeUdpPort();
  statsd.mgmt_port_ = FreeTcpPort();
  const std::string config =
      TempPath(absl::StrCat("statsd_", statsd.port_, ".js"));
  std::ofstream(config) << absl::StrCat(
      "{ port: ", statsd.port_,
      ", address: '127.0.0.1', mgmt_port: ", statsd.mgmt_port_,
      ", mgmt_address: '127.0.0.1', backends: [], flushInterval: 3600000 }");
  auto process = PeerProcess::Start(
      absl::StrCat("statsd_", statsd.port_),
      {"/usr/bin/node", PeersDir() + "/node_modules/statsd/stats.js", config});
  if (!process.ok()) return process.status();
  statsd.process_.emplace(*std::move(process));
  if (absl::Status s = WaitForUdpPort(statsd.port_, *statsd.process_);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = WaitForTcpPort(statsd.mgmt_port_, *statsd.process_);
      !s.ok()) {
    return s;
  }
  return statsd;
}

std::string EtsyStatsd::ValueOf(const std::string& kind,
                                const std::string& name) const {
  const std::string key = absl::StrCat("'", name, "': ");
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  do {
    auto answer = TcpExchange(mgmt_port_, kind + "\n", "END");
    if (answer.ok()) {
      if (const size_t at = answer->find(key); at != std::string::npos) {
        const size_t start = at + key.size();
        const size_t end = (*answer)[start] == '['
                               ? answer->find(']', start) + 1
                               : answer->find_first_of(",\n }", start);
        return answer->substr(start, end - start);
      }
    }
    absl::SleepFor(absl::Milliseconds(50));
  } while (absl::Now() < deadline);
  return "";
}

absl::StatusOr<CarbonCache> CarbonCache::Start(std::vector<int> ports) {
  CarbonCache carbon;
  carbon.ports_ = ports.empty() ? std::vector<int>{FreeTcpPort(), FreeTcpPort(),
                                                   FreeTcpPort()}
                                : ports;
  carbon.dir_ = TempPath(absl::StrCat("carbon_", carbon.ports_[0]));
  for (const char* sub : {"", "/conf", "/storage", "/storage/whisper",
                          "/storage/log", "/storage/lists"}) {
    mkdir((carbon.dir_ + sub).c_str(), 0755);
  }
  std::ofstream(carbon.dir_ + "/conf/storage-schemas.conf")
      << "[everything]\npattern = .*\nretentions = 1s:1h\n";
  const std::string config = carbon.dir_ + "/conf/carbon.conf";
  // USER empty: the sandbox has no user to switch to.
  std::ofstream(config) << absl::StrCat(
      "[cache]\nUSER =\n", "STORAGE_DIR = ", carbon.dir_, "/storage\n",
      "LOCAL_DATA_DIR = ", carbon.dir_, "/storage/whisper\n",
      "WHITELISTS_DIR = ", carbon.dir_, "/storage/lists\n",
      "CONF_DIR = ", carbon.dir_, "/conf\n", "LOG_DIR = ", carbon.dir_,
      "/storage/log\n", "PID_DIR = ", carbon.dir_, "/storage\n",
      "LINE_RECEIVER_INTERFACE = 127.0.0.1\n",
      "LINE_RECEIVER_PORT = ", carbon.ports_[0], "\n",
      "PICKLE_RECEIVER_INTERFACE = 127.0.0.1\n",
      "PICKLE_RECEIVER_PORT = ", carbon.ports_[1], "\n",
      "CACHE_QUERY_INTERFACE = 127.0.0.1\n",
      "CACHE_QUERY_PORT = ", carbon.ports_[2], "\n",
      "ENABLE_UDP_LISTENER = False\nWHISPER_AUTOFLUSH = True\n",
      "MAX_CREATES_PER_MINUTE = inf\nMAX_UPDATES_PER_SECOND = inf\n",
      "CACHE_WRITE_STRATEGY = sorted\n");
  auto process =
      PeerProcess::Start(absl::StrCat("carbon_", carbon.ports_[0]),
                         {"/usr/bin/python3", "/usr/bin/carbon-cache",
                          "--config=" + config, "--nodaemon", "start"});
  if (!process.ok()) return process.status();
  carbon.process_.emplace(*std::move(process));
  if (absl::Status s = WaitForTcpPort(carbon.ports_[0], *carbon.process_);
      !s.ok()) {
    return s;
  }
  return carbon;
}

absl::Status CarbonCache::Stop() {
  if (!process_.has_value()) return absl::OkStatus();
  absl::StatusOr<int> status = process_->Stop();
  process_.reset();
  // carbon leaves its pid file, which would stop a restart in place.
  std::remove((dir_ + "/storage/carbon-cache-a.pid").c_str());
  return status.ok() ? absl::OkStatus() : status.status();
}

std::vector<double> CarbonCache::Values(const std::string& path,
                                        size_t count) const {
  const std::string file =
      absl::StrCat(dir_, "/storage/whisper/",
                   absl::StrReplaceAll(path, {{".", "/"}}), ".wsp");
  const std::string out = TempPath(absl::StrCat("whisper_", ports_[0], ".txt"));
  std::vector<double> values;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  do {
    values.clear();
    const std::string command =
        absl::StrCat("/usr/bin/python3 /usr/bin/whisper-fetch --from=",
                     absl::ToUnixSeconds(absl::Now()) - 3000, " ", file, " > ",
                     out, " 2>/dev/null");
    if (std::system(command.c_str()) == 0) {
      for (absl::string_view line : absl::StrSplit(ReadFile(out), '\n')) {
        std::vector<absl::string_view> parts =
            absl::StrSplit(line, '\t', absl::SkipEmpty());
        double value = 0;
        if (parts.size() == 2 && absl::SimpleAtod(parts[1], &value)) {
          values.push_back(value);
        }
      }
      if (values.size() >= count) break;
    }
    absl::SleepFor(absl::Milliseconds(200));
  } while (absl::Now() < deadline);
  return values;
}

absl::StatusOr<Prometheus> Prometheus::Start(const std::string& target) {
  Prometheus prometheus;
  prometheus.port_ = FreeTcpPort();
  const std::string dir =
      TempPath(absl::StrCat("prometheus_", prometheus.port_));
  mkdir(dir.c_str(), 0755);
  std::ofstream(dir + "/prometheus.yml") << absl::StrCat(
      "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n",
      "scrape_configs:\n  - job_name: metlog\n    static_configs:\n",
      "      - targets: ['", target, "']\n");
  auto process = PeerProcess::Start(
      absl::StrCat("prometheus_", prometheus.port_),
      {"/usr/bin/prometheus", "--config.file=" + dir + "/prometheus.yml",
       "--storage.tsdb.path=" + dir + "/data",
       absl::StrCat("--web.listen-address=127.0.0.1:", prometheus.port_)});
  if (!process.ok()) return process.status();
  prometheus.process_.emplace(*std::move(process));
  if (absl::Status s = WaitForTcpPort(prometheus.port_, *prometheus.process_);
      !s.ok()) {
    return s;
  }
  return prometheus;
}

std::optional<double> Prometheus::Query(const std::string& query) const {
  // The answer looks like ..."value":[1764085500.123,"42"]...
  static const std::regex kValue(R"re("value":\[[0-9.e+]+,"([^"]+)"\])re");
  std::string encoded;
  for (char c : query) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.') {
      encoded.push_back(c);
    } else {
      absl::StrAppend(
          &encoded, "%",
          absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
    }
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  do {
    auto body = HttpGet(port_, "/api/v1/query?query=" + encoded);
    std::smatch match;
    if (body.ok() && std::regex_search(*body, match, kValue)) {
      double value = 0;
      if (absl::SimpleAtod(match[1].str(), &value)) return value;
    }
    absl::SleepFor(absl::Milliseconds(250));
  } while (absl::Now() < deadline);
  return std::nullopt;
}

}  // namespace metlog::testing
