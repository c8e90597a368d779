// Definition of the rules-language grammar (SPEC section 5). Included by grammar.cpp only.
//
// Every rule is named in the words an operator uses ("an account such as ...") because the name is
// what an expectation failure reports. `>` follows every keyword that commits to a construct.
// Literals are captured as text and decoded by the checker; nothing here converts numbers.
#pragma once

#include <boost/spirit/home/x3.hpp>
#include <string>
#include <string_view>

#include "dsl/ast.hpp"
#include "dsl/ast_adapted.hpp"
#include "dsl/config.hpp"
#include "dsl/grammar.hpp"

namespace fz::dsl::parser {

namespace ascii = x3::ascii;
using x3::attr;
using x3::lexeme;
using x3::lit;
using x3::raw;
using x3::repeat;

inline constexpr int kMaxNesting = 64;
inline constexpr const char* kNestingWhat = "\001expression nested more than 64 levels deep";
static_assert(kNestingWhat[0] == kWholeMessage);
inline thread_local int g_nesting = 0;

bool is_reserved_word(std::string_view word);

// Records every tagged node's source range.
struct annotate {
  template <class T, class It, class Ctx>
  void on_success(It const& first, It const& last, T& node, Ctx const& ctx) {
    x3::get<parse_handler_tag>(ctx).get().tag(node, first, last);
  }
};

// Turns an expectation failure into a syntax error (only the top rule handles them).
struct report_errors {
  template <class It, class Exc, class Ctx>
  x3::error_handler_result on_error(It&, It const&, Exc const& failure, Ctx const& ctx) {
    x3::get<parse_handler_tag>(ctx).get().fail(failure.where(), failure.which());
    return x3::error_handler_result::fail;
  }
};

// nested[p]: p counts as one level of expression or block nesting; more than kMaxNesting levels is a
// syntax error (and keeps recursion, here and in the checker and evaluator, bounded). SPEC section 7
// allows 64 levels of any nesting construct: each ( ), [ ], index, call, {segment}, unary - or not,
// if-expression and if-block counts one level; a statement's or item's own expression and a rule's
// body are at level 0, so 64 nested parentheses are accepted and 65 refused.
template <class Subject>
struct nesting_directive : x3::unary_parser<Subject, nesting_directive<Subject>> {
  using base_type = x3::unary_parser<Subject, nesting_directive<Subject>>;
  static bool const is_pass_through_unary = true;
  constexpr nesting_directive(Subject const& subject) : base_type(subject) {}

  template <class It, class Ctx, class RCtx, class Attr>
  bool parse(It& first, It const& last, Ctx const& ctx, RCtx& rctx, Attr& attribute) const {
    if (g_nesting >= kMaxNesting) {
      It where = first;
      x3::skip_over(where, last, ctx);
      boost::throw_exception(x3::expectation_failure<It>(where, kNestingWhat));
    }
    struct Level {
      Level() { ++g_nesting; }
      ~Level() { --g_nesting; }
    } level;
    return this->subject.parse(first, last, ctx, rctx, attribute);
  }
};

struct nesting_gen {
  template <class Subject>
  constexpr nesting_directive<typename x3::extension::as_parser<Subject>::value_type> operator[](
      Subject const& subject) const {
    return {x3::as_parser(subject)};
  }
};
inline constexpr nesting_gen nested{};

auto const word_char = ascii::alnum | lit('_');
auto const digit = ascii::digit;

#define FZ_KEYWORD(word)                                       \
  struct kw_##word##_class;                                    \
  x3::rule<kw_##word##_class> const kw_##word = "'" #word "'"; \
  auto const kw_##word##_def = lexeme[lit(#word) >> !word_char];

FZ_KEYWORD(ruleset)
FZ_KEYWORD(version)
FZ_KEYWORD(effective)
FZ_KEYWORD(set)
FZ_KEYWORD(let)
FZ_KEYWORD(campaign)
FZ_KEYWORD(table)
FZ_KEYWORD(default)
FZ_KEYWORD(rule)
FZ_KEYWORD(on)
FZ_KEYWORD(when)
FZ_KEYWORD(require)
FZ_KEYWORD(else)
FZ_KEYWORD(if)
FZ_KEYWORD(then)
FZ_KEYWORD(move)
FZ_KEYWORD(split)
FZ_KEYWORD(from)
FZ_KEYWORD(to)
FZ_KEYWORD(available)
FZ_KEYWORD(per)
FZ_KEYWORD(rest)
FZ_KEYWORD(in)
FZ_KEYWORD(and)
FZ_KEYWORD(or)
FZ_KEYWORD(not )
FZ_KEYWORD(true)
FZ_KEYWORD(false)
#undef FZ_KEYWORD

BOOST_SPIRIT_DEFINE(kw_ruleset, kw_version, kw_effective, kw_set, kw_let, kw_campaign, kw_table, kw_default,
                    kw_rule, kw_on, kw_when, kw_require, kw_else, kw_if, kw_then, kw_move, kw_split, kw_from,
                    kw_to, kw_available, kw_per, kw_rest, kw_in, kw_and, kw_or, kw_not, kw_true, kw_false)

// Rule IDs: tagged nodes record their position.
struct ident_class : annotate {};
struct word_class;
struct literal_class;
struct time_lit_class : annotate {};
struct duration_lit_class : annotate {};
struct percent_lit_class : annotate {};
struct money_lit_class : annotate {};
struct int_lit_class : annotate {};
struct string_lit_class : annotate {};
struct bool_lit_class : annotate {};
struct expr_class : annotate {};
struct if_wrapped_class : annotate {};
struct if_expr_class : annotate {};
struct or_expr_class : annotate {};
struct and_expr_class : annotate {};
struct not_expr_class;
struct unary_not_class : annotate {};
struct cmp_expr_class : annotate {};
struct sum_expr_class : annotate {};
struct product_expr_class : annotate {};
struct unary_expr_class;
struct neg_expr_class : annotate {};
struct postfix_expr_class : annotate {};
struct primary_class;
struct paren_expr_class : annotate {};
struct list_expr_class : annotate {};
struct suffix_class;
struct field_suffix_class : annotate {};
struct index_suffix_class : annotate {};
struct call_suffix_class : annotate {};
struct or_op_class : annotate {};
struct and_op_class : annotate {};
struct cmp_op_class : annotate {};
struct sum_op_class : annotate {};
struct product_op_class : annotate {};
struct account_class : annotate {};
struct segment_class : annotate {};
struct name_segment_class : annotate {};
struct expr_segment_class : annotate {};
struct let_stmt_class : annotate {};
struct require_stmt_class : annotate {};
struct if_stmt_class : annotate {};
struct else_branch_class;
struct move_stmt_class : annotate {};
struct split_stmt_class : annotate {};
struct share_class : annotate {};
struct share_what_class;
struct rest_marker_class : annotate {};
struct stmt_class;
struct block_class : annotate {};
struct block_close_class;
struct set_item_class : annotate {};
struct setting_value_class;
struct campaign_item_class : annotate {};
struct table_item_class : annotate {};
struct table_entry_class : annotate {};
struct table_key_class;
struct table_close_class;
struct share_close_class;
struct rule_item_class : annotate {};
struct event_type_class : annotate {};
struct item_class;
struct end_of_file_class;
struct file_class : annotate, report_errors {};

x3::rule<word_class, std::string> const word = "a name";
x3::rule<ident_class, ast::Ident> const ident = "a name";
x3::rule<time_lit_class, ast::Literal> const time_lit = "a time such as 2026-11-11 or 2026-11-11T20:00";
x3::rule<duration_lit_class, ast::Literal> const duration_lit = "a duration such as 14d";
x3::rule<percent_lit_class, ast::Literal> const percent_lit = "a percentage such as 20%";
x3::rule<money_lit_class, ast::Literal> const money_lit = "an amount such as 12.34";
x3::rule<int_lit_class, ast::Literal> const int_lit = "a whole number such as 1";
x3::rule<string_lit_class, ast::Literal> const string_lit = "a string in double quotes";
x3::rule<bool_lit_class, ast::Literal> const bool_lit = "true or false";
x3::rule<literal_class, ast::Literal> const literal = "a value";
x3::rule<expr_class, ast::Expr> const expr = "an expression";
struct inner_expr_class;
x3::rule<inner_expr_class, ast::Expr> const inner_expr = "an expression";  // one level deeper
x3::rule<if_wrapped_class, ast::Expr> const if_wrapped = "an expression";
x3::rule<if_expr_class, ast::IfExpr> const if_expr = "an if-expression";
x3::rule<or_expr_class, ast::Expr> const or_expr = "an expression";
x3::rule<and_expr_class, ast::Expr> const and_expr = "an expression";
x3::rule<not_expr_class, ast::Operand> const not_expr = "an expression";
x3::rule<unary_not_class, ast::UnaryExpr> const unary_not = "an expression";
x3::rule<cmp_expr_class, ast::Expr> const cmp_expr = "an expression";
x3::rule<sum_expr_class, ast::Expr> const sum_expr = "an expression";
x3::rule<product_expr_class, ast::Expr> const product_expr = "an expression";
x3::rule<unary_expr_class, ast::Operand> const unary_expr = "an expression";
x3::rule<neg_expr_class, ast::UnaryExpr> const neg_expr = "an expression";
x3::rule<postfix_expr_class, ast::PostfixExpr> const postfix_expr = "an expression";
x3::rule<primary_class, ast::Operand> const primary = "an expression";
x3::rule<paren_expr_class, ast::Expr> const paren_expr = "an expression";
x3::rule<list_expr_class, ast::ListExpr> const list_expr = "a list such as [\"a\", \"b\"]";
x3::rule<suffix_class, ast::Suffix> const suffix = "'.', '[' or '('";
x3::rule<field_suffix_class, ast::FieldSuffix> const field_suffix = "a field name";
x3::rule<index_suffix_class, ast::IndexSuffix> const index_suffix = "'['";
x3::rule<call_suffix_class, ast::CallSuffix> const call_suffix = "'('";
x3::rule<or_op_class, std::string> const or_op = "'or'";
x3::rule<and_op_class, std::string> const and_op = "'and'";
x3::rule<cmp_op_class, std::string> const cmp_op = "a comparison";
x3::rule<sum_op_class, std::string> const sum_op = "'+' or '-'";
x3::rule<product_op_class, std::string> const product_op = "'*' or '/'";
x3::rule<account_class, ast::Account> const account = "an account such as @streamer:{order.streamer}:cps";
x3::rule<segment_class, ast::Segment> const segment =
    "an account segment such as streamer or {order.streamer} (no spaces inside an account)";
x3::rule<name_segment_class, ast::NameSegment> const name_segment = "an account segment";
x3::rule<expr_segment_class, ast::ExprSegment> const expr_segment = "an account segment";
x3::rule<let_stmt_class, ast::LetStmt> const let_stmt = "'let'";
x3::rule<require_stmt_class, ast::RequireStmt> const require_stmt = "'require'";
x3::rule<if_stmt_class, ast::IfStmt> const if_stmt = "'if'";
x3::rule<else_branch_class, ast::ElseBranch> const else_branch = "'{' or 'if' after 'else'";
x3::rule<move_stmt_class, ast::MoveStmt> const move_stmt = "'move'";
x3::rule<split_stmt_class, ast::SplitStmt> const split_stmt = "'split'";
struct shares_class;
struct segments_class;
x3::rule<shares_class, std::vector<ast::Share>> const shares =
    "a share such as 20% to @agency:{streamer.agency}:cps";
x3::rule<segments_class, std::vector<ast::Segment>> const segments =
    "an account segment such as streamer or {order.streamer} (no spaces inside an account)";
x3::rule<share_class, ast::Share> const share = "a share such as 20% to @agency:{streamer.agency}:cps";
x3::rule<share_what_class, ast::ShareWhat> const share_what = "a share such as 20% or 'rest'";
x3::rule<rest_marker_class, ast::RestMarker> const rest_marker = "'rest'";
x3::rule<stmt_class, ast::Stmt> const stmt = "a statement (let, require, if, move or split)";
x3::rule<block_class, ast::Block> const block = "'{'";
struct inner_block_class;
x3::rule<inner_block_class, ast::Block> const inner_block = "'{'";  // an if's block: one level deeper
x3::rule<block_close_class> const block_close = "a statement (let, require, if, move or split) or '}'";
x3::rule<set_item_class, ast::SetItem> const set_item = "'set'";
x3::rule<setting_value_class, ast::Literal> const setting_value = "a value such as \"+08:00\", 20 or 14d";
x3::rule<campaign_item_class, ast::CampaignItem> const campaign_item = "'campaign'";
x3::rule<table_item_class, ast::TableItem> const table_item = "'table'";
x3::rule<table_entry_class, ast::TableEntry> const table_entry = "a table entry such as \"s1\": 50%";
x3::rule<table_key_class, ast::TableKey> const table_key = "a table key";
x3::rule<table_close_class> const table_close = "a table entry such as \"s1\": 50%, 'default' or '}'";
x3::rule<share_close_class> const share_close =
    "another share such as rest to @streamer:{order.streamer}:cps, or '}'";
struct event_types_class;
x3::rule<event_types_class, std::vector<ast::EventTypeName>> const event_types =
    "an event type such as order.confirmed";
x3::rule<rule_item_class, ast::RuleItem> const rule_item = "'rule'";
x3::rule<event_type_class, ast::EventTypeName> const event_type = "an event type such as order.confirmed";
x3::rule<item_class, ast::Item> const item = "'set', 'let', 'campaign', 'table' or 'rule'";
x3::rule<end_of_file_class> const end_of_file = "'set', 'let', 'campaign', 'table' or 'rule'";
file_type const file = "'ruleset'";

// Names and literals.
auto const set_value = [](auto& ctx) { x3::_val(ctx).value = std::move(x3::_attr(ctx)); };

auto const word_def = lexeme[(ascii::alpha | x3::char_('_')) >> *(ascii::alnum | x3::char_('_'))];
// `available` is a keyword (the `available T` clause) and also a function: available(@account).
auto const reserved_word = kw_and | kw_available | kw_campaign | kw_default | kw_effective | kw_else |
                           kw_false | kw_from | kw_if | kw_in | kw_let | kw_move | kw_not | kw_on | kw_or |
                           kw_per | kw_require | kw_rest | kw_rule | kw_ruleset | kw_set | kw_split |
                           kw_table | kw_then | kw_to | kw_true | kw_version | kw_when;
auto const ident_def = (!reserved_word >> word) | (&(kw_available >> '(') >> x3::string("available"));

auto const two = repeat(2)[digit];
auto const time_lit_def =
    attr(ast::LitKind::kTime) >> raw[lexeme[repeat(4)[digit] >> '-' >> two >> '-' >> two >>
                                            -('T' >> two >> ':' >> two >> -(':' >> two >> -('.' >> +digit)) >>
                                              -(lit('Z') | ((lit('+') | lit('-')) >> two >> ':' >> two))) >>
                                            !word_char]];
auto const duration_lit_def = attr(ast::LitKind::kDuration) >>
                              raw[lexeme[+digit >> ascii::char_("dhms") >> !word_char >>
                                         *(+ascii::blank >> +digit >> ascii::char_("dhms") >> !word_char)]];
auto const percent_lit_def = attr(ast::LitKind::kPercent) >> raw[lexeme[+digit >> -('.' >> +digit) >> '%']];
auto const money_lit_def = attr(ast::LitKind::kMoney) >> raw[lexeme[+digit >> '.' >> +digit >> !word_char]];
auto const int_lit_def = attr(ast::LitKind::kInt) >> raw[lexeme[+digit >> !(word_char | '.')]];

// A backslash escape in a string: \" \\ or \n. Any other character after the backslash is an
// error named at the backslash (before, the string just ended there: "expected '\"'"); a backslash
// at the end of a line or of the file still leaves the string unclosed.
struct escape_parser : x3::parser<escape_parser> {
  using attribute_type = char;
  static bool const has_attribute = true;

  template <class It, class Ctx, class RCtx, class Attr>
  bool parse(It& first, It const& last, Ctx const&, RCtx&, Attr& attribute) const {
    if (first == last || *first != '\\') return false;
    It next = std::next(first);
    if (next == last || *next == '\n' || *next == '\r') return false;
    char value = *next;
    if (value == 'n') {
      value = '\n';
    } else if (value != '"' && value != '\\') {
      It end = std::next(next);  // the whole character after the backslash, if it is not ASCII
      while (end != last && (static_cast<unsigned char>(*end) & 0xc0) == 0x80) ++end;
      boost::throw_exception(x3::expectation_failure<It>(
          first, std::string(1, kWholeMessage) + "unknown escape '\\" + std::string(next, end) +
                     "' in a string; the escapes are \\\" \\\\ and \\n"));
    }
    x3::traits::move_to(value, attribute);
    first = std::next(next);
    return true;
  }
};
auto const escaped = escape_parser{};
auto const string_lit_def = attr(ast::LitKind::kString) >>
                            lexeme[('"' >> *(escaped | (x3::standard::char_ - x3::char_("\"\\\n")))) > '"'];
auto const bool_lit_def = attr(ast::LitKind::kBool) >> raw[kw_true | kw_false];
auto const literal_def = time_lit | duration_lit | percent_lit | money_lit | int_lit | string_lit | bool_lit;

// Expressions, lowest precedence first.
auto const expr_def = if_wrapped | or_expr;
auto const inner_expr_def = nested[expr];
auto const if_wrapped_def = if_expr >> attr(std::vector<ast::Operation>());
auto const if_expr_def = kw_if > inner_expr > kw_then > inner_expr > kw_else > inner_expr;
auto const or_op_def = kw_or >> attr(std::string("or"));
auto const and_op_def = kw_and >> attr(std::string("and"));
auto const cmp_op_def = x3::string("==") | x3::string("!=") | x3::string("<=") | x3::string(">=") |
                        x3::string("<") | x3::string(">") | (kw_in >> attr(std::string("in")));
auto const sum_op_def = x3::string("+") | x3::string("-");
auto const product_op_def = x3::string("*") | x3::string("/");
struct or_link_class : annotate {};
struct and_link_class : annotate {};
struct cmp_link_class : annotate {};
struct sum_link_class : annotate {};
struct product_link_class : annotate {};
x3::rule<or_link_class, ast::Operation> const or_link = "an expression";
x3::rule<and_link_class, ast::Operation> const and_link = "an expression";
x3::rule<cmp_link_class, ast::Operation> const cmp_link = "an expression";
x3::rule<sum_link_class, ast::Operation> const sum_link = "an expression";
x3::rule<product_link_class, ast::Operation> const product_link = "an expression";
auto const or_link_def = or_op > and_expr;
auto const and_link_def = and_op > not_expr;
auto const cmp_link_def = cmp_op > sum_expr;
auto const sum_link_def = sum_op > product_expr;
auto const product_link_def = product_op > unary_expr;
auto const or_expr_def = and_expr >> *or_link;
auto const and_expr_def = not_expr >> *and_link;
auto const not_expr_def = unary_not | cmp_expr;
auto const unary_not_def = (kw_not >> attr(std::string("not"))) > nested[not_expr];
auto const cmp_expr_def = sum_expr >> repeat(0, 1)[cmp_link];
auto const sum_expr_def = product_expr >> *sum_link;
auto const product_expr_def = unary_expr >> *product_link;
auto const unary_expr_def = neg_expr | postfix_expr;
auto const neg_expr_def = x3::string("-") > nested[unary_expr];
auto const postfix_expr_def = primary >> *suffix;
auto const primary_def = literal | account | list_expr | paren_expr | ident;
auto const paren_expr_def = '(' > inner_expr > ')';
auto const list_expr_def = '[' > -(inner_expr % ',') > ']';
auto const suffix_def = field_suffix | index_suffix | call_suffix;
auto const field_suffix_def = '.' > word;
auto const index_suffix_def = '[' > inner_expr > ']';
auto const call_suffix_def = '(' > -(inner_expr % ',') > ')';

// Accounts. The checker rejects spaces inside an account (outside {expression} segments) from the
// segments' positions: a lexeme[] here would nest a new skipper context for every {expression}.
auto const account_def = '@' > segments;
auto const segments_def = segment > *(':' > segment);
auto const segment_def = name_segment | expr_segment;
struct segment_text_class;
x3::rule<segment_text_class, std::string> const segment_text = "an account segment";
auto const segment_text_def = lexeme[+(ascii::alnum | x3::char_("_.-"))];
auto const name_segment_def = segment_text;
auto const expr_segment_def = '{' > inner_expr[set_value] > '}';

// Statements.
auto const let_stmt_def = kw_let > ident > '=' > expr;
auto const require_stmt_def = kw_require > expr > kw_else > string_lit;
auto const if_stmt_def = kw_if > expr > inner_block > -(kw_else > else_branch);
auto const else_branch_def = inner_block | nested[if_stmt];
auto const move_stmt_def = kw_move > expr > kw_from > account > kw_to > account > -(kw_available > expr) >
                           -(kw_per > expr);
auto const split_stmt_def = kw_split > expr > kw_from > account > -(kw_available > expr) > -(kw_per > expr) >
                            '{' > shares > share_close;
auto const shares_def = share > *share;
auto const share_def = share_what > kw_to > account;
auto const share_what_def = rest_marker | expr;
struct rest_text_class;
x3::rule<rest_text_class, std::string> const rest_text = "'rest'";
auto const rest_text_def = raw[kw_rest];
auto const rest_marker_def = rest_text;
auto const stmt_def = let_stmt | require_stmt | if_stmt | move_stmt | split_stmt;
auto const block_def = '{' > *stmt > block_close;
auto const inner_block_def = nested[block];
auto const block_close_def = lit('}');

// Items.
auto const set_item_def = kw_set > ident > '=' > setting_value;
auto const setting_value_def = literal;
auto const campaign_item_def = kw_campaign > ident > kw_from > time_lit > kw_to > time_lit;
auto const table_item_def = kw_table > ident > '{' > *table_entry > -(kw_default > ':' > expr) > table_close;
auto const table_entry_def = table_key > ':' > expr;
auto const table_key_def = string_lit | ident;
auto const table_close_def = lit('}');
auto const share_close_def = lit('}');
struct event_type_text_class;
x3::rule<event_type_text_class, std::string> const event_type_text = "an event type such as order.confirmed";
auto const event_type_text_def = raw[lexeme[word >> *('.' >> word)]];
auto const event_type_def = event_type_text;
auto const event_types_def = event_type > *(',' > event_type);
auto const rule_item_def = kw_rule > ident > kw_on > event_types > -(kw_when > expr) > block;
auto const item_def = set_item | let_stmt | campaign_item | table_item | rule_item;
auto const end_of_file_def = x3::eoi;
auto const file_def =
    kw_ruleset > ident > kw_version > int_lit > kw_effective > time_lit > *item > end_of_file;

BOOST_SPIRIT_DEFINE(word, ident, time_lit, duration_lit, percent_lit, money_lit, int_lit, string_lit,
                    bool_lit, literal, expr, if_wrapped, if_expr, or_op, and_op, cmp_op, sum_op, product_op,
                    or_link, and_link)
BOOST_SPIRIT_DEFINE(cmp_link, sum_link, product_link, or_expr, and_expr, not_expr, unary_not, cmp_expr,
                    sum_expr, product_expr, unary_expr, neg_expr, postfix_expr, primary, paren_expr,
                    list_expr, suffix, field_suffix, index_suffix, call_suffix)
BOOST_SPIRIT_DEFINE(account, segment, name_segment, expr_segment, let_stmt, require_stmt, if_stmt,
                    else_branch, move_stmt, split_stmt, share, share_what, rest_marker, stmt, block,
                    block_close, set_item, setting_value, campaign_item, table_item)
BOOST_SPIRIT_DEFINE(inner_expr, inner_block)
BOOST_SPIRIT_DEFINE(table_entry, table_key, table_close, share_close, event_type, rule_item, item,
                    end_of_file, file, event_types, segment_text, rest_text, event_type_text, shares,
                    segments)

}  // namespace fz::dsl::parser
