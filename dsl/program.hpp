// The compiled form of a ruleset: expression nodes in one vector, names resolved to slots, constants
// folded. Internal to dsl/ (the checker builds it, the evaluator runs it). Immutable after building.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/rational.hpp"
#include "dsl/entities.hpp"
#include "model/event.hpp"

namespace fz::dsl::detail {

struct Value {
  Type type = Type::kInt;
  std::int64_t i = 0;  // money (fen), int, bool, time, duration; campaign index
  Rational q;          // ratio, fractional money (in fen)
  std::string s;       // string, account
  std::shared_ptr<const std::vector<Value>> list;
};

enum class Op : std::uint8_t {
  kConst,
  kLocal,
  kEventField,
  kEventId,
  kEventType,
  kEventAt,
  kEntityField,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kNeg,
  kNot,
  kAnd,
  kOr,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kIn,
  kIf,
  kList,
  kAccount,
  kRound,
  kFloor,
  kCeil,
  kMin,
  kMax,
  kSettlement,
  kNextMidnight,
  kInCampaignAny,
  kInCampaign,
  kMonth,
  kBalance,
  kAvailable,
  kTable,
};

struct Node {
  Op op = Op::kConst;
  Type type = Type::kInt;
  std::int32_t a = -1, b = -1, c = -1;  // operands
  std::int32_t slot = -1;               // constant, local, event-field table, entity field, table index
  EntityKind entity = EntityKind::kOrder;
  std::vector<std::int32_t> args;  // min/max arguments, list items, account segments
  std::string label;               // source name for traces: "order.net", "commission", "round"
};

using EventSlots = std::array<std::int8_t, kEventTypeCount + 1>;  // field index by EventType, -1 none

enum class StmtKind : std::uint8_t { kLet, kRequire, kIf, kMove, kSplit };

struct Share {
  std::int32_t ratio = -1;  // -1: rest
  std::int32_t account = -1;
};

struct Stmt {
  StmtKind kind = StmtKind::kLet;
  int line = 0;
  std::int32_t expr = -1;  // let value, require/if condition, move/split amount
  std::int32_t slot = -1;  // let: local slot
  std::string text;        // let: name; require: message
  std::int32_t from = -1, to = -1, available = -1, per = -1;
  std::vector<Share> shares;
  std::vector<Stmt> then_body, else_body;
};

struct Rule {
  std::string name;
  int line = 0;
  std::uint32_t on_mask = 0;  // bit per EventType value
  std::int32_t when = -1;
  std::vector<Stmt> body;
  int local_count = 0;
};

struct Table {
  std::string name;
  std::vector<std::pair<std::string, Value>> entries;  // sorted by key
  std::optional<Value> fallback;
};

struct Program {
  std::vector<Node> nodes;
  std::vector<Value> constants;
  std::vector<EventSlots> event_slots;
  std::vector<Rule> rules;
  std::vector<Table> tables;
};

}  // namespace fz::dsl::detail
