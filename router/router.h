// The router: inputs decode packets, every sink's matcher is evaluated, and
// each message is queued (shared, not copied) for every sink that matched.
#ifndef METLOG_ROUTER_ROUTER_H_
#define METLOG_ROUTER_ROUTER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "proto/config.pb.h"
#include "router/input.h"
#include "router/matcher.h"
#include "router/sink_runner.h"

namespace metlog {

class Router : public Dispatcher {
 public:
  // Compiles matchers, creates and starts sinks, binds inputs. Inputs do not
  // receive until Start(). Any error (bad match, unknown sink type, port in
  // use) fails the whole creation with a message naming the culprit.
  static absl::StatusOr<std::unique_ptr<Router>> Create(
      const v1::RouterConfig& config);
  ~Router() override;

  // Everything Create checks short of binding ports and starting sinks:
  // matchers compile, every sink's options are known and valid.
  static absl::Status Check(const v1::RouterConfig& config);

  void Start();

  // Stops inputs, lets sinks drain for the configured deadline, stops them.
  // Returns how many messages could not be delivered. Idempotent.
  uint64_t Stop();

  void Dispatch(const std::vector<SizedMessage>& messages) override;

  // "name address" of each input, for the start-up log.
  std::vector<std::string> InputAddresses() const;

 private:
  struct Route {
    std::string name;
    Matcher matcher;
    std::unique_ptr<SinkRunner> runner;
  };

  explicit Router(const v1::RouterConfig& config) : config_(config) {}

  const v1::RouterConfig config_;
  // Fixed after Create(); Dispatch reads them from input threads.
  std::vector<Route> routes_;
  std::vector<std::unique_ptr<Input>> inputs_;
  bool stopped_ = false;
};

}  // namespace metlog

#endif  // METLOG_ROUTER_ROUTER_H_
