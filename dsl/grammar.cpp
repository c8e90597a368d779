// Instantiates the rules-language grammar (the only translation unit that includes grammar_def.hpp).
#include "dsl/grammar_def.hpp"

#include <algorithm>
#include <array>

namespace fz::dsl::parser {

BOOST_SPIRIT_INSTANTIATE(file_type, iterator_type, context_type)

void reset_nesting() {
  g_nesting = 0;
}

bool is_reserved_word(std::string_view word) {
  static constexpr std::array<std::string_view, 28> kReserved = {
      "and", "available", "campaign", "default", "effective", "else", "false",   "from", "if",   "in",
      "let", "move",      "not",      "on",      "or",        "per",  "require", "rest", "rule", "ruleset",
      "set", "split",     "table",    "then",    "to",        "true", "version", "when"};
  return std::find(kReserved.begin(), kReserved.end(), word) != kReserved.end();
}

}  // namespace fz::dsl::parser

namespace fz::dsl {
const parser::file_type& file_grammar() {
  return parser::file;
}
}  // namespace fz::dsl
