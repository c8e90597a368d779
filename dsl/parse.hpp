// Parsing a rules file into its syntax tree (ast.hpp). Internal to dsl/: the public entry points are
// compile_rules() and run_rules_check() in rules_check.hpp.
#pragma once

#include <memory>
#include <string_view>

#include "dsl/ast.hpp"
#include "dsl/config.hpp"

namespace fz::dsl {

struct ParseOutput {
  ast::File file;
  // Positions of the tree's nodes and the syntax error, if any. Points into the parsed text, which must
  // outlive it.
  std::unique_ptr<parser::ParseHandler> handler;
  bool ok = false;
};

// Parses `source`; on failure handler->errors() holds exactly one syntax error.
[[nodiscard]] ParseOutput parse_rules(std::string_view source);

}  // namespace fz::dsl
