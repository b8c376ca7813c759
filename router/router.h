// The router: inputs decode packets, every sink's matcher is evaluated, and
// each message is queued (shared, not copied) for every sink that matched.
// The core knows inputs only through router/input_registry.h and sinks
// through sinks/sink.h; the binary links the kinds it ships.
//
// Its parts, one file each: router.cc (creation, start, stop),
// routing_table.cc (sinks compiled into the table Dispatch reads),
// router_reload.cc (swapping the table, retiring replaced sinks),
// router_dispatch.cc (the data path: match and queue), router_tails.cc
// (live views), router_stats.cc (counters, and the periodic message about
// the router itself).
#ifndef METLOG_ROUTER_ROUTER_H_
#define METLOG_ROUTER_ROUTER_H_

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "proto/admin.pb.h"
#include "proto/config.pb.h"
#include "router/admin_publish.h"
#include "router/input.h"
#include "router/matcher.h"
#include "router/routing_table.h"
#include "router/sink_runner.h"
#include "router/tail.h"

namespace metlog {

class Router : public Dispatcher {
 public:
  // Everything Create checks short of binding ports and starting sinks:
  // matchers compile, every sink's options are known and valid. (Inputs'
  // options are checked when the config is loaded, config_loader.h.)
  static absl::Status Check(const v1::RouterConfig& config);

  // Compiles matchers, creates and starts sinks, creates and binds inputs
  // through the InputRegistry. Inputs do not receive until Start(). Any
  // error (bad match, unknown sink or input type, port in use) fails the
  // whole creation with a message naming the culprit.
  static absl::StatusOr<std::unique_ptr<Router>> Create(
      const v1::RouterConfig& config);
  ~Router() override;

  void Start();

  // Stops inputs, lets sinks drain, stops them, all within the configured
  // shutdown deadline: inputs waiting on a BLOCK queue, retries and writes
  // are cut short at it. Returns how many messages could not be
  // delivered. Idempotent.
  uint64_t Stop();

  // Applies a new config without losing queued messages: sinks whose config
  // is unchanged keep their queue and connection; a changed or removed sink
  // is drained into its old instance (within the shutdown deadline, in the
  // background: Reload does not wait for it; Stats lists it as RETIRING)
  // while new messages already go to the new one. Inputs, limits, the admin
  // address and the stats interval need a restart: a config changing them
  // is rejected, as is one that fails Check, and any reload once Stop has
  // begun; either way the running config stays.
  absl::Status Reload(const v1::RouterConfig& config);

  // Asks every sink to reopen its files (SIGHUP, for logrotate).
  void ReopenSinks();

  // Routes messages; returns how many (message, sink) deliveries a full
  // queue refused, and counts messages no sink matched. Thread-safe; with
  // BLOCK overflow it may wait (never past the shutdown deadline). Sinks with
  // a `signers` list take only packets `signer` is in.
  using Dispatcher::Dispatch;
  uint64_t Dispatch(absl::Span<const PacketRef> packets,
                    absl::string_view signer) override;

  // Opens a live view of traffic matching `matcher` (compiled from
  // `match`); close it with Tail::Close and RemoveTail.
  std::shared_ptr<Tail> AddTail(std::string match, Matcher matcher,
                                TailBounds bounds);
  void RemoveTail(const std::shared_ptr<Tail>& tail);

  v1::StatsResponse Stats() const;
  // "name address" of each input, for the start-up log.
  std::vector<std::string> InputAddresses() const;
  absl::Duration uptime() const { return absl::Now() - started_; }

  // Admin.Publish's handler, when an input serves it on the admin port;
  // for AdminService.
  const AdminPublish& admin_publish() const { return admin_publish_; }

  // Counts the admin server's calls refused for want of a valid TLS client
  // certificate (AdminServerCredentials adds to it); Stats reports it as
  // admin_clients_refused.
  std::shared_ptr<std::atomic<uint64_t>> admin_clients_refused() const {
    return admin_clients_refused_;
  }

 private:
  // A sink instance a reload took out of the table, draining.
  struct Retiring {
    std::string name;
    std::shared_ptr<SinkRunner> runner;
  };
  // A stopped instance whose counts may still grow: a Dispatch call still
  // holding the table it came from can have it refuse a message.
  struct Stopped {
    std::string name;
    std::shared_ptr<SinkRunner> runner;
    std::weak_ptr<const RoutingTable> table;
  };
  // A background drain of the instances one reload retired.
  struct Retirement {
    std::thread thread;
    std::shared_ptr<absl::Notification> done;
  };

  explicit Router(const v1::RouterConfig& config);

  std::shared_ptr<const RoutingTable> table() const;
  // Waits (until `deadline` or Stop) for Dispatch calls still holding
  // `old_table` to end, stops `retired` by `deadline` and keeps their
  // counts under their names.
  void Retire(std::shared_ptr<const RoutingTable> old_table,
              std::vector<Retiring> retired, absl::Time deadline);
  // Dispatch, counting messages no sink matched when `count_unmatched`.
  uint64_t RouteMessages(absl::Span<const PacketRef> packets,
                         absl::string_view signer, bool count_unmatched);
  // Hands every message of `packets` to the open tails.
  void OfferToTails(absl::Span<const PacketRef> packets);
  // Routes a message about the router itself every stats interval.
  void ReportStats();

  absl::Mutex reload_mu_;  // serialises Reload and Stop
  v1::RouterConfig config_ ABSL_GUARDED_BY(reload_mu_);
  std::vector<Retirement> retirements_ ABSL_GUARDED_BY(reload_mu_);
  // Held while the table is swapped and the retired instances listed, and
  // while Stats reads both, so an instance is never counted twice or not
  // at all. Taken before table_mu_.
  mutable absl::Mutex retiring_mu_;
  std::vector<Retiring> retiring_ ABSL_GUARDED_BY(retiring_mu_);
  std::vector<Stopped> stopped_instances_ ABSL_GUARDED_BY(retiring_mu_);
  // Final counts of stopped instances no table refers to any more, by sink
  // name (moved here from stopped_instances_ at each reload).
  std::map<std::string, SinkRunnerStats> retired_totals_
      ABSL_GUARDED_BY(retiring_mu_);
  mutable absl::Mutex table_mu_;
  std::shared_ptr<const RoutingTable> table_ ABSL_GUARDED_BY(table_mu_);
  AdminPublish admin_publish_;
  std::vector<std::unique_ptr<Input>> inputs_;
  std::atomic<uint64_t> unmatched_{0};
  const std::shared_ptr<std::atomic<uint64_t>> admin_clients_refused_ =
      std::make_shared<std::atomic<uint64_t>>(0);

  mutable absl::Mutex tails_mu_;
  std::vector<std::shared_ptr<Tail>> tails_ ABSL_GUARDED_BY(tails_mu_);
  std::atomic<int> tail_count_{0};

  const absl::Time started_ = absl::Now();
  absl::Notification stopping_;
  std::thread stats_thread_;
  bool stopped_ ABSL_GUARDED_BY(reload_mu_) = false;
};

}  // namespace metlog

#endif  // METLOG_ROUTER_ROUTER_H_
