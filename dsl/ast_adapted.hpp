// Boost.Fusion adaptation of the syntax tree so that X3 can fill it (see ast.hpp).
#pragma once

#include <boost/fusion/include/adapt_struct.hpp>

#include "dsl/ast.hpp"

BOOST_FUSION_ADAPT_STRUCT(fz::dsl::ast::Literal, kind, text)
BOOST_FUSION_ADAPT_STRUCT(fz::dsl::ast::Ident, name)
BOOST_FUSION_ADAPT_STRUCT(fz::dsl::ast::Operation, op, operand)
BOOST_FUSION_ADAPT_STRUCT(fz::dsl::ast::Expr, first, rest)
BOOST_FUSION_ADAPT_STRUCT(fz::dsl::ast::IfExpr, cond, then_value, else_value)
BOOST_FUSION_ADAPT_STRUCT(fz::dsl::ast::UnaryExpr, op, operand)
BOOST_FUSION_ADAPT_STRUCT(fz::dsl::ast::FieldSuffix, name)
BOOST_FUSION_ADAPT_STRUCT(fz::dsl::ast::IndexSuffix, index)
BOOST_FUSION_ADAPT_STRUCT(fz::dsl::ast::CallSuffix, args)
BOOST_FUSION_ADAPT_STRUCT(fz::dsl::ast::PostfixExpr, base, suffixes)
BOOST_FUSION_ADAPT_STRUCT(fz::dsl::ast::ListExpr, items)
BOOST_FUSION_ADAPT_STRUCT(fz::dsl::ast::NameSegment, name)
BOOST_FUSION_ADAPT_STRUCT(fz::dsl::ast::ExprSegment, value)
BOOST_FUSION_ADAPT_STRUCT(fz::dsl::ast::Account, segments)
BOOST_FUSION_ADAPT_STRUCT(fz::dsl::ast::LetStmt, name, value)
BOOST_FUSION_ADAPT_STRUCT(fz::dsl::ast::RequireStmt, cond, message)
BOOST_FUSION_ADAPT_STRUCT(fz::dsl::ast::Block, stmts)
BOOST_FUSION_ADAPT_STRUCT(fz::dsl::ast::IfStmt, cond, then_block, else_branch)
BOOST_FUSION_ADAPT_STRUCT(fz::dsl::ast::MoveStmt, amount, from, to, available, per)
BOOST_FUSION_ADAPT_STRUCT(fz::dsl::ast::RestMarker, word)
BOOST_FUSION_ADAPT_STRUCT(fz::dsl::ast::Share, what, to)
BOOST_FUSION_ADAPT_STRUCT(fz::dsl::ast::SplitStmt, amount, from, available, per, shares)
BOOST_FUSION_ADAPT_STRUCT(fz::dsl::ast::SetItem, name, value)
BOOST_FUSION_ADAPT_STRUCT(fz::dsl::ast::CampaignItem, name, from, to)
BOOST_FUSION_ADAPT_STRUCT(fz::dsl::ast::TableEntry, key, value)
BOOST_FUSION_ADAPT_STRUCT(fz::dsl::ast::TableItem, name, entries, default_value)
BOOST_FUSION_ADAPT_STRUCT(fz::dsl::ast::EventTypeName, name)
BOOST_FUSION_ADAPT_STRUCT(fz::dsl::ast::RuleItem, name, on, when, body)
BOOST_FUSION_ADAPT_STRUCT(fz::dsl::ast::File, name, version, effective, items)
