// The checker: type-checks a parsed rules file and compiles it (SPEC section 5). Internal to dsl/;
// see compile_rules() in rules_check.hpp.
#pragma once

#include <optional>
#include <string_view>

#include "dsl/diagnostics.hpp"
#include "dsl/parse.hpp"
#include "dsl/ruleset.hpp"

namespace fz::dsl {

// Reports every problem it finds to *diags; returns a Ruleset only when there were none.
[[nodiscard]] std::optional<Ruleset> check_rules(const ParseOutput& parsed, std::string_view source,
                                                 Diagnostics* diags);

}  // namespace fz::dsl
