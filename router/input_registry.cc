#include "router/input_registry.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"

namespace metlog {
namespace {

absl::string_view TypeName(const google::protobuf::Any& options) {
  absl::string_view type_url = options.type_url();
  return type_url.substr(type_url.find_last_of('/') + 1);
}

}  // namespace

absl::Status OptionOutOfRange(absl::string_view option, int64_t value,
                              int64_t lowest, int64_t highest) {
  return absl::InvalidArgumentError(absl::StrCat(
      option, " is ", value, "; it must be in ", lowest, "..", highest));
}

std::shared_ptr<const PacketVerifier> InputEnvironment::PacketVerifierOrNull()
    const {
  if (!require_signature && signer_keys == nullptr) return nullptr;
  return std::make_shared<PacketVerifier>(signer_keys, require_signature);
}

InputRegistry& InputRegistry::Global() {
  static auto* registry = new InputRegistry();
  return *registry;
}

void InputRegistry::Register(std::unique_ptr<InputFactory> factory) {
  factories_.push_back(std::move(factory));
}

const InputFactory* InputRegistry::FactoryFor(
    const google::protobuf::Any& options) const {
  const absl::string_view type_name = TypeName(options);
  for (const auto& factory : factories_) {
    if (factory->default_options().GetDescriptor()->full_name() == type_name) {
      return factory.get();
    }
  }
  return nullptr;
}

std::string InputRegistry::NameOf(const v1::InputConfig& input) const {
  if (!input.name().empty()) return input.name();
  if (const InputFactory* factory = FactoryFor(input.options())) {
    return factory->default_name();
  }
  return std::string(TypeName(input.options()));
}

absl::StatusOr<InputRegistry::Resolved> InputRegistry::Resolve(
    const v1::InputConfig& input) const {
  const std::string prefix = absl::StrCat("input \"", NameOf(input), "\"");
  if (!input.has_options()) {
    return absl::InvalidArgumentError(absl::StrCat(
        prefix, " has no options; their type selects the input kind: ",
        absl::StrJoin(KnownTypes(), ", ")));
  }
  const InputFactory* factory = FactoryFor(input.options());
  if (factory == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, ": no input is registered for options type \"",
                     TypeName(input.options()),
                     "\"; known types: ", absl::StrJoin(KnownTypes(), ", ")));
  }
  std::unique_ptr<google::protobuf::Message> options(
      factory->default_options().New());
  if (!input.options().UnpackTo(options.get())) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, ": options of type ",
                     options->GetDescriptor()->full_name(), " do not parse"));
  }
  return Resolved{factory, std::move(options)};
}

absl::Status InputRegistry::Check(const v1::InputConfig& input,
                                  const v1::RouterConfig& router) const {
  absl::StatusOr<Resolved> resolved = Resolve(input);
  if (!resolved.ok()) return resolved.status();
  if (absl::Status status =
          resolved->factory->Check(*resolved->options, input, router);
      !status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("input \"", NameOf(input), "\": ", status.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<InputReach> InputRegistry::Reach(
    const v1::InputConfig& input) const {
  absl::StatusOr<Resolved> resolved = Resolve(input);
  if (!resolved.ok()) return resolved.status();
  return resolved->factory->Reach(*resolved->options);
}

absl::StatusOr<std::unique_ptr<Input>> InputRegistry::Create(
    const v1::InputConfig& input, InputEnvironment environment) const {
  absl::StatusOr<Resolved> resolved = Resolve(input);
  if (!resolved.ok()) return resolved.status();
  environment.name = NameOf(input);
  environment.require_signature = input.require_signature();
  return resolved->factory->Create(*resolved->options, environment);
}

std::vector<std::string> InputRegistry::KnownTypes() const {
  std::vector<std::string> names;
  for (const auto& factory : factories_) {
    names.push_back(factory->default_options().GetDescriptor()->full_name());
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace metlog
