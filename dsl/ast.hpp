// The syntax tree of a rules file (SPEC section 5), as the X3 grammar builds it.
//
// Every node that a diagnostic may point at derives from x3::position_tagged; the parser's position
// cache maps it back to a byte range of the source. Literals keep their source text: the checker
// decodes them (range checks, local times) once the file's settings are known. Plain values, no
// sharing; a File owns its whole tree.
#pragma once

#include <boost/optional.hpp>
#include <boost/spirit/home/x3/support/ast/position_tagged.hpp>
#include <boost/spirit/home/x3/support/ast/variant.hpp>
#include <string>
#include <vector>

namespace fz::dsl::ast {

namespace x3 = boost::spirit::x3;

enum class LitKind { kMoney, kPercent, kInt, kString, kTime, kDuration, kBool };

struct Literal : x3::position_tagged {
  LitKind kind = LitKind::kInt;
  std::string text;  // source text; for strings the decoded contents
};

struct Ident : x3::position_tagged {
  std::string name;
};

struct Nil {};
struct Expr;
struct IfExpr;
struct UnaryExpr;
struct PostfixExpr;
struct ListExpr;
struct Account;

struct Operand : x3::variant<Nil, Literal, Ident, x3::forward_ast<Account>, x3::forward_ast<ListExpr>,
                             x3::forward_ast<Expr>, x3::forward_ast<IfExpr>, x3::forward_ast<UnaryExpr>,
                             x3::forward_ast<PostfixExpr>> {
  using base_type::base_type;
  using base_type::operator=;
};

// One `op operand` link of a left-associative chain; positioned at the operator.
struct Operation : x3::position_tagged {
  std::string op;
  Operand operand;
};

struct Expr : x3::position_tagged {
  Operand first;
  std::vector<Operation> rest;
};

struct IfExpr : x3::position_tagged {
  Expr cond;
  Expr then_value;
  Expr else_value;
};

struct UnaryExpr : x3::position_tagged {
  std::string op;  // "-" or "not"
  Operand operand;
};

struct FieldSuffix : x3::position_tagged {
  std::string name;
};
struct IndexSuffix : x3::position_tagged {
  Expr index;
};
struct CallSuffix : x3::position_tagged {
  std::vector<Expr> args;
};
struct Suffix : x3::variant<FieldSuffix, IndexSuffix, CallSuffix> {
  using base_type::base_type;
  using base_type::operator=;
};

struct PostfixExpr : x3::position_tagged {
  Operand base;
  std::vector<Suffix> suffixes;
};

struct ListExpr : x3::position_tagged {
  std::vector<Expr> items;
};

struct NameSegment : x3::position_tagged {
  std::string name;
};
struct ExprSegment : x3::position_tagged {
  Expr value;
};
struct Segment : x3::variant<NameSegment, ExprSegment> {
  using base_type::base_type;
  using base_type::operator=;
};

struct Account : x3::position_tagged {
  std::vector<Segment> segments;
};

// Statements.
struct LetStmt : x3::position_tagged {
  Ident name;
  Expr value;
};

struct RequireStmt : x3::position_tagged {
  Expr cond;
  Literal message;
};

struct IfStmt;
struct MoveStmt;
struct SplitStmt;

struct Stmt : x3::variant<LetStmt, RequireStmt, x3::forward_ast<IfStmt>, x3::forward_ast<MoveStmt>,
                          x3::forward_ast<SplitStmt>> {
  using base_type::base_type;
  using base_type::operator=;
};

struct Block : x3::position_tagged {
  std::vector<Stmt> stmts;
};

struct ElseBranch : x3::variant<Block, x3::forward_ast<IfStmt>> {
  using base_type::base_type;
  using base_type::operator=;
};

struct IfStmt : x3::position_tagged {
  Expr cond;
  Block then_block;
  boost::optional<ElseBranch> else_branch;
};

struct MoveStmt : x3::position_tagged {
  Expr amount;
  Account from;
  Account to;
  boost::optional<Expr> available;
  boost::optional<Expr> per;
};

struct RestMarker : x3::position_tagged {
  std::string word;
};

struct ShareWhat : x3::variant<RestMarker, Expr> {
  using base_type::base_type;
  using base_type::operator=;
};

struct Share : x3::position_tagged {
  ShareWhat what;
  Account to;
};

struct SplitStmt : x3::position_tagged {
  Expr amount;
  Account from;
  boost::optional<Expr> available;
  boost::optional<Expr> per;
  std::vector<Share> shares;
};

// Items of a file.
struct SetItem : x3::position_tagged {
  Ident name;
  Literal value;
};

struct CampaignItem : x3::position_tagged {
  Ident name;
  Literal from;
  Literal to;
};

struct TableKey : x3::variant<Literal, Ident> {
  using base_type::base_type;
  using base_type::operator=;
};

struct TableEntry : x3::position_tagged {
  TableKey key;
  Expr value;
};

struct TableItem : x3::position_tagged {
  Ident name;
  std::vector<TableEntry> entries;
  boost::optional<Expr> default_value;
};

struct EventTypeName : x3::position_tagged {
  std::string name;
};

struct RuleItem : x3::position_tagged {
  Ident name;
  std::vector<EventTypeName> on;
  boost::optional<Expr> when;
  Block body;
};

struct Item : x3::variant<SetItem, LetStmt, CampaignItem, TableItem, RuleItem> {
  using base_type::base_type;
  using base_type::operator=;
};

struct File : x3::position_tagged {
  Ident name;
  Literal version;
  Literal effective;
  std::vector<Item> items;
};

}  // namespace fz::dsl::ast
