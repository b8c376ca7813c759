// Heka's stream framing over TCP (see heka_stream.h), so a Heka or
// Hindsight TcpOutput can forward to the router. One thread polls the
// listener and every connection. Bounded: connections (beyond the limit
// they are closed at once), bytes held per connection (one frame), time a
// connection may stay silent, and time a frame may take to arrive whole.
#ifndef METLOG_ROUTER_INPUTS_HEKA_HEKA_INPUT_H_
#define METLOG_ROUTER_INPUTS_HEKA_HEKA_INPUT_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "proto/config.pb.h"
#include "router/input.h"
#include "router/inputs/heka/heka_input.pb.h"
#include "router/packet_verifier.h"

namespace metlog {

class HekaInput : public Input {
 public:
  // Binds and listens now. `keys` (may be null) check frames' HMACs.
  static absl::StatusOr<std::unique_ptr<HekaInput>> Create(
      std::string name, const v1::HekaInputConfig& config,
      const v1::LimitsConfig& limits, std::shared_ptr<const SignerKeys> keys,
      bool require_signature, Dispatcher* dispatcher);
  ~HekaInput() override;

  void Start() override;
  // Stops between two reads and closes every connection; what peers had
  // sent that the router had not read yet is theirs to resend.
  void Stop(absl::Time deadline) override;
  std::string address() const override { return address_; }

 private:
  HekaInput(std::string name, int fd, const v1::HekaInputConfig& config,
            const v1::LimitsConfig& limits,
            std::shared_ptr<const SignerKeys> keys, bool require_signature,
            Dispatcher* dispatcher);
  void Run();

  const int listener_;
  std::string address_;
  const v1::HekaInputConfig config_;
  const v1::LimitsConfig limits_;
  const std::shared_ptr<const SignerKeys> keys_;
  const bool require_signature_;
  Dispatcher* const dispatcher_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace metlog

#endif  // METLOG_ROUTER_INPUTS_HEKA_HEKA_INPUT_H_
