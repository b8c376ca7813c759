#include "router/config_loader.h"

#include <fstream>
#include <sstream>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "sinks/sink.h"

namespace metlog {
namespace {

constexpr absl::string_view kDefaultConfig = R"pb(
  inputs { name: "zmq" zmq { endpoint: "tcp://127.0.0.1:5565" } }
  sinks {
    name: "console"
    match: "TRUE"
    options {
      [type.googleapis.com/metlog.sinks.ConsoleOptions] { format: TEXT }
    }
  }
)pb";

// Collects the parser's complaints as "source:line:column: message" with
// 1-based lines and columns, as editors expect.
class LineColumnErrors : public google::protobuf::io::ErrorCollector {
 public:
  explicit LineColumnErrors(absl::string_view source) : source_(source) {}

  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    errors_.push_back(
        absl::StrCat(source_, ":", line + 1, ":", column + 1, ": ", message));
  }

  void AddWarning(int line, google::protobuf::io::ColumnNumber column,
                  const std::string& message) override {
    AddError(line, column, absl::StrCat("warning: ", message));
  }

  std::string Text() const { return absl::StrJoin(errors_, "\n"); }

 private:
  std::string source_;
  std::vector<std::string> errors_;
};

absl::Status Validate(const v1::RouterConfig& config,
                      absl::string_view source) {
  if (config.inputs_size() == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": no inputs: add e.g. inputs { zmq {} }"));
  }
  for (const v1::InputConfig& input : config.inputs()) {
    if (input.kind_case() == v1::InputConfig::KIND_NOT_SET) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ": input \"", input.name(), "\" names no kind (zmq)"));
    }
  }
  if (config.sinks_size() == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": no sinks: messages would go nowhere"));
  }
  absl::flat_hash_set<std::string> names;
  for (const v1::SinkConfig& sink : config.sinks()) {
    if (sink.name().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": every sink needs a name"));
    }
    if (!names.insert(sink.name()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": sink name \"", sink.name(), "\" is used twice"));
    }
    if (!sink.has_options()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": sink \"", sink.name(),
                       "\" has no options; known types: ",
                       absl::StrJoin(SinkRegistry::Global().KnownTypes(), ", ")));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<v1::RouterConfig> ParseRouterConfig(absl::string_view text,
                                                   absl::string_view source) {
  v1::RouterConfig config;
  LineColumnErrors errors(source);
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(std::string(text), &config)) {
    return absl::InvalidArgumentError(errors.Text());
  }
  if (absl::Status status = Validate(config, source); !status.ok()) {
    return status;
  }
  return config;
}

absl::StatusOr<v1::RouterConfig> LoadRouterConfig(const std::string& path) {
  std::ifstream file(path);
  if (!file) {
    return absl::NotFoundError(absl::StrCat("cannot read config ", path));
  }
  std::stringstream text;
  text << file.rdbuf();
  return ParseRouterConfig(text.str(), path);
}

v1::RouterConfig DefaultRouterConfig() {
  absl::StatusOr<v1::RouterConfig> config =
      ParseRouterConfig(kDefaultConfig, "embedded default");
  // The embedded text is fixed at build time and covered by a test.
  return config.ok() ? *std::move(config) : v1::RouterConfig();
}

}  // namespace metlog
