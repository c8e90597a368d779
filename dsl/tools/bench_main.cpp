// dsl_bench [LINES]: generates a rules file of about LINES lines (default 10,000) with tables, lets
// and rules using every statement, then times parse + check. Prints the figures; not a test.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>

#include "dsl/rules_check.hpp"

namespace {

std::string generate(int lines) {
  std::string s =
      "ruleset bench version 1 effective 2026-01-01\nset settlement_day = 20\nset contract_lag = 14d\n";
  s += "campaign double11 from 2026-10-20T20:00 to 2026-11-12\n";
  for (int k = 0; static_cast<int>(std::count(s.begin(), s.end(), '\n')) < lines; ++k) {
    const std::string id = std::to_string(k);
    s += "let share_" + id + " = " + std::to_string(k % 50) + "%\n";
    s += "table t_" + id + " {\n  \"s1\": 60%\n  s2: 1 / 3\n  default: 50%\n}\n";
    s += "rule r_" + id + " on order.confirmed, order.refunded when order.confirmed and order.eligible {\n";
    s += "  let c = round(order.net * order.rate)\n";
    s += "  require c >= 0.00 else \"negative\"\n";
    s += "  if agency.active and in_campaign(double11, event.at) {\n";
    s += "    split c from @merchant:{order.merchant}:cps available settlement(event.at) per \"cps/\" + "
         "order.id {\n";
    s += "      share_" + id + " to @agency:{agency.id}:cps\n";
    s += "      t_" + id + "[order.streamer] to @platform:x\n";
    s += "      rest to @streamer:{order.streamer}:cps\n    }\n";
    s += "  } else {\n    move c from @merchant:{order.merchant}:cps to @streamer:{order.streamer}:cps\n  "
         "}\n}\n";
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  const int lines = argc > 1 ? std::atoi(argv[1]) : 10'000;
  const std::string text = generate(lines);
  std::size_t line_count = 0;
  for (char c : text) line_count += c == '\n';
  constexpr int kRuns = 5;
  std::int64_t best_us = INT64_MAX;
  for (int run = 0; run < kRuns; ++run) {
    const auto start = std::chrono::steady_clock::now();
    fz::dsl::CompileResult r = fz::dsl::compile_rules(text, "bench.rules");
    const auto end = std::chrono::steady_clock::now();
    if (!r.ruleset) {
      std::cerr << r.diagnostics;
      return 1;
    }
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(end - start).count();
    best_us = std::min<std::int64_t>(best_us, us);
  }
  std::cout << "parse + check of " << line_count << " lines (" << text.size() << " bytes): best of " << kRuns
            << " runs " << best_us / 1000 << "." << (best_us % 1000) / 100 << " ms\n";
  return 0;
}
