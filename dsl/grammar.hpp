// The rules-language grammar (SPEC section 5) as a Boost.Spirit X3 rule; see parse.hpp for the
// function that runs it. Declared here, defined in grammar_def.hpp, instantiated once in grammar.cpp.
#pragma once

#include <boost/spirit/home/x3.hpp>

#include "dsl/ast.hpp"

namespace fz::dsl::parser {

namespace x3 = boost::spirit::x3;

struct file_class;
using file_type = x3::rule<file_class, ast::File>;
BOOST_SPIRIT_DECLARE(file_type)

// An expectation failure whose which() starts with this character carries the whole error message
// after it (such as "expression nested more than 64 levels deep"), not the name of what was expected.
inline constexpr char kWholeMessage = '\x01';

// Resets the nesting counter of the calling thread before a parse.
void reset_nesting();

}  // namespace fz::dsl::parser

namespace fz::dsl {
const parser::file_type& file_grammar();
}
