// Heka's message_matcher language, compiled once and evaluated per message
// without allocating:
//
//   Type == "timer" && Severity <= 4 || Fields[name] =~ /^db\./
//
// Variables: Uuid, Type, Logger, Payload, EnvVersion, Hostname (strings;
// Uuid in its 36-character text form), Timestamp, Severity, Pid (numbers),
// and Fields[name], Fields[name][field_index], Fields[name][field_index]
// [value_index] (both indexes default to 0). Operators: == != < <= > >=, and
// =~ !~ with an RE2 regex between slashes. && binds tighter than ||;
// parentheses group; TRUE and FALSE are constants, and also the values a
// boolean field compares with; Fields[x] == NIL is true when the field is
// absent, != NIL when present. A field whose type does not fit the value
// (a string compared with a number, say) does not match.
#ifndef METLOG_ROUTER_MATCHER_H_
#define METLOG_ROUTER_MATCHER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "re2/re2.h"
#include "sinks/message/message_view.h"

namespace metlog {

class Matcher {
 public:
  // Longer expressions, and more comparisons and constants ("terms"), are
  // refused: they bound the work per message and the parse of an Admin.Tail
  // request from the network.
  static constexpr size_t kMaxExpressionBytes = 64 * 1024;
  static constexpr int kMaxTerms = 4096;
  // Parentheses nested deeper are refused; with chains of one operator
  // evaluated as one node, this bounds the evaluator's recursion too.
  static constexpr int kMaxDepth = 64;
  // Each regex may use this much memory (RE2's program and its match-time
  // DFA cache; a larger pattern is refused), and an expression holds at
  // most kMaxRegexes of them: RE2's default of 8 MiB each let one 64 KiB
  // Admin.Tail request of 3000 regexes take gigabytes.
  static constexpr int64_t kRegexMemoryBytes = 1 << 20;
  static constexpr int kMaxRegexes = 64;

  // Errors read "1:14: expected a value after '==', found ')'" (line:column
  // within the expression, both from 1). Expressions over the limits above
  // are refused.
  static absl::StatusOr<Matcher> Compile(absl::string_view expression);

  // Reads only the message's wire view: matching never parses it.
  bool Matches(const MessageView& message) const;

  const std::string& expression() const { return expression_; }

  // Compiled nodes; public so the parser (in the .cc) can build them.
  enum class Variable {
    kUuid,
    kType,
    kLogger,
    kPayload,
    kEnvVersion,
    kHostname,  // strings
    kTimestamp,
    kSeverity,
    kPid,  // numbers
    kField,
  };
  enum class Op { kEq, kNe, kLt, kLe, kGt, kGe, kMatch, kNotMatch };
  enum class ValueKind { kString, kNumber, kBool, kRegex, kNil };
  struct Node {
    enum class Kind { kConstant, kAnd, kOr, kCompare } kind;
    bool constant = false;
    // kAnd, kOr: a whole chain "a && b && c" is one node, so evaluation
    // recurses per parenthesis, not per term.
    std::vector<int> operands;
    Variable variable = Variable::kType;
    std::string field_name;
    int field_index = 0;
    int value_index = 0;
    Op op = Op::kEq;
    ValueKind value_kind = ValueKind::kString;
    std::string string_value;
    double number_value = 0;
    bool bool_value = false;
    std::shared_ptr<const RE2> regex;
  };

 private:
  bool Evaluate(int node, const MessageView& message) const;
  bool Compare(const Node& node, const MessageView& message) const;
  bool CompareField(const Node& node, const MessageView& message) const;

  std::string expression_;
  std::vector<Node> nodes_;
  int root_ = -1;

  friend class MatcherParser;
};

}  // namespace metlog

#endif  // METLOG_ROUTER_MATCHER_H_
