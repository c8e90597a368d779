// Front door of the rules language: compile a rules file's text into a Ruleset, and the logic of
// `fenzhang rules check FILE…`. Stateless functions; thread-safe.
#pragma once

#include <cstddef>
#include <iosfwd>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "dsl/ruleset.hpp"

namespace fz::dsl {

inline constexpr std::size_t kMaxRulesFileBytes = 1 << 20;  // 1 MiB (SPEC section 7)

struct [[nodiscard]] CompileResult {
  std::optional<Ruleset> ruleset;  // set when the file checked clean
  std::string diagnostics;         // otherwise: every error, formatted, each ending in a newline
  std::size_t error_count = 0;
};

// Parses and checks `source`; `filename` is only used in the diagnostics.
[[nodiscard]] CompileResult compile_rules(std::string_view source, std::string_view filename);

// "ok: taobao_live v1, 4 rules, 1 table, 1 campaign"
std::string summary_line(const RulesetInfo& info);

// `fenzhang rules check FILE…`: one summary line per clean file on `out`, diagnostics (and unreadable
// files) on `err`. Returns 0 when every file checked clean, 1 otherwise.
[[nodiscard]] int run_rules_check(std::span<const std::string> files, std::ostream& out, std::ostream& err);

}  // namespace fz::dsl
