// The X3 parse configuration: iterator, skipper and context types shared by the grammar's
// declaration (grammar.hpp), its definition (grammar_def.hpp) and its one instantiation (grammar.cpp).
//
// ParseHandler is per parse: it owns the position cache (node -> source range) and the syntax errors
// the grammar's error handler records. Not thread-safe; one per parse.
#pragma once

#include <boost/spirit/home/x3.hpp>
#include <boost/spirit/home/x3/support/ast/position_tagged.hpp>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace fz::dsl::parser {

namespace x3 = boost::spirit::x3;

using iterator_type = const char*;

// Whitespace and `#` comments to the end of the line.
inline const auto skipper = x3::ascii::space | x3::lexeme['#' >> *(x3::standard::char_ - x3::eol)];
using skipper_type = std::remove_const_t<decltype(skipper)>;

struct SyntaxError {
  std::size_t offset = 0;  // byte offset into the source
  std::string message;
};

class ParseHandler {
 public:
  ParseHandler(iterator_type first, iterator_type last)
      : first_(first), last_(last), positions_(first, last) {}

  template <class Node>
  void tag(Node& node, iterator_type first, iterator_type last) {
    if constexpr (std::is_base_of_v<x3::position_tagged, Node>) {
      if (node.id_first < 0) positions_.annotate(node, skip_blank(first, last), last);
    } else if constexpr (requires { typename Node::variant_type; }) {
      // A variant rule: tag the alternative it holds (X3 may hand it the alternative's rule).
      boost::apply_visitor([&](auto& held) { tag(held, first, last); }, node);
    } else if constexpr (requires { node.get(); }) {
      tag(node.get(), first, last);  // forward_ast<T>
    }
  }
  // Byte offset of a tagged node's first character (0 if it was never tagged).
  std::size_t offset_of(const x3::position_tagged& node) const {
    if (node.id_first < 0) return 0;
    return static_cast<std::size_t>(positions_.position_of(node).begin() - first_);
  }
  // One past the node's last byte.
  std::size_t end_of(const x3::position_tagged& node) const {
    if (node.id_first < 0) return 0;
    return static_cast<std::size_t>(positions_.position_of(node).end() - first_);
  }
  void fail(iterator_type where, std::string message);
  // Skips whitespace and comments (X3 hands on_success the position before its pre-skip).
  static iterator_type skip_blank(iterator_type at, iterator_type last);

  const std::vector<SyntaxError>& errors() const { return errors_; }
  iterator_type first() const { return first_; }
  iterator_type last() const { return last_; }

 private:
  iterator_type first_;
  iterator_type last_;
  x3::position_cache<std::vector<iterator_type>> positions_;
  std::vector<SyntaxError> errors_;
};

struct parse_handler_tag;

using phrase_context_type = x3::phrase_parse_context<skipper_type>::type;
using context_type =
    x3::context<parse_handler_tag, std::reference_wrapper<ParseHandler>, phrase_context_type>;

}  // namespace fz::dsl::parser
