// Golden tests: every dsl/testdata/bad/NAME.rules must produce exactly NAME.expected; the default
// policy, the examples and dsl/testdata/good/*.rules must check clean.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "dsl/rules_check.hpp"
#include "tests/test_paths.hpp"

namespace fz::dsl {
namespace {

namespace fs = std::filesystem;

const fs::path kRoot = FZ_SOURCE_DIR_DEFAULT;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<fs::path> files_in(const fs::path& dir, const std::string& ext) {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ext) out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST_CASE("broken rules files give exactly the expected diagnostics") {
  const auto files = files_in(kRoot / "dsl/testdata/bad", ".rules");
  CHECK(files.size() >= 40);
  for (const auto& path : files) {
    const std::string display = fs::relative(path, kRoot).string();
    CompileResult r = compile_rules(read_file(path), display);
    fs::path expected = path;
    expected.replace_extension(".expected");
    INFO(display);
    CHECK_FALSE(r.ruleset.has_value());
    CHECK(r.diagnostics == read_file(expected));
  }
}

TEST_CASE("the shipped and example rules check clean") {
  std::vector<fs::path> files = files_in(kRoot / "rules", ".rules");
  for (const auto& p : files_in(kRoot / "rules/examples", ".rules")) files.push_back(p);
  for (const auto& p : files_in(kRoot / "dsl/testdata/good", ".rules")) files.push_back(p);
  CHECK(files.size() >= 3);
  for (const auto& path : files) {
    CompileResult r = compile_rules(read_file(path), path.string());
    INFO(r.diagnostics);
    CHECK(r.ruleset.has_value());
  }
}

TEST_CASE("limits: file size") {
  std::string big = "ruleset t version 1 effective 2026-01-01\n";
  big += std::string(kMaxRulesFileBytes, '#');
  CompileResult r = compile_rules(big, "big.rules");
  CHECK(r.diagnostics ==
        "big.rules:1:1: error: rules file is 1048617 bytes, more than the limit of 1 MiB\n"
        "ruleset t version 1 effective 2026-01-01\n^\n");
}

std::string first_line(const std::string& text) {
  return text.substr(0, text.find('\n'));
}

TEST_CASE("limits: nesting, chains and the number of errors shown") {
  const std::string head = "ruleset t version 1 effective 2026-01-01\n";
  std::string nots = head + "let x = ";
  for (int k = 0; k < 70; ++k) nots += "not ";
  CHECK(first_line(compile_rules(nots + "true\n", "n.rules").diagnostics) ==
        "n.rules:2:269: error: expression nested more than 64 levels deep");

  std::string chain = head + "let x = 1";
  for (int k = 0; k < 300; ++k) chain += " + 1";
  CHECK(first_line(compile_rules(chain + "\n", "c.rules").diagnostics) ==
        "c.rules:2:1031: error: expression is too deeply nested (more than 256 operations)");

  std::string elses = head + "rule r on order.paid {\n  if true {\n  }";
  for (int k = 0; k < 70; ++k) elses += " else if true {\n  }";
  CompileResult deep = compile_rules(elses + "\n}\n", "e.rules");
  CHECK(deep.diagnostics.find("error: expression nested more than 64 levels deep") != std::string::npos);

  std::string many = head;
  for (int k = 0; k < 150; ++k) many += "let x = 1\n";
  CompileResult r = compile_rules(many, "m.rules");
  CHECK(r.error_count == 149);
  CHECK(r.diagnostics.find("m.rules: note: 49 more errors not shown\n") != std::string::npos);
}

TEST_CASE(
    "issue 13 item 11: 64 nested ( ), [ ], unary -, not, if-then-else and if-blocks are accepted, 65 "
    "refused") {
  // SPEC section 7: expression nesting 64 (64 levels accepted, 65 refused), for every construct.
  const std::string head = "ruleset t version 1 effective 2026-01-01\n";
  auto repeat = [](const std::string& s, int n) {
    std::string out;
    for (int k = 0; k < n; ++k) out += s;
    return out;
  };
  struct Construct {
    std::string name;
    std::function<std::string(int)> text;
  };
  const std::vector<Construct> constructs = {
      {"( )", [&](int n) { return "let a = " + repeat("(", n) + "1" + repeat(")", n) + "\n"; }},
      {"[ ] index", [&](int n) { return "let a = x" + repeat("[x", n - 1) + "[1" + repeat("]", n) + "\n"; }},
      {"unary -", [&](int n) { return "let a = " + repeat("-", n) + "1\n"; }},
      {"not", [&](int n) { return "let a = " + repeat("not ", n) + "true\n"; }},
      {"if-then-else",
       [&](int n) { return "let a = " + repeat("if true then ", n) + "1" + repeat(" else 2", n) + "\n"; }},
      {"if-block",
       [&](int n) {
         return "rule r on order.paid {\n" + repeat("if true {\n", n) + "move 1.00 from @a:b to @c:d\n" +
                repeat("}\n", n) + "}\n";
       }},
      {"{segment}",
       [&](int n) {
         return "rule r on order.paid {\nmove 1.00 from @a:{" + repeat("(", n - 1) + "\"x\"" +
                repeat(")", n - 1) + "} to @c:d\n}\n";
       }},
  };
  const std::string too_deep = "error: expression nested more than 64 levels deep";
  for (const Construct& c : constructs) {
    INFO(c.name);
    const CompileResult at_limit = compile_rules(head + c.text(64), "n.rules");
    CHECK(at_limit.diagnostics.find(too_deep) == std::string::npos);
    const CompileResult over = compile_rules(head + c.text(65), "n.rules");
    CHECK(over.diagnostics.find(too_deep) != std::string::npos);
  }
  // The files: 64 accepted (nested lists pass the nesting limit and stop at the type rule instead), 65
  // refused.
  for (const char* name : {"parens", "unary_minus", "not", "if_expr", "if_blocks"}) {
    const fs::path good = kRoot / "dsl/testdata/good" / (std::string("nesting_") + name + "_64.rules");
    INFO(good.string());
    CHECK(compile_rules(read_file(good), good.string()).ruleset.has_value());
  }
  CHECK(read_file(kRoot / "dsl/testdata/bad/nesting_brackets_64.expected").find("a list cannot hold list") !=
        std::string::npos);
  for (const char* name : {"parens", "brackets", "unary_minus", "not", "if_expr", "if_blocks"}) {
    const fs::path bad = kRoot / "dsl/testdata/bad" / (std::string("nesting_") + name + "_65.expected");
    INFO(bad.string());
    CHECK(read_file(bad).find(too_deep) != std::string::npos);
  }
}

TEST_CASE("rules check: summary lines, diagnostics and exit codes") {
  const std::vector<std::string> good = {(kRoot / "rules/taobao-live.rules").string()};
  std::ostringstream out, err;
  CHECK(run_rules_check(good, out, err) == 0);
  CHECK(out.str() == "ok: taobao_live v1, 3 rules, 1 table, 1 campaign\n");
  CHECK(err.str().empty());

  const std::vector<std::string> mixed = {(kRoot / "rules/taobao-live.rules").string(),
                                          (kRoot / "dsl/testdata/bad/shares_under_100.rules").string(),
                                          "/nonexistent/file.rules"};
  std::ostringstream out2, err2;
  CHECK(run_rules_check(mixed, out2, err2) == 1);
  CHECK(out2.str() == "ok: taobao_live v1, 3 rules, 1 table, 1 campaign\n");
  CHECK(err2.str().find("shares total 95%, expected 100% (add a 'rest' share)") != std::string::npos);
  CHECK(err2.str().find("/nonexistent/file.rules: error: cannot read the file\n") != std::string::npos);
}

TEST_CASE("diagnostics: tabs and multi-byte characters keep the caret aligned") {
  CompileResult r = compile_rules("ruleset t version 1 effective 2026-01-01\n\tlet 名 = 1\n", "u.rules");
  CHECK(r.diagnostics == "u.rules:2:6: error: expected a name\n\tlet 名 = 1\n\t    ^\n");
  CompileResult r2 =
      compile_rules("ruleset t version 1 effective 2026-01-01\n# 注释\n\tlet x = \"名\" + 1\n", "u.rules");
  // 名 takes two terminal columns: the caret stands under '+' (the column counts bytes).
  CHECK(r2.diagnostics ==
        "u.rules:3:16: error: cannot add string and int\n\tlet x = \"名\" + 1\n\t             ^\n");
}

}  // namespace
}  // namespace fz::dsl
