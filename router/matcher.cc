#include "router/matcher.h"

#include <cctype>
#include <cstdlib>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace metlog {
namespace {

struct Token {
  enum class Kind {
    kEnd,
    kIdent,
    kString,
    kNumber,
    kRegex,
    kOp,
    kAnd,
    kOr,
    kLeftParen,
    kRightParen,
    kLeftBracket,
    kRightBracket,
  } kind;
  std::string text;  // identifier, unescaped string/regex, or operator
  int line = 1;
  int column = 1;
};

std::string Describe(const Token& token) {
  switch (token.kind) {
    case Token::Kind::kEnd:
      return "the end of the expression";
    case Token::Kind::kString:
      return absl::StrCat("string \"", token.text, "\"");
    case Token::Kind::kRegex:
      return absl::StrCat("regex /", token.text, "/");
    default:
      return absl::StrCat("'", token.text, "'");
  }
}

class Lexer {
 public:
  explicit Lexer(absl::string_view text) : text_(text) {}

  absl::StatusOr<std::vector<Token>> Tokens() {
    std::vector<Token> tokens;
    for (;;) {
      SkipSpace();
      Token token{Token::Kind::kEnd, "", line_, column_};
      if (pos_ >= text_.size()) {
        tokens.push_back(token);
        return tokens;
      }
      const char c = text_[pos_];
      if (absl::ascii_isalpha(c) || c == '_') {
        token.kind = Token::Kind::kIdent;
        while (pos_ < text_.size() &&
               (absl::ascii_isalnum(text_[pos_]) || text_[pos_] == '_' ||
                text_[pos_] == '.' || text_[pos_] == '-')) {
          token.text.push_back(Advance());
        }
      } else if (absl::ascii_isdigit(c) || c == '-' || c == '+' || c == '.') {
        token.kind = Token::Kind::kNumber;
        while (pos_ < text_.size() &&
               (absl::ascii_isalnum(text_[pos_]) || text_[pos_] == '.' ||
                text_[pos_] == '-' || text_[pos_] == '+')) {
          token.text.push_back(Advance());
        }
      } else if (c == '"' || c == '\'' || c == '/') {
        token.kind = c == '/' ? Token::Kind::kRegex : Token::Kind::kString;
        Advance();
        bool closed = false;
        while (pos_ < text_.size()) {
          char next = Advance();
          if (next == c) {
            closed = true;
            break;
          }
          if (next == '\\' && pos_ < text_.size()) {
            // In a regex only the delimiter's escape is ours; the rest is
            // RE2's.
            char escaped = Advance();
            if (token.kind == Token::Kind::kRegex && escaped != '/') {
              token.text.push_back('\\');
            }
            next = escaped;
          }
          token.text.push_back(next);
        }
        if (!closed) {
          return Error(token, absl::StrCat("unterminated ",
                                           c == '/' ? "regex" : "string"));
        }
      } else {
        const absl::string_view rest = text_.substr(pos_);
        static constexpr absl::string_view kOps[] = {
            "==", "!=", "<=", ">=", "=~", "!~", "&&",
            "||", "<",  ">",  "(",  ")",  "[",  "]"};
        for (absl::string_view op : kOps) {
          if (absl::StartsWith(rest, op)) {
            token.text = std::string(op);
            break;
          }
        }
        if (token.text.empty()) {
          return Error(token, absl::StrCat("unexpected character '",
                                           std::string(1, c), "'"));
        }
        for (size_t i = 0; i < token.text.size(); ++i) Advance();
        token.kind = token.text == "&&"   ? Token::Kind::kAnd
                     : token.text == "||" ? Token::Kind::kOr
                     : token.text == "("  ? Token::Kind::kLeftParen
                     : token.text == ")"  ? Token::Kind::kRightParen
                     : token.text == "["  ? Token::Kind::kLeftBracket
                     : token.text == "]"  ? Token::Kind::kRightBracket
                                          : Token::Kind::kOp;
      }
      tokens.push_back(std::move(token));
    }
  }

  static absl::Status Error(const Token& at, absl::string_view message) {
    return absl::InvalidArgumentError(
        absl::StrCat(at.line, ":", at.column, ": ", message));
  }

 private:
  char Advance() {
    const char c = text_[pos_++];
    if (c == '\n') {
      ++line_;
      column_ = 1;
    } else {
      ++column_;
    }
    return c;
  }
  void SkipSpace() {
    while (pos_ < text_.size() && absl::ascii_isspace(text_[pos_])) Advance();
  }

  absl::string_view text_;
  size_t pos_ = 0;
  int line_ = 1;
  int column_ = 1;
};

bool IsStringVariable(Matcher::Variable v) {
  return v <= Matcher::Variable::kHostname;
}

template <typename T>
bool Ordered(Matcher::Op op, const T& a, const T& b) {
  switch (op) {
    case Matcher::Op::kEq:
      return a == b;
    case Matcher::Op::kNe:
      return a != b;
    case Matcher::Op::kLt:
      return a < b;
    case Matcher::Op::kLe:
      return a <= b;
    case Matcher::Op::kGt:
      return a > b;
    case Matcher::Op::kGe:
      return a >= b;
    default:
      return false;
  }
}

bool CompareString(const Matcher::Node& node, absl::string_view actual) {
  switch (node.op) {
    case Matcher::Op::kMatch:
      return RE2::PartialMatch(re2::StringPiece(actual.data(), actual.size()),
                               *node.regex);
    case Matcher::Op::kNotMatch:
      return !RE2::PartialMatch(re2::StringPiece(actual.data(), actual.size()),
                                *node.regex);
    default:
      return Ordered(node.op, actual, absl::string_view(node.string_value));
  }
}

// The canonical 8-4-4-4-12 text form of a 16-byte uuid, into a stack buffer.
absl::string_view UuidText(absl::string_view uuid, char (&buffer)[36]) {
  if (uuid.size() != 16) return absl::string_view(uuid);
  static constexpr char kHex[] = "0123456789abcdef";
  int out = 0;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) buffer[out++] = '-';
    const auto byte = static_cast<unsigned char>(uuid[i]);
    buffer[out++] = kHex[byte >> 4];
    buffer[out++] = kHex[byte & 0xf];
  }
  return absl::string_view(buffer, 36);
}

}  // namespace

// Recursive descent over the tokens, building Matcher::nodes_.
class MatcherParser {
 public:
  MatcherParser(std::vector<Token> tokens, Matcher* matcher)
      : tokens_(std::move(tokens)), matcher_(matcher) {}

  absl::Status Parse() {
    absl::StatusOr<int> root = Or(0);
    if (!root.ok()) return root.status();
    if (Peek().kind != Token::Kind::kEnd) {
      return Lexer::Error(Peek(), absl::StrCat("expected '&&', '||' or the "
                                               "end, found ",
                                               Describe(Peek())));
    }
    matcher_->root_ = *root;
    return absl::OkStatus();
  }

 private:
  using Node = Matcher::Node;

  const Token& Peek() const { return tokens_[pos_]; }
  const Token& Next() {
    return tokens_[pos_ == tokens_.size() - 1 ? pos_ : pos_++];
  }

  int Add(Node node) {
    matcher_->nodes_.push_back(std::move(node));
    return static_cast<int>(matcher_->nodes_.size() - 1);
  }

  // A chain of one operator becomes one node holding every operand.
  absl::StatusOr<int> Chain(Token::Kind op_kind, Node::Kind node_kind,
                            int depth) {
    Node node{node_kind};
    do {
      if (!node.operands.empty()) Next();
      absl::StatusOr<int> operand =
          node_kind == Node::Kind::kOr ? And(depth) : Primary(depth);
      if (!operand.ok()) return operand;
      node.operands.push_back(*operand);
    } while (Peek().kind == op_kind);
    if (node.operands.size() == 1) return node.operands[0];
    return Add(std::move(node));
  }
  absl::StatusOr<int> Or(int depth) {
    return Chain(Token::Kind::kOr, Node::Kind::kOr, depth);
  }
  absl::StatusOr<int> And(int depth) {
    return Chain(Token::Kind::kAnd, Node::Kind::kAnd, depth);
  }

  absl::StatusOr<int> Primary(int depth) {
    const Token& token = Next();
    if (token.kind == Token::Kind::kLeftParen) {
      if (depth >= Matcher::kMaxDepth) {
        return Lexer::Error(
            token, absl::StrCat("nested deeper than ", Matcher::kMaxDepth,
                                " parentheses"));
      }
      absl::StatusOr<int> inner = Or(depth + 1);
      if (!inner.ok()) return inner;
      if (Peek().kind != Token::Kind::kRightParen) {
        return Lexer::Error(
            Peek(), absl::StrCat("expected ')', found ", Describe(Peek())));
      }
      Next();
      return inner;
    }
    if (++terms_ > Matcher::kMaxTerms) {
      return Lexer::Error(
          token, absl::StrCat("more than ", Matcher::kMaxTerms, " terms"));
    }
    if (token.kind == Token::Kind::kIdent &&
        (token.text == "TRUE" || token.text == "FALSE")) {
      Node node{Node::Kind::kConstant};
      node.constant = token.text == "TRUE";
      return Add(std::move(node));
    }
    if (token.kind != Token::Kind::kIdent) {
      return Lexer::Error(token, absl::StrCat("expected a variable, TRUE, "
                                              "FALSE or '(', found ",
                                              Describe(token)));
    }
    return Comparison(token);
  }

  absl::StatusOr<int> Comparison(const Token& variable) {
    static const std::pair<absl::string_view, Matcher::Variable> kVariables[] =
        {{"Uuid", Matcher::Variable::kUuid},
         {"Type", Matcher::Variable::kType},
         {"Logger", Matcher::Variable::kLogger},
         {"Payload", Matcher::Variable::kPayload},
         {"EnvVersion", Matcher::Variable::kEnvVersion},
         {"Hostname", Matcher::Variable::kHostname},
         {"Timestamp", Matcher::Variable::kTimestamp},
         {"Severity", Matcher::Variable::kSeverity},
         {"Pid", Matcher::Variable::kPid},
         {"Fields", Matcher::Variable::kField}};
    Node node{Node::Kind::kCompare};
    bool known = false;
    for (const auto& [name, value] : kVariables) {
      if (variable.text == name) {
        node.variable = value;
        known = true;
      }
    }
    if (!known) {
      return Lexer::Error(variable,
                          absl::StrCat("unknown variable '", variable.text,
                                       "'; expected one of Uuid, "
                                       "Type, Logger, Payload, EnvVersion, "
                                       "Hostname, Timestamp, Severity, "
                                       "Pid, Fields[name]"));
    }
    if (node.variable == Matcher::Variable::kField) {
      if (absl::Status s = FieldReference(&node); !s.ok()) return s;
    }
    const Token& op = Next();
    static const std::pair<absl::string_view, Matcher::Op> kOps[] = {
        {"==", Matcher::Op::kEq},    {"!=", Matcher::Op::kNe},
        {"<", Matcher::Op::kLt},     {"<=", Matcher::Op::kLe},
        {">", Matcher::Op::kGt},     {">=", Matcher::Op::kGe},
        {"=~", Matcher::Op::kMatch}, {"!~", Matcher::Op::kNotMatch}};
    known = false;
    for (const auto& [text, value] : kOps) {
      if (op.kind == Token::Kind::kOp && op.text == text) {
        node.op = value;
        known = true;
      }
    }
    if (!known) {
      return Lexer::Error(
          op, absl::StrCat("expected an operator (== != < <= "
                           "> >= =~ !~) after ",
                           variable.text, ", found ", Describe(op)));
    }
    if (absl::Status s = Value(variable, op, &node); !s.ok()) return s;
    return Add(std::move(node));
  }

  absl::Status FieldReference(Node* node) {
    int* const slots[] = {nullptr, &node->field_index, &node->value_index};
    for (int i = 0; i < 3 && Peek().kind == Token::Kind::kLeftBracket; ++i) {
      Next();
      const Token& inside = Next();
      if (i == 0) {
        if (inside.kind != Token::Kind::kIdent &&
            inside.kind != Token::Kind::kString) {
          return Lexer::Error(inside, absl::StrCat("expected a field name, "
                                                   "found ",
                                                   Describe(inside)));
        }
        node->field_name = inside.text;
      } else if (inside.kind != Token::Kind::kNumber ||
                 !absl::SimpleAtoi(inside.text, slots[i]) || *slots[i] < 0) {
        return Lexer::Error(inside, absl::StrCat("expected an index (0, 1, "
                                                 "...), found ",
                                                 Describe(inside)));
      }
      if (Peek().kind != Token::Kind::kRightBracket) {
        return Lexer::Error(
            Peek(), absl::StrCat("expected ']', found ", Describe(Peek())));
      }
      Next();
    }
    if (node->field_name.empty()) {
      return Lexer::Error(Peek(), "expected '[' and a field name after Fields");
    }
    return absl::OkStatus();
  }

  absl::Status Value(const Token& variable, const Token& op, Node* node) {
    const Token& value = Next();
    const bool regex_op =
        node->op == Matcher::Op::kMatch || node->op == Matcher::Op::kNotMatch;
    const bool is_field = node->variable == Matcher::Variable::kField;
    const bool is_string = IsStringVariable(node->variable);
    auto expected = [&](absl::string_view what) {
      return Lexer::Error(
          value, absl::StrCat("expected ", what, " after ", variable.text, " ",
                              op.text, ", found ", Describe(value)));
    };
    if (regex_op) {
      if (value.kind != Token::Kind::kRegex) return expected("a /regex/");
      if (!is_string && !is_field) {
        return Lexer::Error(op, absl::StrCat(variable.text,
                                             " is a number; =~ and !~ need "
                                             "a string"));
      }
      if (++regexes_ > Matcher::kMaxRegexes) {
        return Lexer::Error(value,
                            absl::StrCat("more than ", Matcher::kMaxRegexes,
                                         " regular expressions"));
      }
      RE2::Options options(RE2::Quiet);
      options.set_max_mem(Matcher::kRegexMemoryBytes);
      auto regex = std::make_shared<RE2>(value.text, options);
      if (!regex->ok()) {
        return Lexer::Error(value, absl::StrCat("bad regex: ", regex->error()));
      }
      node->value_kind = Matcher::ValueKind::kRegex;
      node->regex = std::move(regex);
      return absl::OkStatus();
    }
    if (value.kind == Token::Kind::kString && (is_string || is_field)) {
      node->value_kind = Matcher::ValueKind::kString;
      node->string_value = value.text;
      return absl::OkStatus();
    }
    if (value.kind == Token::Kind::kNumber && !is_string) {
      if (!absl::SimpleAtod(value.text, &node->number_value)) {
        return Lexer::Error(value,
                            absl::StrCat("bad number '", value.text, "'"));
      }
      node->value_kind = Matcher::ValueKind::kNumber;
      return absl::OkStatus();
    }
    if (value.kind == Token::Kind::kIdent && is_field &&
        (node->op == Matcher::Op::kEq || node->op == Matcher::Op::kNe)) {
      if (value.text == "NIL") {
        node->value_kind = Matcher::ValueKind::kNil;
        return absl::OkStatus();
      }
      if (value.text == "TRUE" || value.text == "FALSE") {
        node->value_kind = Matcher::ValueKind::kBool;
        node->bool_value = value.text == "TRUE";
        return absl::OkStatus();
      }
    }
    if (is_field) return expected("a string, number, TRUE, FALSE or NIL");
    return expected(is_string ? "a quoted string" : "a number");
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int terms_ = 0;  // comparisons and constants so far
  int regexes_ = 0;
  Matcher* matcher_;
};

absl::StatusOr<Matcher> Matcher::Compile(absl::string_view expression) {
  if (expression.size() > kMaxExpressionBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("expression is ", expression.size(), " bytes; at most ",
                     kMaxExpressionBytes));
  }
  absl::StatusOr<std::vector<Token>> tokens = Lexer(expression).Tokens();
  if (!tokens.ok()) return tokens.status();
  Matcher matcher;
  matcher.expression_ = std::string(expression);
  MatcherParser parser(*std::move(tokens), &matcher);
  if (absl::Status status = parser.Parse(); !status.ok()) return status;
  return matcher;
}

bool Matcher::Matches(const MessageView& message) const {
  return Evaluate(root_, message);
}

bool Matcher::Evaluate(int index, const MessageView& message) const {
  const Node& node = nodes_[index];
  switch (node.kind) {
    case Node::Kind::kConstant:
      return node.constant;
    case Node::Kind::kAnd:
      for (int operand : node.operands) {
        if (!Evaluate(operand, message)) return false;
      }
      return true;
    case Node::Kind::kOr:
      for (int operand : node.operands) {
        if (Evaluate(operand, message)) return true;
      }
      return false;
    case Node::Kind::kCompare:
      return Compare(node, message);
  }
  return false;
}

bool Matcher::Compare(const Node& node, const MessageView& message) const {
  const WireMessage& wire = message.wire();
  char uuid_buffer[36];
  switch (node.variable) {
    case Variable::kUuid:
      return CompareString(node, UuidText(wire.uuid(), uuid_buffer));
    case Variable::kType:
      return CompareString(node, wire.type);
    case Variable::kLogger:
      return CompareString(node, wire.logger);
    case Variable::kPayload:
      return CompareString(node, wire.payload);
    case Variable::kEnvVersion:
      return CompareString(node, wire.env_version);
    case Variable::kHostname:
      return CompareString(node, wire.hostname);
    case Variable::kTimestamp:
      return Ordered(node.op, static_cast<double>(wire.timestamp),
                     node.number_value);
    case Variable::kSeverity:
      return Ordered(node.op, static_cast<double>(wire.severity),
                     node.number_value);
    case Variable::kPid:
      return Ordered(node.op, static_cast<double>(wire.pid), node.number_value);
    case Variable::kField:
      return CompareField(node, message);
  }
  return false;
}

bool Matcher::CompareField(const Node& node, const MessageView& message) const {
  const FieldView* found = nullptr;
  int seen = 0;
  for (const FieldView& field : message.fields()) {
    if (field.name == node.field_name && seen++ == node.field_index) {
      found = &field;
      break;
    }
  }
  // A field without the indexed value counts as absent.
  FieldValue value;
  if (found != nullptr && !ReadFieldValue(*found, node.value_index, &value)) {
    found = nullptr;
  }
  if (node.value_kind == ValueKind::kNil) {
    return (found == nullptr) == (node.op == Op::kEq);
  }
  if (found == nullptr) return false;
  switch (found->value_type) {
    case v1::Field::STRING:
    case v1::Field::BYTES:
      return (node.value_kind == ValueKind::kString ||
              node.value_kind == ValueKind::kRegex) &&
             CompareString(node, value.text);
    case v1::Field::INTEGER:
      return node.value_kind == ValueKind::kNumber &&
             Ordered(node.op, static_cast<double>(value.integer),
                     node.number_value);
    case v1::Field::DOUBLE:
      return node.value_kind == ValueKind::kNumber &&
             Ordered(node.op, value.number, node.number_value);
    case v1::Field::BOOL:
      return node.value_kind == ValueKind::kBool &&
             Ordered(node.op, value.flag, node.bool_value);
  }
  return false;
}

}  // namespace metlog
