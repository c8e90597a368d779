// Hostile rules files that are too big to commit (issue 7): a 10 MB line, 100 000 levels of nesting of
// every nestable construct, 100 000 chained operations, 100 000 errors, a 100 000-character name. Each
// must give its exact diagnostic, quickly, without exhausting the stack. The committed part of the corpus
// is dsl/testdata/bad/ (dsl/tests/golden_test.cpp).
//
// The cases marked may_fail document weaknesses found while building the corpus (reported, not fixed
// here): they state what a careful implementation does and show in the test output while they fail.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "dsl/rules_check.hpp"

using fz::dsl::compile_rules;
using fz::dsl::CompileResult;

namespace {

const std::string kHead = "ruleset t version 1 effective 2026-01-01\n";

std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

std::string repeat(const std::string& s, std::size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (std::size_t k = 0; k < n; ++k) out += s;
  return out;
}

// Compiles and checks it took less than a few seconds (a hang or a quadratic blow-up fails here).
CompileResult compile_timed(const std::string& source, const std::string& name) {
  const auto start = std::chrono::steady_clock::now();
  CompileResult r = compile_rules(source, name);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO(name << " took " << secs << " s");
  CHECK(secs < 10.0);
  return r;
}

constexpr std::size_t kDeep = 100'000;

}  // namespace

TEST_CASE("hostile rules: a 10 MB line is refused by size, with a bounded diagnostic") {
  const std::string line = kHead.substr(0, kHead.size() - 1) + " # " + std::string(10'000'000, 'x');
  CompileResult r = compile_timed(line, "ten_mb.rules");
  CHECK_FALSE(r.ruleset.has_value());
  CHECK(first_line(r.diagnostics) ==
        "ten_mb.rules:1:1: error: rules file is 10000043 bytes, more than the limit of 1 MiB");
  CHECK(r.error_count == 1);
}

TEST_CASE("hostile rules: a 10 MB file of one line without a header") {
  CompileResult r = compile_timed(std::string(10 * 1024 * 1024, '('), "parens.rules");
  CHECK(first_line(r.diagnostics) ==
        "parens.rules:1:1: error: rules file is 10485760 bytes, more than the limit of 1 MiB");
}

TEST_CASE("hostile rules: exactly 1 MiB is read, one byte more is refused") {
  std::string exact = kHead + "#";
  exact += std::string(fz::dsl::kMaxRulesFileBytes - exact.size() - 1, 'c') + "\n";
  REQUIRE(exact.size() == fz::dsl::kMaxRulesFileBytes);
  CompileResult ok = compile_timed(exact, "exact.rules");
  CHECK(ok.ruleset.has_value());
  CompileResult over = compile_timed(exact + "\n", "over.rules");
  CHECK(first_line(over.diagnostics) ==
        "over.rules:1:1: error: rules file is 1048577 bytes, more than the limit of 1 MiB");
}

TEST_CASE("hostile rules: 100 000 levels of nesting stop at level 65 without exhausting the stack") {
  // (50 000 or 70 000 where 100 000 repetitions would pass the 1 MiB limit.)
  struct Case {
    const char* name;
    std::string source;
    const char* expected_first_line;
  };
  const Case cases[] = {
      {"parens", kHead + "let x = " + repeat("(", kDeep) + "1" + repeat(")", kDeep) + "\n",
       "parens.rules:2:73: error: expression nested more than 64 levels deep"},
      {"unclosed_parens", kHead + "let x = " + repeat("(", kDeep) + "\n",
       "unclosed_parens.rules:2:73: error: expression nested more than 64 levels deep"},
      {"brackets", kHead + "let x = " + repeat("[", kDeep) + "1" + repeat("]", kDeep) + "\n",
       "brackets.rules:2:73: error: expression nested more than 64 levels deep"},
      {"nots", kHead + "let x = " + repeat("not ", kDeep) + "true\n",
       "nots.rules:2:265: error: expression nested more than 64 levels deep"},
      {"minus", kHead + "let x = " + repeat("-", kDeep) + "1\n",
       "minus.rules:2:73: error: expression nested more than 64 levels deep"},
      {"calls", kHead + "let x = " + repeat("round(", kDeep) + "1.00" + repeat(")", kDeep) + "\n",
       "calls.rules:2:393: error: expression nested more than 64 levels deep"},
      {"if_expressions", kHead + "let x = " + repeat("if true then ", 70'000) + "1 else 2\n",
       "if_expressions.rules:2:831: error: expression nested more than 64 levels deep"},
      {"blocks",
       kHead + "rule r on order.paid {\n" + repeat("if true {\n", 50'000) + repeat("}\n", 50'000) + "}\n",
       "blocks.rules:66:4: error: expression nested more than 64 levels deep"},
      {"else_if",
       kHead + "rule r on order.paid {\n  if true {\n  }" + repeat(" else if true {\n  }", 50'000) + "\n}\n",
       "else_if.rules:66:13: error: expression nested more than 64 levels deep"},
      {"account_segments",
       kHead + "rule r on order.paid {\n  move 1.00 from @a:{" + repeat("(", kDeep) + "\"x\"" +
           repeat(")", kDeep) + "} to @c:d\n}\n",
       "account_segments.rules:3:85: error: expression nested more than 64 levels deep"},
  };
  for (const Case& c : cases) {
    INFO(std::string(c.name));
    REQUIRE(c.source.size() <= fz::dsl::kMaxRulesFileBytes);
    CompileResult r = compile_timed(c.source, std::string(c.name) + ".rules");
    CHECK_FALSE(r.ruleset.has_value());
    CHECK(first_line(r.diagnostics) == c.expected_first_line);
  }
}

TEST_CASE("hostile rules: 100 000 chained operations") {
  CompileResult r = compile_timed(kHead + "let x = 1" + repeat(" + 1", kDeep) + "\n", "chain.rules");
  CHECK(first_line(r.diagnostics) ==
        "chain.rules:2:1031: error: expression is too deeply nested (more than 256 operations)");
  CompileResult s =
      compile_timed(kHead + "let x = \"a\"" + repeat(" + \"a\"", kDeep) + "\n", "strings.rules");
  CHECK(first_line(s.diagnostics) ==
        "strings.rules:2:1543: error: expression is too deeply nested (more than 256 operations)");
}

TEST_CASE("hostile rules: 50 000 lines in error: every error counted, 100 shown") {
  CompileResult r = compile_timed(kHead + repeat("let x = 1.00 + 20%\n", 50'000), "many.rules");
  CHECK(r.error_count == 50'000);  // one per line: the type error (the repeated name shows once it is fixed)
  CHECK(first_line(r.diagnostics) == "many.rules:2:14: error: cannot add money and ratio");
  CHECK(r.diagnostics.ends_with("many.rules: note: 49900 more errors not shown\n"));
  CHECK(std::count(r.diagnostics.begin(), r.diagnostics.end(), '\n') == 3 * 100 + 1);
}

TEST_CASE("hostile rules: 100 000-character names and strings") {
  const std::string name(kDeep, 'a');
  CompileResult r = compile_timed(kHead + "let " + name + " = 1.00 + 20%\n", "name.rules");
  CHECK(first_line(r.diagnostics) == "name.rules:2:100013: error: cannot add money and ratio");
  CompileResult s = compile_timed(kHead + "let s = \"" + name + "\" + 1\n", "string.rules");
  CHECK(first_line(s.diagnostics) == "string.rules:2:100012: error: cannot add string and int");
  CompileResult a = compile_timed(
      kHead + "rule r on order.paid {\n  move 1.00 from @a:" + name + " to @c:d\n}\n", "account.rules");
  CHECK(first_line(a.diagnostics) == "account.rules:3:18: error: account name is longer than 256 bytes");
}

TEST_CASE("hostile rules: 20 000 rules in one file check clean and fast") {
  std::string many = kHead;
  for (int k = 0; k < 20'000; ++k) many += fmt::format("rule r{} on order.paid {{ }}\n", k);
  CompileResult r = compile_timed(many, "rules.rules");
  CHECK(r.ruleset.has_value());
}

// ---- weaknesses found while building the corpus (reported; may_fail until fixed) ------------------------

TEST_CASE("hostile rules: a UTF-8 byte order mark is named, not 'expected ruleset'" * doctest::may_fail()) {
  CompileResult r = compile_rules("\xef\xbb\xbf" + kHead, "bom.rules");
  // Today: "bom.rules:1:1: error: expected 'ruleset'" under a line that visibly starts with "ruleset".
  INFO(r.diagnostics);
  CHECK((r.ruleset.has_value() || r.diagnostics.find("byte order mark") != std::string::npos));
}

TEST_CASE("hostile rules: text that is not UTF-8 is refused (SPEC 5: plain UTF-8 text)" *
          doctest::may_fail()) {
  const std::string cases[] = {
      kHead + "let a = \"\xc0\xaf\"\n",                                         // overlong '/'
      kHead + "# \xe6\xb3\xa8\xe9\x87\nset settlement_day = 20\n",              // truncated in a comment
      kHead + "let a = 1 # \xe5\x90",                                           // truncated at the end
      kHead + "rule r on order.paid {\n  require true else \"\xe6\xb3\"\n}\n",  // in a require message
      kHead + "let a = \"\xed\xa0\x80\"\n",                                     // a surrogate
      kHead + "let a = \"\xff\"\n",
  };
  for (const std::string& source : cases) {
    CompileResult r = compile_rules(source, "utf8.rules");
    INFO(source);
    CHECK_FALSE(r.ruleset.has_value());  // today every one of these checks clean
  }
}

TEST_CASE("hostile rules: diagnostics carry no raw control characters from the file" * doctest::may_fail()) {
  // A rules file can make `rules check` print ESC sequences (recolour, clear the screen) or bare CRs
  // (overwrite the line) on the operator's terminal; the event reader escapes them, the rules reader does
  // not.
  const std::string cases[] = {
      kHead + "let a = \"\x1b[31mred\x1b[0m\" + 1\n",
      kHead + "let a = \"\x1b[2J\x1b[H\" + 1\n",
      "ruleset t version 1 effective 2026-01-01\rset settlement_day = 20\rlet a = 1.00 + 20%\r",
      kHead + "let a = \"\x07\" + 1\n",
  };
  for (const std::string& source : cases) {
    CompileResult r = compile_rules(source, "ctl.rules");
    CHECK_FALSE(r.ruleset.has_value());
    const bool raw = std::any_of(r.diagnostics.begin(), r.diagnostics.end(), [](char c) {
      const auto u = static_cast<unsigned char>(c);
      return (u < 0x20 && c != '\n' && c != '\t') || u == 0x7f;
    });
    INFO(r.diagnostics);
    CHECK_FALSE(raw);
  }
}

TEST_CASE("hostile rules: an unknown escape in a string is named as such" * doctest::may_fail()) {
  CompileResult r = compile_rules(kHead + "set timezone = \"\\q+08:00\"\n", "escape.rules");
  // Today: "escape.rules:2:17: error: expected '\"'" at the backslash.
  INFO(r.diagnostics);
  CHECK(r.diagnostics.find("error: expected") == std::string::npos);
  CHECK(r.diagnostics.find("escape", r.diagnostics.find("error:")) != std::string::npos);
}

TEST_CASE("hostile rules: times written without an offset are range-checked like full ones" *
          doctest::may_fail()) {
  // 9999-12-31T23:59:59+08:00 is refused ("outside 0001-01-02 to 9999-12-30 UTC"); the same range is not
  // applied to dates and local times: these check clean, and 0001-01-01 (+08:00) lies in year 0000 UTC.
  for (const std::string t : {"0001-01-01", "9999-12-31", "9999-12-31T23:59"}) {
    CompileResult r = compile_rules(fmt::format("ruleset t version 1 effective {}\n", t), "t.rules");
    INFO(t);
    CHECK_FALSE(r.ruleset.has_value());
  }
}
