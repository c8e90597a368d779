#include "dsl/parse.hpp"

#include <string>

#include "dsl/grammar.hpp"

namespace fz::dsl {

namespace parser {

iterator_type ParseHandler::skip_blank(iterator_type at, iterator_type last) {
  while (at != last) {
    const char c = *at;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      ++at;
    } else if (c == '#') {
      while (at != last && *at != '\n') ++at;
    } else {
      break;
    }
  }
  return at;
}

void ParseHandler::fail(iterator_type where, std::string message) {
  if (!errors_.empty()) return;
  where = skip_blank(where, last_);
  std::string text;
  if (!message.empty() && message[0] == kWholeMessage) {
    text = message.substr(1);
  } else {
    text = "expected " + message;
    if (where == last_) text += " before the end of the file";
  }
  errors_.push_back(SyntaxError{static_cast<std::size_t>(where - first_), std::move(text)});
}

}  // namespace parser

ParseOutput parse_rules(std::string_view source) {
  ParseOutput out;
  const char* first = source.data();
  const char* last = source.data() + source.size();
  out.handler = std::make_unique<parser::ParseHandler>(first, last);
  parser::reset_nesting();
  const auto parser =
      boost::spirit::x3::with<parser::parse_handler_tag>(std::ref(*out.handler))[file_grammar()];
  const char* it = first;
  bool ok = false;
  try {
    ok = boost::spirit::x3::phrase_parse(it, last, parser, parser::skipper, out.file);
  } catch (const boost::spirit::x3::expectation_failure<const char*>& failure) {
    out.handler->fail(failure.where(), failure.which());
  }
  if (!ok && out.handler->errors().empty()) out.handler->fail(it, "'ruleset'");
  out.ok = ok && out.handler->errors().empty();
  return out;
}

}  // namespace fz::dsl
