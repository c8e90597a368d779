#include "dsl/machine.hpp"

#include <fmt/format.h>
#include <algorithm>

#include "core/money.hpp"

namespace fz::dsl::detail {

namespace {

Rational as_rational(const Value& v) {
  if (v.type == Type::kRatio || v.type == Type::kFrac) return v.q;
  return Rational::integer(v.i);
}

Value make(Type type, std::int64_t i) {
  Value v;
  v.type = type;
  v.i = i;
  return v;
}

Value make_q(Type type, Rational q) {
  Value v;
  v.type = type;
  v.q = q;
  return v;
}

const char* op_symbol(Op op) {
  switch (op) {
    case Op::kAdd:
      return "+";
    case Op::kSub:
      return "-";
    case Op::kMul:
      return "×";
    case Op::kDiv:
      return "/";
    case Op::kAnd:
      return "and";
    case Op::kOr:
      return "or";
    case Op::kEq:
      return "==";
    case Op::kNe:
      return "!=";
    case Op::kLt:
      return "<";
    case Op::kLe:
      return "<=";
    case Op::kGt:
      return ">";
    case Op::kGe:
      return ">=";
    case Op::kIn:
      return "in";
    default:
      return "?";
  }
}

bool is_binary(Op op) {
  return op >= Op::kAdd && op <= Op::kIn && op != Op::kNeg && op != Op::kNot;
}

bool valid_segment(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

}  // namespace

std::string format_value(const Value& v, OffsetSec offset) {
  switch (v.type) {
    case Type::kMoney:
      return format_money(v.i);
    case Type::kFrac:
      return format_frac_money(v.q);
    case Type::kRatio:
      return format_ratio(v.q);
    case Type::kInt:
    case Type::kCampaign:
      return std::to_string(v.i);
    case Type::kBool:
      return v.i ? "true" : "false";
    case Type::kString:
      return "\"" + v.s + "\"";
    case Type::kAccount:
      return v.s;
    case Type::kTime:
      return format_time(v.i, offset);
    case Type::kDuration:
      return format_duration(v.i);
    case Type::kList:
    case Type::kAny: {
      std::string out = "[";
      if (v.list) {
        for (std::size_t k = 0; k < v.list->size(); ++k) {
          if (k) out += ", ";
          out += format_value((*v.list)[k], offset);
        }
      }
      return out + "]";
    }
  }
  return "?";
}

bool Machine::fail(std::string message) {
  error_ = std::move(message);
  return false;
}

// Every computed time must lie in SPEC 7's range (settlement(t), t + 99999999d, ...): outside it is an
// evaluation error naming the expression, never a clamped or wrapped time.
bool Machine::eval(std::int32_t n, Value* out) {
  if (!eval_node(n, out)) return false;
  if (out->type == Type::kTime && !in_supported_range(out->i)) {
    const Node& node = program_.nodes[static_cast<std::size_t>(n)];
    return fail(fmt::format("{} is outside the supported times ({})", node.label.empty() ? "a time" : node.label,
                            kSupportedRange));
  }
  return true;
}

bool Machine::eval_node(std::int32_t n, Value* out) {
  const Node& node = program_.nodes[static_cast<std::size_t>(n)];
  switch (node.op) {
    case Op::kConst:
      *out = program_.constants[static_cast<std::size_t>(node.slot)];
      return true;
    case Op::kLocal:
      *out = locals_[static_cast<std::size_t>(node.slot)];
      return true;
    case Op::kEventId:
      *out = Value{Type::kString, 0, {}, event_->id, nullptr};
      return true;
    case Op::kEventType:
      *out = Value{Type::kString, 0, {}, std::string(spec_of(event_->type).name), nullptr};
      return true;
    case Op::kEventAt:
      *out = make(Type::kTime, event_->at_us);
      return true;
    case Op::kEventField:
    case Op::kEntityField:
      return eval_field(node, out);
    case Op::kNeg: {
      if (!eval(node.a, out)) return false;
      if (out->type == Type::kRatio || out->type == Type::kFrac) {
        auto r = neg(out->q);
        if (!r) return fail("overflow negating " + format_value(*out, offset()));
        out->q = *r;
      } else {
        if (out->i == INT64_MIN) return fail("overflow negating " + format_value(*out, offset()));
        out->i = -out->i;
      }
      return true;
    }
    case Op::kNot:
      if (!eval(node.a, out)) return false;
      out->i = !out->i;
      return true;
    case Op::kAnd:
    case Op::kOr: {
      if (!eval(node.a, out)) return false;
      if ((node.op == Op::kAnd) != (out->i != 0)) return true;  // short circuit
      return eval(node.b, out);
    }
    case Op::kIf: {
      Value cond;
      if (!eval(node.a, &cond)) return false;
      if (!eval(cond.i ? node.b : node.c, out)) return false;
      if (node.type == Type::kRatio && out->type == Type::kInt)
        *out = make_q(Type::kRatio, as_rational(*out));
      if (node.type == Type::kFrac && out->type == Type::kMoney)
        *out = make_q(Type::kFrac, as_rational(*out));
      return true;
    }
    case Op::kList: {
      auto items = std::make_shared<std::vector<Value>>(node.args.size());
      for (std::size_t k = 0; k < node.args.size(); ++k) {
        if (!eval(node.args[k], &(*items)[k])) return false;
      }
      *out = Value{Type::kList, 0, {}, {}, std::move(items)};
      return true;
    }
    case Op::kAccount:
      return eval_account(node, out);
    case Op::kTable:
      return eval_table(node, out);
    default:
      if (is_binary(node.op)) return eval_binary(node, out);
      return eval_call(node, out);
  }
}

bool Machine::eval_field(const Node& node, Value* out) {
  FieldValue fv;
  std::string what = node.label;
  if (node.op == Op::kEventField) {
    const auto index =
        program_.event_slots[static_cast<std::size_t>(node.slot)][static_cast<std::size_t>(event_->type)];
    fv = event_->field(index);
  } else if (facts_ == nullptr || !facts_->entity_field(node.entity, node.slot, &fv)) {
    fv.present = false;
  }
  if (!fv.present) return fail(what + " has no value for this event");
  out->type = node.type;
  out->s.clear();
  if (node.type == Type::kString) {
    out->s = std::move(fv.s);
  } else if (node.type == Type::kRatio) {
    auto q = make_rational(fv.i, static_cast<std::int64_t>(kPercentScale));
    if (!q) return fail(what + " is out of range");
    out->q = *q;
  } else {
    out->i = fv.i;
  }
  return true;
}

bool Machine::eval_binary(const Node& node, Value* out) {
  Value a;
  Value b;
  if (!eval(node.a, &a) || !eval(node.b, &b)) return false;
  if (node.op >= Op::kEq) return eval_compare(node, a, b, out);
  return eval_arith(node, a, b, out);
}

bool Machine::eval_arith(const Node& node, const Value& a, const Value& b, Value* out) {
  const auto overflow = [&] {
    return fail(fmt::format("overflow in {} {} {}", format_value(a, offset()), op_symbol(node.op),
                            format_value(b, offset())));
  };
  const bool exact = node.type == Type::kRatio || node.type == Type::kFrac;
  if (node.type == Type::kString) {
    *out = a;
    out->s += b.s;
    return true;
  }
  if (exact) {
    const Rational x = as_rational(a);
    const Rational y = as_rational(b);
    std::optional<Rational> r;
    switch (node.op) {
      case Op::kAdd:
        r = add(x, y);
        break;
      case Op::kSub:
        r = sub(x, y);
        break;
      case Op::kMul:
        r = mul(x, y);
        break;
      default:
        if (y.num == 0) {
          return fail(
              fmt::format("division by zero: {} / {}", format_value(a, offset()), format_value(b, offset())));
        }
        r = div(x, y);
        break;
    }
    if (!r) return overflow();
    *out = make_q(node.type, *r);
    return true;
  }
  std::optional<std::int64_t> r;
  switch (node.op) {
    case Op::kAdd:
      r = add_fen(a.i, b.i);
      break;
    case Op::kSub:
      r = sub_fen(a.i, b.i);
      break;
    default:
      r = mul_fen(a.i, b.i);
      break;
  }
  if (!r) return overflow();
  *out = make(node.type, *r);
  return true;
}

bool Machine::eval_compare(const Node& node, const Value& a, const Value& b, Value* out) {
  if (node.op == Op::kIn) {
    bool found = false;
    if (b.list) {
      for (const Value& item : *b.list) {
        Value eq;
        Node probe = node;
        probe.op = Op::kEq;
        if (!eval_compare(probe, a, item, &eq)) return false;
        if (eq.i) {
          found = true;
          break;
        }
      }
    }
    *out = make(Type::kBool, found);
    return true;
  }
  int c = 0;
  if (a.type == Type::kString || a.type == Type::kAccount) {
    c = a.s.compare(b.s);
  } else if (a.type == Type::kRatio || b.type == Type::kRatio || a.type == Type::kFrac) {
    const auto o = compare(as_rational(a), as_rational(b));
    c = o < 0 ? -1 : (o > 0 ? 1 : 0);
  } else {
    c = a.i < b.i ? -1 : (a.i > b.i ? 1 : 0);
  }
  bool r = false;
  switch (node.op) {
    case Op::kEq:
      r = c == 0;
      break;
    case Op::kNe:
      r = c != 0;
      break;
    case Op::kLt:
      r = c < 0;
      break;
    case Op::kLe:
      r = c <= 0;
      break;
    case Op::kGt:
      r = c > 0;
      break;
    default:
      r = c >= 0;
      break;
  }
  *out = make(Type::kBool, r);
  return true;
}

bool Machine::sum_postings(const std::string& account, bool only_available, Fen* out) {
  if (facts_ == nullptr) return fail("balance() needs an event");
  if (only_available) return least_available(account, out);
  Fen total = facts_->balance(account);
  if (overlay_ != nullptr) {
    for (const RulePosting& p : *overlay_) {
      if (p.account != account) continue;
      auto sum = add_fen(total, p.amount_fen);
      if (!sum) return fail("overflow in the balance of " + account);
      total = *sum;
    }
  }
  *out = total;
  return true;
}

// SPEC 5: available(account) is what can be spent at the event's time without the account ever going
// below zero later: the least, over every moment t >= the event's `at`, of the sum of the account's
// postings so far (earlier events, and this event's postings made before this statement) whose
// availability is <= t. The balance only changes at the schedule's entries, so the least is taken over
// the event's time and each later entry, summing all the entries of one instant before comparing.
// Exact: 128-bit running sums, and a least value outside 64 bits is an overflow error.
bool Machine::least_available(const std::string& account, Fen* out) {
  const TimeUs at_us = event_->at_us;
  Int128 running = facts_->available(account, at_us);
  std::vector<std::pair<TimeUs, Fen>> later;
  facts_->schedule_after(account, at_us, &later);
  if (overlay_ != nullptr) {
    for (const RulePosting& p : *overlay_) {
      if (p.account != account) continue;
      if (p.available_from_us <= at_us) {
        running += p.amount_fen;
      } else {
        later.emplace_back(p.available_from_us, p.amount_fen);
      }
    }
    std::stable_sort(later.begin(), later.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
  }
  const Int128 now = running;
  Int128 least = running;
  TimeUs least_from = at_us;
  for (std::size_t i = 0; i < later.size();) {
    const TimeUs t = later[i].first;
    for (; i < later.size() && later[i].first == t; ++i) running += later[i].second;
    if (running < least) {
      least = running;
      least_from = t;
    }
  }
  if (!fits_int64(least) || !fits_int64(now)) return fail("overflow in the available balance of " + account);
  *out = static_cast<Fen>(least);
  if (trace_ != nullptr && !rendering_) {
    if (least == now) {
      trace_->line(trace_depth_, fmt::format("available({}) = {}: available at {} and never less later",
                                             account, format_money(*out), format_time(at_us, offset())));
    } else {
      trace_->line(trace_depth_,
                   fmt::format("available({}) = {}: {} available at {}, but only {} from {} on (later "
                               "postings already counted: spending more would overdraw the account then)",
                               account, format_money(*out), format_money(static_cast<Fen>(now)),
                               format_time(at_us, offset()), format_money(*out),
                               format_time(least_from, offset())));
    }
  }
  return true;
}

bool Machine::eval_call(const Node& node, Value* out) {
  Value x;
  if (node.a >= 0 && !eval(node.a, &x)) return false;
  switch (node.op) {
    case Op::kRound:
    case Op::kFloor:
    case Op::kCeil: {
      if (x.type != Type::kFrac && x.type != Type::kRatio) {
        *out = x;
        return true;
      }
      // Exact in 128 bits (core/rational.hpp); the rounded value must fit the int64 result.
      const Int128 v = node.op == Op::kRound   ? round_half_away(x.q)
                       : node.op == Op::kFloor ? floor_of(x.q)
                                               : ceil_of(x.q);
      if (!fits_int64(v))
        return fail(fmt::format("overflow in {}({})", node.label, format_value(x, offset())));
      *out = make(node.type, static_cast<std::int64_t>(v));
      if (trace_ != nullptr && !rendering_ && !x.q.is_integer()) {
        const char* how = node.op == Op::kRound   ? "half away from zero"
                          : node.op == Op::kFloor ? "down"
                                                  : "up";
        trace_->line(trace_depth_, fmt::format("{}: {} -> {} (rounded {})", node.label,
                                               format_value(x, offset()), format_value(*out, offset()), how));
      }
      return true;
    }
    case Op::kMin:
    case Op::kMax: {
      if (!eval(node.args[0], out)) return false;
      for (std::size_t k = 1; k < node.args.size(); ++k) {
        Value y;
        Value less;
        if (!eval(node.args[k], &y)) return false;
        Node probe = node;
        probe.op = Op::kLt;
        if (!eval_compare(probe, y, *out, &less)) return false;
        if ((node.op == Op::kMin) == (less.i != 0)) *out = y;
      }
      if (node.type == Type::kRatio && out->type == Type::kInt)
        *out = make_q(Type::kRatio, as_rational(*out));
      return true;
    }
    case Op::kSettlement:
      *out = make(Type::kTime, settlement_day_after(x.i, info_.settlement_day, info_.timezone));
      return true;
    case Op::kNextMidnight:
      *out = make(Type::kTime, next_midnight(x.i, info_.timezone));
      return true;
    case Op::kMonth:
      *out = Value{Type::kString, 0, {}, month_of(x.i, info_.timezone), nullptr};
      return true;
    case Op::kInCampaignAny:
    case Op::kInCampaign: {
      bool inside = false;
      for (std::size_t k = 0; k < info_.campaigns.size(); ++k) {
        if (node.op == Op::kInCampaign && static_cast<std::int32_t>(k) != node.slot) continue;
        const auto& c = info_.campaigns[k];
        if (c.from_us <= x.i && x.i < c.to_us) inside = true;
      }
      *out = make(Type::kBool, inside);
      return true;
    }
    case Op::kBalance:
    case Op::kAvailable: {
      Fen total = 0;
      if (!sum_postings(x.s, node.op == Op::kAvailable, &total)) return false;
      *out = make(Type::kMoney, total);
      return true;
    }
    default:
      return fail("internal error: unknown operation");
  }
}

bool Machine::eval_account(const Node& node, Value* out) {
  std::string name = "@";
  for (std::size_t k = 0; k < node.args.size(); ++k) {
    Value seg;
    if (!eval(node.args[k], &seg)) return false;
    const std::string text = seg.type == Type::kString ? seg.s : format_value(seg, offset());
    if (!valid_segment(text)) {
      return fail(fmt::format("account segment \"{}\" is not a valid name (letters, digits, _ - .)", text));
    }
    if (k) name += ':';
    name += text;
  }
  if (name.size() > kMaxAccountBytes) {
    return fail(fmt::format("account name {} is longer than {} bytes", name, kMaxAccountBytes));
  }
  *out = Value{Type::kAccount, 0, {}, std::move(name), nullptr};
  return true;
}

bool Machine::eval_table(const Node& node, Value* out) {
  Value key;
  if (!eval(node.a, &key)) return false;
  const Table& table = program_.tables[static_cast<std::size_t>(node.slot)];
  const auto it = std::lower_bound(table.entries.begin(), table.entries.end(), key.s,
                                   [](const auto& entry, const std::string& k) { return entry.first < k; });
  if (it != table.entries.end() && it->first == key.s) {
    *out = it->second;
  } else if (table.fallback) {
    *out = *table.fallback;
  } else {
    return fail(fmt::format("table {} has no entry \"{}\" and no default", table.name, key.s));
  }
  if (node.type == Type::kRatio && out->type == Type::kInt) *out = make_q(Type::kRatio, as_rational(*out));
  return true;
}

std::string Machine::render(std::int32_t n) {
  const bool was_rendering = rendering_;
  rendering_ = true;
  std::string text = render_node(n);
  rendering_ = was_rendering;
  return text;
}

std::string Machine::render_node(std::int32_t n) {
  const Node& node = program_.nodes[static_cast<std::size_t>(n)];
  const auto child = [&](std::int32_t c) {
    const Node& sub = program_.nodes[static_cast<std::size_t>(c)];
    std::string text = render_node(c);
    return is_binary(sub.op) ? "(" + text + ")" : text;
  };
  Value v;
  switch (node.op) {
    case Op::kNeg:
      return "-" + child(node.a);
    case Op::kNot:
      return "not " + child(node.a);
    case Op::kIf:
      return "if " + render_node(node.a) + " then " + render_node(node.b) + " else " + render_node(node.c);
    case Op::kList:
    case Op::kMin:
    case Op::kMax: {
      std::string out = node.op == Op::kList ? "[" : node.label + "(";
      for (std::size_t k = 0; k < node.args.size(); ++k) out += (k ? ", " : "") + render_node(node.args[k]);
      return out + (node.op == Op::kList ? "]" : ")");
    }
    case Op::kRound:
    case Op::kFloor:
    case Op::kCeil:
    case Op::kSettlement:
    case Op::kNextMidnight:
    case Op::kMonth:
    case Op::kInCampaignAny:
      return node.label + "(" + render_node(node.a) + ")";
    case Op::kInCampaign:
      return node.label + "(" + info_.campaigns[static_cast<std::size_t>(node.slot)].name + ", " +
             render_node(node.a) + ")";
    default:
      break;
  }
  if (is_binary(node.op)) return child(node.a) + " " + op_symbol(node.op) + " " + child(node.b);
  if (!eval(n, &v)) return node.label.empty() ? "?" : node.label;
  return format_value(v, offset());
}

}  // namespace fz::dsl::detail
