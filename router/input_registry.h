// The registry the router creates inputs through, as it creates sinks
// (sinks/sink.h): keyed by the full name of the input's options message,
// which is the type inside InputConfig.options. The router core knows only
// this header and router/input.h. Each input kind is a package under
// router/inputs/<name>/ that registers an InputFactory at static
// initialisation (alwayslink), and the binary lists the kinds it ships
// (//router/inputs:all).
#ifndef METLOG_ROUTER_INPUT_REGISTRY_H_
#define METLOG_ROUTER_INPUT_REGISTRY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/message.h"
#include "proto/config.pb.h"
#include "router/input.h"
#include "router/packet_verifier.h"

namespace metlog {

class AdminPublish;

// What the router gives every input besides its own options.
struct InputEnvironment {
  // The configured name, or the kind's default name.
  std::string name;
  v1::LimitsConfig limits;
  // The keys of RouterConfig.signers; null when there are none.
  std::shared_ptr<const SignerKeys> signer_keys;
  // InputConfig.require_signature.
  bool require_signature = false;
  // Where decoded messages go.
  Dispatcher* dispatcher = nullptr;
  // Where an input answering Admin.Publish on the admin port registers;
  // null when the admin service is off.
  AdminPublish* admin_publish = nullptr;

  // Checks Packet signatures as signer_keys and require_signature say;
  // null when neither asks for a check.
  std::shared_ptr<const PacketVerifier> PacketVerifierOrNull() const;
};

// Where an input takes packets from, for the warning about inputs that
// anyone beyond this host may send to (router/input_exposure.h).
struct InputReach {
  // What it listens on (host:port, or a ZeroMQ endpoint); empty when it
  // has no listener of its own (Publish on the admin port).
  std::string address;
  // False when the input connects out rather than listening.
  bool listens = true;
  // Whether require_signature protects it (formats without signatures,
  // such as statsd lines, cannot be).
  bool signable = true;
  // Whether it can admit listed clients only (a ZeroMQ input's curve), and
  // whether it is configured to.
  bool can_authenticate = false;
  bool authenticated = false;
};

// For factories' Check: InvalidArgument "OPTION is VALUE; it must be in
// LOWEST..HIGHEST".
absl::Status OptionOutOfRange(absl::string_view option, int64_t value,
                              int64_t lowest, int64_t highest);

// Makes inputs of one kind. Use TypedInputFactory.
class InputFactory {
 public:
  virtual ~InputFactory() = default;

  // The options message this kind is configured with.
  virtual const google::protobuf::Message& default_options() const = 0;
  // Names inputs of this kind the config leaves unnamed ("zmq").
  virtual std::string default_name() const = 0;
  // Everything Create would refuse short of binding: forms and ranges of
  // options, options that contradict `input` or `router`. What `router
  // --check` reports. The error need not name the input.
  virtual absl::Status Check(const google::protobuf::Message& options,
                             const v1::InputConfig& input,
                             const v1::RouterConfig& router) const = 0;
  virtual InputReach Reach(const google::protobuf::Message& options) const = 0;
  // Binds (or connects) now, so a bad address or a port in use fails the
  // router's start; the input receives from Start() on.
  virtual absl::StatusOr<std::unique_ptr<Input>> Create(
      const google::protobuf::Message& options,
      const InputEnvironment& environment) const = 0;
};

// An InputFactory whose options are `Options`; the registry hands it only
// messages of that type.
template <typename Options>
class TypedInputFactory : public InputFactory {
 public:
  const google::protobuf::Message& default_options() const final {
    return Options::default_instance();
  }
  absl::Status Check(const google::protobuf::Message& options,
                     const v1::InputConfig& input,
                     const v1::RouterConfig& router) const final {
    return CheckOptions(static_cast<const Options&>(options), input, router);
  }
  InputReach Reach(const google::protobuf::Message& options) const final {
    return ReachOf(static_cast<const Options&>(options));
  }
  absl::StatusOr<std::unique_ptr<Input>> Create(
      const google::protobuf::Message& options,
      const InputEnvironment& environment) const final {
    return CreateInput(static_cast<const Options&>(options), environment);
  }

 protected:
  virtual absl::Status CheckOptions(const Options& options,
                                    const v1::InputConfig& input,
                                    const v1::RouterConfig& router) const = 0;
  virtual InputReach ReachOf(const Options& options) const = 0;
  virtual absl::StatusOr<std::unique_ptr<Input>> CreateInput(
      const Options& options, const InputEnvironment& environment) const = 0;
};

// The input kinds linked into the program. Registration happens at static
// initialisation (InputRegistration); lookups after main() starts are
// read-only and thread-safe. Every error names the input:
//   input "in": decode_threads is 0; it must be in 1..64
class InputRegistry {
 public:
  static InputRegistry& Global();

  void Register(std::unique_ptr<InputFactory> factory);

  // The configured name, or the default name of the input's kind (the
  // options type's name when no kind is registered for it).
  std::string NameOf(const v1::InputConfig& input) const;

  // InvalidArgument when `input` has no options, their type is not
  // registered (the error lists the known types), they do not parse, or
  // the kind's Check refuses them.
  absl::Status Check(const v1::InputConfig& input,
                     const v1::RouterConfig& router) const;

  // Where a valid (Check) input takes packets from.
  absl::StatusOr<InputReach> Reach(const v1::InputConfig& input) const;

  // Creates the input; `environment.name` is filled from NameOf.
  absl::StatusOr<std::unique_ptr<Input>> Create(
      const v1::InputConfig& input, InputEnvironment environment) const;

  // Full names of every registered options type, sorted.
  std::vector<std::string> KnownTypes() const;

 private:
  struct Resolved {
    const InputFactory* factory;
    std::unique_ptr<google::protobuf::Message> options;
  };
  // The factory for `input`'s options type and the options unpacked.
  absl::StatusOr<Resolved> Resolve(const v1::InputConfig& input) const;
  const InputFactory* FactoryFor(const google::protobuf::Any& options) const;

  std::vector<std::unique_ptr<InputFactory>> factories_;
};

// Registers a factory at static initialisation, in the input's package:
//   const InputRegistration<ZmqInputFactory> kRegistration;
template <typename Factory>
class InputRegistration {
 public:
  InputRegistration() {
    InputRegistry::Global().Register(std::make_unique<Factory>());
  }
};

}  // namespace metlog

#endif  // METLOG_ROUTER_INPUT_REGISTRY_H_
