#include "router/matcher.h"

#include "absl/base/macros.h"
#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sinks/message/message_batch.h"

namespace metlog {
namespace {

using ::testing::HasSubstr;

v1::Message Sample() {
  v1::Message m;
  m.set_uuid(
      std::string("\x01\x23\x45\x67\x89\xab\xcd\xef"
                  "\x01\x23\x45\x67\x89\xab\xcd\xef",
                  16));
  m.set_timestamp(1000);
  m.set_type("timer");
  m.set_logger("shop");
  m.set_severity(4);
  m.set_payload("12.5");
  m.set_env_version("1.0");
  m.set_pid(42);
  m.set_hostname("web-1");
  v1::Field* name = m.add_fields();
  name->set_name("name");
  name->add_value_string("db.query");
  name->add_value_string("second");
  v1::Field* rate = m.add_fields();
  rate->set_name("rate");
  rate->set_value_type(v1::Field::DOUBLE);
  rate->add_value_double(0.5);
  v1::Field* rows = m.add_fields();
  rows->set_name("rows");
  rows->set_value_type(v1::Field::INTEGER);
  rows->add_value_integer(7);
  v1::Field* cached = m.add_fields();
  cached->set_name("cached");
  cached->set_value_type(v1::Field::BOOL);
  cached->add_value_bool(true);
  v1::Field* name2 = m.add_fields();
  name2->set_name("name");
  name2->add_value_string("other");
  return m;
}

struct Case {
  const char* expression;
  bool matches;
};

class MatcherGrammarTest : public ::testing::TestWithParam<Case> {};

TEST_P(MatcherGrammarTest, Evaluates) {
  absl::StatusOr<Matcher> matcher = Matcher::Compile(GetParam().expression);
  ASSERT_TRUE(matcher.ok()) << matcher.status();
  const MessageBatch sample({Sample()});
  EXPECT_EQ(matcher->Matches(sample[0]), GetParam().matches)
      << GetParam().expression;
}

INSTANTIATE_TEST_SUITE_P(
    Table, MatcherGrammarTest,
    ::testing::Values(
        // Constants and string variables.
        Case{"TRUE", true}, Case{"FALSE", false},
        Case{"Type == \"timer\"", true}, Case{"Type == 'timer'", true},
        Case{"Type != \"timer\"", false}, Case{"Logger == \"shop\"", true},
        Case{"Payload == \"12.5\"", true}, Case{"EnvVersion == \"1.0\"", true},
        Case{"Hostname == \"web-1\"", true},
        Case{"Uuid == \"01234567-89ab-cdef-0123-456789abcdef\"", true},
        Case{"Type < \"u\"", true}, Case{"Type >= \"u\"", false},
        // Numeric variables.
        Case{"Severity <= 4", true}, Case{"Severity < 4", false},
        Case{"Severity > 3", true}, Case{"Severity >= 5", false},
        Case{"Severity == 4", true}, Case{"Severity != 4", false},
        Case{"Pid == 42", true}, Case{"Timestamp > 999", true},
        Case{"Timestamp < 1e3", false},
        // Regexes.
        Case{"Type =~ /^tim/", true}, Case{"Type !~ /^tim/", false},
        Case{"Hostname =~ /web-\\d+/", true}, Case{"Payload =~ /a\\/b/", false},
        // Precedence and grouping: && binds tighter than ||.
        Case{"FALSE && FALSE || TRUE", true},
        Case{"TRUE || FALSE && FALSE", true},
        Case{"(TRUE || FALSE) && FALSE", false},
        Case{"Type == \"timer\" && Severity <= 4 || Fields[name] =~ /^x/",
             true},
        Case{"((Type == \"log\") || (Severity < 5))", true},
        // Fields: index defaults, field and value indexes, types.
        Case{"Fields[name] == \"db.query\"", true},
        Case{"Fields[name][0][1] == \"second\"", true},
        Case{"Fields[name][1] == \"other\"", true},
        Case{"Fields[name][2] == \"other\"", false},
        Case{"Fields[name] =~ /^db\\./", true},
        Case{"Fields[rate] == 0.5", true}, Case{"Fields[rate] < 1", true},
        Case{"Fields[rows] >= 7", true}, Case{"Fields[rows] > 7", false},
        Case{"Fields[cached] == TRUE", true},
        Case{"Fields[cached] != TRUE", false},
        Case{"Fields[missing] == NIL", true},
        Case{"Fields[missing] != NIL", false},
        Case{"Fields[name] != NIL", true},
        Case{"Fields[name][0][5] == NIL", true},
        Case{"Fields[missing] == \"x\"", false},
        Case{"Fields[missing] != \"x\"", false},
        // A type mismatch is false, whatever the operator.
        Case{"Fields[rows] == \"7\"", false},
        Case{"Fields[rows] != \"7\"", false}, Case{"Fields[name] == 1", false},
        Case{"Fields[name] != 1", false}, Case{"Fields[cached] == 1", false},
        Case{"Fields[rows] =~ /7/", false},
        // Layout: whitespace and newlines are free.
        Case{"  Type==\"timer\"\n&&\tSeverity<=4 ", true}));

struct BadCase {
  const char* expression;
  const char* error;
};

class MatcherErrorTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(MatcherErrorTest, NamesPositionAndExpectation) {
  absl::StatusOr<Matcher> matcher = Matcher::Compile(GetParam().expression);
  ASSERT_FALSE(matcher.ok()) << GetParam().expression;
  EXPECT_THAT(std::string(matcher.status().message()),
              HasSubstr(GetParam().error));
}

INSTANTIATE_TEST_SUITE_P(
    Table, MatcherErrorTest,
    ::testing::Values(
        BadCase{"", "1:1: expected a variable, TRUE, FALSE or '('"},
        BadCase{"Type == \"timer\" &&", "1:19: expected a variable"},
        BadCase{"Type = \"x\"", "1:6: unexpected character '='"},
        BadCase{"Tpye == \"x\"", "1:1: unknown variable 'Tpye'"},
        BadCase{"Type == 5", "1:9: expected a quoted string after Type =="},
        BadCase{"Severity == \"4\"", "1:13: expected a number after Severity"},
        BadCase{"Severity =~ /4/", "1:10: Severity is a number"},
        BadCase{"Type =~ \"x\"", "1:9: expected a /regex/"},
        BadCase{"Type =~ /(/", "1:9: bad regex"},
        BadCase{"Type == \"x", "1:9: unterminated string"},
        BadCase{"(TRUE", "1:6: expected ')'"},
        BadCase{"TRUE)", "1:5: expected '&&', '||' or the end"},
        BadCase{"Fields[name", "expected ']'"},
        BadCase{"Fields == 1", "expected '[' and a field name"},
        BadCase{"Fields[x][a] == 1", "expected an index"},
        BadCase{"Type == \"a\"\n&& Severity <", "2:14: expected a number"},
        BadCase{"Fields[x] < TRUE", "expected a string, number"},
        BadCase{"((((((((((((((((((((((((((((((((((((((((((((((((((((((((((("
                "(((((((((TRUE",
                "nested deeper than 64"}));

// `term` joined by `op`, `count` times.
std::string Chain(absl::string_view term, absl::string_view op, int count) {
  std::string out(term);
  for (int i = 1; i < count; ++i) absl::StrAppend(&out, " ", op, " ", term);
  return out;
}

TEST(MatcherLimitsTest, RefusesAnOverlongExpression) {
  // Issue 9: 200 k terms passed --check and the first message overflowed the
  // evaluator's stack; a 1.8 MB Admin.Tail expression killed the router.
  const std::string huge = Chain("TRUE", "&&", 200000);
  absl::StatusOr<Matcher> matcher = Matcher::Compile(huge);
  ASSERT_FALSE(matcher.ok());
  EXPECT_THAT(std::string(matcher.status().message()),
              HasSubstr(absl::StrCat("expression is ", huge.size(),
                                     " bytes; at most 65536")));
}

TEST(MatcherLimitsTest, RefusesTooManyTermsWhereTheLimitIsPassed) {
  const std::string many = Chain("Pid==1", "||", Matcher::kMaxTerms + 1);
  ASSERT_LE(many.size(), Matcher::kMaxExpressionBytes);
  absl::StatusOr<Matcher> matcher = Matcher::Compile(many);
  ASSERT_FALSE(matcher.ok());
  EXPECT_THAT(
      std::string(matcher.status().message()),
      HasSubstr(absl::StrCat("1:", 10 * Matcher::kMaxTerms + 1, ": more than ",
                             Matcher::kMaxTerms, " terms")));
}

TEST(MatcherLimitsTest, RefusesMoreRegexesThanTheLimit) {
  // 200 copies of /\pL{300}/ in a 4 KiB Admin.Tail request took 130 MB of
  // RE2 programs; within 64 KiB they would have taken gigabytes.
  const std::string most = Chain("Payload =~ /a/", "||", Matcher::kMaxRegexes);
  EXPECT_TRUE(Matcher::Compile(most).ok());
  absl::StatusOr<Matcher> matcher =
      Matcher::Compile(absl::StrCat(most, " || Type =~ /b/"));
  ASSERT_FALSE(matcher.ok());
  EXPECT_THAT(std::string(matcher.status().message()),
              HasSubstr(absl::StrCat("more than ", Matcher::kMaxRegexes,
                                     " regular expressions")));
}

TEST(MatcherLimitsTest, RefusesARegexOverItsMemoryBound) {
  // RE2's default budget of 8 MiB compiled it.
  absl::StatusOr<Matcher> matcher = Matcher::Compile("Payload =~ /\\pL{300}/");
  ASSERT_FALSE(matcher.ok());
  EXPECT_THAT(std::string(matcher.status().message()),
              HasSubstr("bad regex: pattern too large"));
}

TEST(MatcherLimitsTest, LongestAllowedChainsEvaluate) {
  const MessageBatch sample({Sample()});
  // Chains of the largest allowed length, of each operator, with the
  // deciding term last, first, or nowhere; and nested at the depth limit.
  const int n = Matcher::kMaxTerms;
  const std::string last_true =
      absl::StrCat(Chain("Pid == 1", "||", n - 1), " || Pid == 42");
  const std::string last_false =
      absl::StrCat(Chain("Pid == 42", "&&", n - 1), " && Pid == 1");
  const struct {
    std::string expression;
    bool matches;
  } cases[] = {
      {Chain("Pid == 1", "||", n), false},
      {last_true, true},
      {Chain("Pid == 42", "&&", n), true},
      {last_false, false},
      {absl::StrCat("(", Chain("TRUE", "&&", n / 2), ") && (",
                    Chain("FALSE", "||", n / 2), ")"),
       false},
      {absl::StrCat(std::string(64, '('), Chain("Pid == 42", "&&", n - 1),
                    std::string(64, ')')),
       true},
  };
  for (const auto& c : cases) {
    absl::StatusOr<Matcher> matcher = Matcher::Compile(c.expression);
    ASSERT_TRUE(matcher.ok()) << matcher.status();
    EXPECT_EQ(matcher->Matches(sample[0]), c.matches)
        << c.expression.substr(0, 60);
  }
}

TEST(MatcherLimitsTest, MixedChainsKeepPrecedence) {
  // Flattened chains must still bind && tighter than ||, whatever the mix.
  const MessageBatch sample({Sample()});
  absl::BitGen random;
  for (int i = 0; i < 2000; ++i) {
    const int length = absl::Uniform(random, 1, 12);
    std::string expression;
    // Reference: || of && groups, evaluated here directly.
    bool any = false, group = true;
    for (int t = 0; t < length; ++t) {
      const bool value = absl::Bernoulli(random, 0.5);
      if (t > 0) {
        const bool is_or = absl::Bernoulli(random, 0.5);
        absl::StrAppend(&expression, is_or ? " || " : " && ");
        if (is_or) {
          any = any || group;
          group = true;
        }
      }
      absl::StrAppend(&expression, value ? "Pid == 42" : "FALSE");
      group = group && value;
    }
    any = any || group;
    absl::StatusOr<Matcher> matcher = Matcher::Compile(expression);
    ASSERT_TRUE(matcher.ok()) << matcher.status();
    EXPECT_EQ(matcher->Matches(sample[0]), any) << expression;
  }
}

TEST(MatcherFuzzTest, RandomTokenSoupCompilesOrExplainsWhere) {
  // Sequences of grammar tokens in random order: each compiles and
  // evaluates, or fails with a "line:column: " error; none crashes.
  static const char* kTokens[] = {
      "Type", "Severity", "Fields[name]", "Fields[", "]",
      "[0]",  "==",       "!=",           "<",       "=~",
      "!~",   "&&",       "||",           "(",       ")",
      "TRUE", "NIL",      "\"x\"",        "'y'",     "/a+/",
      "/(/",  "3",        "-1.5",         "\n"};
  absl::BitGen random;
  const MessageBatch sample({Sample()});
  for (int i = 0; i < 20000; ++i) {
    std::string expression;
    const int length = absl::Uniform(random, 0, 12);
    for (int t = 0; t < length; ++t) {
      absl::StrAppend(
          &expression,
          kTokens[absl::Uniform<size_t>(random, 0, ABSL_ARRAYSIZE(kTokens))],
          " ");
    }
    absl::StatusOr<Matcher> matcher = Matcher::Compile(expression);
    if (matcher.ok()) {
      matcher->Matches(sample[0]);
    } else {
      ASSERT_TRUE(RE2::PartialMatch(std::string(matcher.status().message()),
                                    R"(^\d+:\d+: )"))
          << expression << " -> " << matcher.status();
    }
  }
}

}  // namespace
}  // namespace metlog
