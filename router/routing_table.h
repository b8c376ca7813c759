// What Dispatch reads: each sink's config, compiled matcher and runner.
// Built from a config at start and at each reload, where sinks whose config
// did not change keep their runner (and so their queue and connection).
#ifndef METLOG_ROUTER_ROUTING_TABLE_H_
#define METLOG_ROUTER_ROUTING_TABLE_H_

#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/config.pb.h"
#include "router/matcher.h"
#include "router/sink_runner.h"

namespace metlog {

struct Route {
  v1::SinkConfig config;
  std::shared_ptr<const Matcher> matcher;
  std::shared_ptr<SinkRunner> runner;
};

// Replaced whole on reload, never changed: Dispatch holds the one it
// started with.
struct RoutingTable {
  std::vector<Route> routes;
  // Whether any route's sink reads parsed messages (ReadsMessages()).
  bool any_reads_messages = false;
};

// Whether the sink's match compiles and the sink registry accepts its
// options (creating the sink, not starting it).
absl::Status CheckSink(const v1::SinkConfig& config);

// A table for `config`'s sinks: routes of `current` (may be null) whose
// config is unchanged are kept, the others are created and started. Any
// error fails the whole table, naming the sink.
absl::StatusOr<std::shared_ptr<const RoutingTable>> BuildRoutingTable(
    const v1::RouterConfig& config, const RoutingTable* current);

}  // namespace metlog

#endif  // METLOG_ROUTER_ROUTING_TABLE_H_
