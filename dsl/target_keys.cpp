// static_target_keys (dsl/eval.hpp): the `per` keys a ruleset would use for an event, where the event
// alone decides them. Walks the compiled program read-only, so it is safe on any thread.
#include "dsl/eval.hpp"
#include "dsl/program.hpp"

namespace fz::dsl {
namespace {

using detail::Node;
using detail::Op;
using detail::Program;
using detail::Stmt;
using detail::StmtKind;

// Deep enough for any key a person writes ("cps/" + order.id + "/" + event.case); a deeper expression
// is simply not read ahead.
constexpr int kMaxKeyDepth = 16;

// Appends the string expression `n` to *out when only the event decides it; false otherwise.
bool event_string(const Program& p, std::int32_t n, const Event& e, int depth, std::string* out) {
  if (n < 0 || depth > kMaxKeyDepth) return false;
  const Node& node = p.nodes[static_cast<std::size_t>(n)];
  if (node.type != Type::kString) return false;
  switch (node.op) {
    case Op::kConst:
      *out += p.constants[static_cast<std::size_t>(node.slot)].s;
      return true;
    case Op::kAdd:
      return event_string(p, node.a, e, depth + 1, out) && event_string(p, node.b, e, depth + 1, out);
    case Op::kEventId:
      *out += e.id;
      return true;
    case Op::kEventField: {
      const int index = p.event_slots[static_cast<std::size_t>(node.slot)][static_cast<std::size_t>(e.type)];
      if (index < 0 || !e.field(index).present) return false;
      *out += e.field(index).s;
      return true;
    }
    case Op::kEntityField:
      // order.id is the event's own `order` field (the order's other fields are its stored state).
      if (node.entity != EntityKind::kOrder || node.slot != static_cast<int>(OrderField::kId) ||
          !fields::kOrder.holds(e.type)) {
        return false;
      }
      *out += e.text(fields::kOrder);
      return true;
    default:
      return false;
  }
}

void collect(const Program& p, const std::vector<Stmt>& body, const Event& e, std::vector<std::string>* out) {
  for (const Stmt& s : body) {
    if ((s.kind == StmtKind::kMove || s.kind == StmtKind::kSplit) && s.per >= 0) {
      std::string key;
      if (event_string(p, s.per, e, 0, &key) && !key.empty()) out->push_back(std::move(key));
    }
    collect(p, s.then_body, e, out);
    collect(p, s.else_body, e, out);
  }
}

}  // namespace

void static_target_keys(const Ruleset& ruleset, const Event& event, std::vector<std::string>* out) {
  const Program& p = ruleset.program();
  const std::uint32_t bit = std::uint32_t{1} << static_cast<unsigned>(event.type);
  for (const detail::Rule& rule : p.rules) {
    if ((rule.on_mask & bit) != 0) collect(p, rule.body, event, out);
  }
}

}  // namespace fz::dsl
