// Keeps the README's option reference in step with the .proto files: every
// field of every config message the router and clients read (the router's,
// each registered input's and sink's options, the client's), followed through nested
// messages, must be a row of that message's table in README.md, no row may
// name a field that does not exist, and every field must carry a comment in
// its .proto. A new option therefore fails this test until it is documented.
//
// The README documents message `pkg.Name` under a heading that contains
// `pkg.Name` in backquotes; the table rows below it (up to the next heading)
// start with the field names in backquotes: "| `field` | default | meaning |".
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"
#include "proto/client_config.pb.h"
#include "proto/config.pb.h"
#include "router/input_registry.h"
#include "sinks/sink.h"

namespace metlog {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::DescriptorPool;
using google::protobuf::FieldDescriptor;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

// The backquoted words of `text`, in order.
std::vector<std::string> BackquotedWords(absl::string_view text) {
  std::vector<std::string> words;
  std::vector<absl::string_view> parts = absl::StrSplit(text, '`');
  for (size_t i = 1; i < parts.size(); i += 2) words.emplace_back(parts[i]);
  return words;
}

// Message full name -> the field names its README table lists.
std::map<std::string, std::set<std::string>> DocumentedFields(
    const std::string& readme) {
  std::map<std::string, std::set<std::string>> documented;
  std::vector<std::string> current;  // messages the current heading names
  for (absl::string_view line : absl::StrSplit(readme, '\n')) {
    if (absl::StartsWith(line, "#")) {
      current.clear();
      for (const std::string& word : BackquotedWords(line)) {
        if (absl::StrContains(word, '.')) {
          current.push_back(word);
          documented[word];  // a message without fields still has a section
        }
      }
      continue;
    }
    if (current.empty() || !absl::StartsWith(line, "| `")) continue;
    // "| `a` / `b` | ...": the words before the second '|'.
    const std::vector<absl::string_view> cells = absl::StrSplit(line, '|');
    for (const std::string& name : BackquotedWords(cells[1])) {
      for (const std::string& message : current) {
        documented[message].insert(name);
      }
    }
  }
  return documented;
}

// `root` and every message reachable through its message-typed fields,
// except protobuf's own (google.protobuf.Any carries a sink's options, which
// are roots of their own).
void CollectMessages(const Descriptor* root,
                     std::map<std::string, const Descriptor*>* out) {
  if (absl::StartsWith(root->full_name(), "google.protobuf.") ||
      !out->emplace(root->full_name(), root).second) {
    return;
  }
  for (int i = 0; i < root->field_count(); ++i) {
    const FieldDescriptor* field = root->field(i);
    if (field->type() == FieldDescriptor::TYPE_MESSAGE) {
      CollectMessages(field->message_type(), out);
    }
  }
}

std::map<std::string, const Descriptor*> ConfigMessages() {
  std::map<std::string, const Descriptor*> messages;
  CollectMessages(v1::RouterConfig::descriptor(), &messages);
  CollectMessages(v1::ClientConfig::descriptor(), &messages);
  std::vector<std::string> extensions = SinkRegistry::Global().KnownTypes();
  for (const std::string& type : InputRegistry::Global().KnownTypes()) {
    extensions.push_back(type);
  }
  for (const std::string& type : extensions) {
    const Descriptor* descriptor =
        DescriptorPool::generated_pool()->FindMessageTypeByName(type);
    if (descriptor != nullptr) CollectMessages(descriptor, &messages);
  }
  return messages;
}

TEST(ReadmeOptionsTest, TheCheckSeesEverySinkAndTheRouter) {
  const auto messages = ConfigMessages();
  EXPECT_TRUE(messages.count("metlog.v1.RouterConfig"));
  EXPECT_TRUE(messages.count("metlog.v1.QueueConfig"));
  EXPECT_TRUE(messages.count("metlog.sinks.FileOptions"));
  EXPECT_TRUE(messages.count("metlog.sinks.EncodingOptions"));
  EXPECT_TRUE(messages.count("metlog.v1.ZmqInputConfig"));
  EXPECT_TRUE(messages.count("metlog.v1.CurveServerConfig"));
  EXPECT_GE(SinkRegistry::Global().KnownTypes().size(), 8u);
  EXPECT_GE(InputRegistry::Global().KnownTypes().size(), 6u);
}

TEST(ReadmeOptionsTest, EveryOptionIsInItsMessagesTableAndNothingElse) {
  const auto documented = DocumentedFields(ReadFile("README.md"));
  ASSERT_FALSE(documented.empty()) << "README.md not found or has no tables";
  for (const auto& [name, descriptor] : ConfigMessages()) {
    const auto section = documented.find(name);
    if (section == documented.end()) {
      ADD_FAILURE() << "README.md has no section for `" << name
                    << "`: add a heading naming it in backquotes and a table "
                       "with a row per field";
      continue;
    }
    std::set<std::string> fields;
    for (int i = 0; i < descriptor->field_count(); ++i) {
      fields.insert(descriptor->field(i)->name());
    }
    for (const std::string& field : fields) {
      EXPECT_TRUE(section->second.count(field))
          << "README.md's table for `" << name << "` has no row for `"
          << field << "`";
    }
    for (const std::string& row : section->second) {
      EXPECT_TRUE(fields.count(row))
          << "README.md's table for `" << name << "` lists `" << row
          << "`, which is not a field of it (" << absl::StrJoin(fields, ", ")
          << ")";
    }
  }
}

// True when the line declaring `field` inside `message`'s block of a .proto
// source is preceded by a comment line or ends with one.
bool FieldHasComment(const std::string& proto_source,
                     const std::string& message, const std::string& field) {
  std::vector<std::string> lines = absl::StrSplit(proto_source, '\n');
  int depth = -1;  // brace depth inside the message; -1 outside it
  for (size_t i = 0; i < lines.size(); ++i) {
    const absl::string_view line = absl::StripAsciiWhitespace(lines[i]);
    if (depth < 0) {
      if (absl::StartsWith(line, "message " + message + " ") ||
          line == "message " + message + " {") {
        depth = 0;
      }
      continue;
    }
    for (char c : line) depth += c == '{' ? 1 : c == '}' ? -1 : 0;
    if (depth < 0) return false;  // the message ended
    std::vector<absl::string_view> words =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    for (size_t w = 0; w + 1 < words.size(); ++w) {
      if (words[w] == field && absl::StartsWith(words[w + 1], "=")) {
        if (absl::StrContains(line, "//")) return true;
        return i > 0 &&
               absl::StartsWith(absl::StripAsciiWhitespace(lines[i - 1]), "//");
      }
    }
  }
  return false;
}

TEST(ReadmeOptionsTest, EveryOptionHasACommentInItsProto) {
  for (const auto& [name, descriptor] : ConfigMessages()) {
    const std::string path = descriptor->file()->name();
    const std::string source = ReadFile(path);
    if (source.empty()) {
      ADD_FAILURE() << "cannot read " << path
                    << ": add it to readme_options_test's data";
      continue;
    }
    for (int i = 0; i < descriptor->field_count(); ++i) {
      const std::string field = descriptor->field(i)->name();
      EXPECT_TRUE(FieldHasComment(source, descriptor->name(), field))
          << path << ": field `" << field << "` of " << name
          << " has no comment saying what it does";
    }
  }
}

}  // namespace
}  // namespace metlog
