#include "dsl/checker.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "core/money.hpp"
#include "dsl/machine.hpp"

namespace fz::dsl {

namespace {

using detail::Node;
using detail::Op;
using detail::Program;
using detail::Stmt;
using detail::StmtKind;
using detail::Value;

constexpr int kMaxDepth = 256;  // compiled expression depth (operator chains included)

struct Typed {
  std::int32_t node = -1;  // -1: an error was already reported
  Type type = Type::kInt;
  Type elem = Type::kAny;  // lists
  bool constant = false;
  int depth = 1;
  bool ok() const { return node >= 0; }
};

struct Global {
  enum Kind { kLet, kTable, kCampaign } kind;
  std::int32_t index;  // constant slot, table or campaign index
  Type type;
};

bool is_number(Type t) {
  return t == Type::kInt || t == Type::kRatio;
}
bool is_moneyish(Type t) {
  return t == Type::kMoney || t == Type::kFrac;
}

std::string frac_hint(std::string_view use) {
  return fmt::format("fractional money must be rounded with round(), floor() or ceil() before it is {}", use);
}

class Checker {
 public:
  Checker(const ParseOutput& parsed, std::string_view source, Diagnostics* diags)
      : parsed_(parsed), source_(source), diags_(*diags) {}

  std::optional<Ruleset> run() {
    const ast::File& file = parsed_.file;
    for (const auto& item : file.items) {
      if (auto* set = boost::get<ast::SetItem>(&item)) check_setting(*set);
    }
    info_.name = file.name.name;
    if (auto v = int_literal(file.version); v && *v < 1)
      error(file.version, "version must be 1 or more");
    else if (v)
      info_.version = *v;
    if (auto t = time_literal(file.effective)) info_.effective_us = *t;
    for (const auto& item : file.items) {
      if (auto* c = boost::get<ast::CampaignItem>(&item)) check_campaign(*c);
    }
    for (const auto& item : file.items) {
      if (auto* l = boost::get<ast::LetStmt>(&item)) check_global_let(*l);
      if (auto* t = boost::get<ast::TableItem>(&item)) check_table(*t);
    }
    for (const auto& item : file.items) {
      if (auto* r = boost::get<ast::RuleItem>(&item)) check_rule(*r);
    }
    if (!diags_.empty()) return std::nullopt;
    return Ruleset(std::make_shared<RulesetInfo>(std::move(info_)),
                   std::make_shared<Program>(std::move(prog_)));
  }

 private:
  // ---- positions and errors ----
  std::size_t offset(const ast::x3::position_tagged& node) const { return parsed_.handler->offset_of(node); }
  int line_of(const ast::x3::position_tagged& node) {
    if (line_starts_.empty()) {
      line_starts_.push_back(0);
      for (std::size_t k = 0; k < source_.size(); ++k) {
        if (source_[k] == '\n') line_starts_.push_back(k + 1);
      }
    }
    const auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset(node));
    return static_cast<int>(it - line_starts_.begin());
  }
  void error(const ast::x3::position_tagged& node, std::string message) {
    diags_.error(offset(node), std::move(message));
  }
  void error_at(std::size_t at, std::string message) { diags_.error(at, std::move(message)); }

  // ---- program building ----
  std::int32_t add_node(Node node) {
    prog_.nodes.push_back(std::move(node));
    return static_cast<std::int32_t>(prog_.nodes.size() - 1);
  }
  Typed constant(Value v) {
    prog_.constants.push_back(v);
    Node n;
    n.op = Op::kConst;
    n.type = v.type;
    n.slot = static_cast<std::int32_t>(prog_.constants.size() - 1);
    return Typed{add_node(std::move(n)), v.type, Type::kAny, true, 1};
  }
  std::optional<Value> fold(const Typed& t, const ast::x3::position_tagged& where) {
    if (!t.ok() || !t.constant) return std::nullopt;
    detail::Machine machine(prog_, info_, nullptr, nullptr, nullptr);
    Value v;
    if (!machine.eval(t.node, &v)) {
      error(where, machine.error());
      return std::nullopt;
    }
    return v;
  }

  // ---- literals ----
  std::optional<std::int64_t> int_literal(const ast::Literal& lit) {
    std::int64_t v = 0;
    for (char c : lit.text) {
      if (v > (INT64_MAX - (c - '0')) / 10) {
        error(lit, "number " + lit.text + " is too large");
        return std::nullopt;
      }
      v = v * 10 + (c - '0');
    }
    return v;
  }

  std::optional<TimeUs> time_literal(const ast::Literal& lit) {
    const std::string& t = lit.text;
    const bool has_offset =
        t.size() > 16 && (t.back() == 'Z' || t[t.size() - 6] == '+' || t[t.size() - 6] == '-');
    if (has_offset) {
      auto r = parse_rfc3339(t);
      if (!r) {
        error(lit, "invalid time " + t + ": " + r.message());
        return std::nullopt;
      }
      return *r;
    }
    const auto num = [&](std::size_t pos, std::size_t len) { return std::stoi(t.substr(pos, len)); };
    int hour = 0, minute = 0, second = 0;
    std::int64_t micros = 0;
    if (t.size() >= 16) {
      hour = num(11, 2);
      minute = num(14, 2);
    }
    if (t.size() >= 19) second = num(17, 2);
    if (t.size() > 20) {
      const std::string frac = t.substr(20);
      if (frac.size() > 6) {
        error(lit, "invalid time " + t + ": at most 6 fractional digits");
        return std::nullopt;
      }
      micros = std::stoll(frac + std::string(6 - frac.size(), '0'));
    }
    TimeUs out = 0;
    if (!civil_to_us(num(0, 4), num(5, 2), num(8, 2), hour, minute, second, micros, info_.timezone, &out)) {
      error(lit, "invalid time " + t);
      return std::nullopt;
    }
    // The range parse_rfc3339() gives times with an offset, read here in the ruleset's timezone.
    if (!in_supported_range(out)) {
      error(lit, fmt::format("invalid time {}: at {} (the ruleset's timezone) it is outside {}", t,
                             format_offset(info_.timezone), kSupportedRange));
      return std::nullopt;
    }
    return out;
  }

  std::optional<DurationUs> duration_literal(const ast::Literal& lit) {
    static constexpr std::string_view kUnits = "dhms";
    static constexpr std::int64_t kScale[] = {kUsPerDay, 3600 * kUsPerSecond, 60 * kUsPerSecond,
                                              kUsPerSecond};
    DurationUs total = 0;
    int last_unit = -1;
    std::int64_t n = 0;
    for (char c : lit.text) {
      if (c >= '0' && c <= '9') {
        if (n > (INT64_MAX - 9) / 10) return bad_duration(lit, "is too long");
        n = n * 10 + (c - '0');
      } else if (const auto u = kUnits.find(c); u != std::string_view::npos) {
        if (static_cast<int>(u) <= last_unit)
          return bad_duration(lit, "must list d, h, m, s in that order, each once");
        last_unit = static_cast<int>(u);
        auto part = mul_fen(n, kScale[u]);
        auto sum = part ? add_fen(total, *part) : std::nullopt;
        if (!sum) return bad_duration(lit, "is too long");
        total = *sum;
        n = 0;
      }
    }
    return total;
  }
  std::optional<DurationUs> bad_duration(const ast::Literal& lit, std::string_view why) {
    error(lit, fmt::format("duration {} {}", lit.text, why));
    return std::nullopt;
  }

  Typed literal(const ast::Literal& lit) {
    Value v;
    switch (lit.kind) {
      case ast::LitKind::kMoney: {
        const auto dot = lit.text.find('.');
        if (lit.text.size() - dot - 1 > 2) {
          std::string digits = lit.text.substr(0, dot) + lit.text.substr(dot + 1);
          std::string pct = digits.substr(0, dot + 2) + "." + digits.substr(dot + 2);
          pct.erase(0, std::min(pct.find_first_not_of('0'), pct.find('.') - 1));
          error(lit,
                fmt::format("{} has more than 2 decimals: money is counted in fen (for a ratio write {}%)",
                            lit.text, pct));
          return {};
        }
        auto fen = parse_money(lit.text);
        if (!fen) {
          error(lit, "amount " + lit.text + " is out of range");
          return {};
        }
        v.type = Type::kMoney;
        v.i = *fen;
        break;
      }
      case ast::LitKind::kPercent: {
        auto r = parse_percent(lit.text);
        if (!r) {
          error(lit, "invalid percentage " + lit.text + ": " + r.message());
          return {};
        }
        v.type = Type::kRatio;
        v.q = *r;
        break;
      }
      case ast::LitKind::kInt: {
        auto i = int_literal(lit);
        if (!i) return {};
        v.i = *i;
        break;
      }
      case ast::LitKind::kString:
        v.type = Type::kString;
        v.s = lit.text;
        break;
      case ast::LitKind::kTime: {
        auto t = time_literal(lit);
        if (!t) return {};
        v.type = Type::kTime;
        v.i = *t;
        break;
      }
      case ast::LitKind::kDuration: {
        auto d = duration_literal(lit);
        if (!d) return {};
        v.type = Type::kDuration;
        v.i = *d;
        break;
      }
      case ast::LitKind::kBool:
        v.type = Type::kBool;
        v.i = lit.text == "true";
        break;
    }
    return constant(std::move(v));
  }

  // ---- settings, campaigns, lets, tables ----
  void check_setting(const ast::SetItem& set) {
    const std::string& name = set.name.name;
    if (std::find(settings_seen_.begin(), settings_seen_.end(), name) != settings_seen_.end()) {
      error(set.name, "setting '" + name + "' is set twice");
      return;
    }
    settings_seen_.push_back(name);
    const ast::Literal& lit = set.value;
    if (name == "timezone") {
      auto off =
          lit.kind == ast::LitKind::kString ? parse_utc_offset(lit.text) : Result<OffsetSec>(make_error(""));
      if (!off) return error(lit, "timezone must be a UTC offset such as \"+08:00\"");
      info_.timezone = *off;
    } else if (name == "settlement_day") {
      auto day = lit.kind == ast::LitKind::kInt ? int_literal(lit) : std::nullopt;
      if (!day || *day < 1 || *day > 28) {
        return error(lit, "settlement_day must be a day of the month from 1 to 28, found " + lit.text);
      }
      info_.settlement_day = static_cast<int>(*day);
    } else if (name == "contract_lag") {
      if (lit.kind != ast::LitKind::kDuration)
        return error(lit, "contract_lag must be a duration such as 14d");
      if (auto d = duration_literal(lit)) info_.contract_lag_us = *d;
    } else {
      error(set.name, "unknown setting '" + name + "' (known: timezone, settlement_day, contract_lag)");
    }
  }

  bool declare(const ast::Ident& name, Global g) {
    if (builtin(name.name)) {
      error(name, "'" + name.name + "' is a built-in name");
      return false;
    }
    if (!globals_.emplace(name.name, g).second) {
      error(name, "duplicate name '" + name.name + "'");
      return false;
    }
    return true;
  }
  static bool builtin(std::string_view name) {
    static constexpr std::string_view kNames[] = {"event",       "round", "floor",      "ceil",
                                                  "min",         "max",   "settlement", "next_midnight",
                                                  "in_campaign", "month", "balance"};
    return std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames) ||
           entity_from_name(name).has_value();
  }

  void check_campaign(const ast::CampaignItem& c) {
    auto from = time_literal(c.from);
    auto to = time_literal(c.to);
    if (from && to && *from >= *to) error(c.to, "campaign " + c.name.name + " ends before it starts");
    const auto index = static_cast<std::int32_t>(info_.campaigns.size());
    if (!declare(c.name, Global{Global::kCampaign, index, Type::kCampaign})) return;
    info_.campaigns.push_back(CampaignInfo{c.name.name, from.value_or(0), to.value_or(0)});
  }

  void check_global_let(const ast::LetStmt& let) {
    Typed t = expr(let.value);
    if (!t.ok()) return;
    if (!t.constant)
      return error(let.value, "a file-level let must be a constant (it cannot read events or balances)");
    if (t.type == Type::kFrac) return error(let.value, frac_hint("bound to a let"));
    auto v = fold(t, let.value);
    if (!v) return;
    prog_.constants.push_back(*v);
    ++info_.let_count;
    declare(let.name, Global{Global::kLet, static_cast<std::int32_t>(prog_.constants.size() - 1), t.type});
  }

  void check_table(const ast::TableItem& item) {
    detail::Table table;
    table.name = item.name.name;
    std::optional<Type> type;
    const auto value_of = [&](const ast::Expr& e) -> std::optional<Value> {
      Typed t = expr(e);
      if (!t.ok()) return std::nullopt;
      if (!t.constant) {
        error(e, "table values must be constants");
        return std::nullopt;
      }
      if (t.type == Type::kFrac) {
        error(e, frac_hint("stored in a table"));
        return std::nullopt;
      }
      Type ty = t.type == Type::kInt && type == Type::kRatio ? Type::kRatio : t.type;
      if (type && *type != ty && !(*type == Type::kInt && ty == Type::kRatio)) {
        error(e, fmt::format("table {} mixes {} and {} values", table.name, type_name(*type), type_name(ty)));
        return std::nullopt;
      }
      if (!type || *type == Type::kInt) type = ty;
      return fold(t, e);
    };
    std::set<std::string> keys;
    for (const auto& entry : item.entries) {
      std::string key;
      const ast::x3::position_tagged* where = nullptr;
      if (auto* lit = boost::get<ast::Literal>(&entry.key)) {
        key = lit->text;
        where = lit;
      } else {
        const auto& id = boost::get<ast::Ident>(entry.key);
        key = id.name;
        where = &id;
      }
      auto v = value_of(entry.value);
      if (!v) continue;
      if (!keys.insert(key).second) {
        error(*where, "table " + table.name + " has the key \"" + key + "\" twice");
        continue;
      }
      table.entries.emplace_back(key, *v);
    }
    if (item.default_value) table.fallback = value_of(*item.default_value);
    std::sort(table.entries.begin(), table.entries.end(), [](auto& a, auto& b) { return a.first < b.first; });
    if (!type) return error(item.name, "table " + table.name + " is empty");
    const auto index = static_cast<std::int32_t>(prog_.tables.size());
    if (!declare(item.name, Global{Global::kTable, index, *type})) return;
    prog_.tables.push_back(std::move(table));
    ++info_.table_count;
  }

  // ---- rules ----
  void check_rule(const ast::RuleItem& item) {
    detail::Rule rule;
    rule.name = item.name.name;
    rule.line = line_of(item);
    if (!rule_names_.insert(rule.name).second) error(item.name, "duplicate rule name '" + rule.name + "'");
    RuleInfo ri{rule.name, rule.line, {}};
    entity_mask_ = ~0u;
    on_types_.clear();
    for (const auto& on : item.on) {
      auto type = event_type_from_name(on.name);
      if (!type) {
        error(on, "unknown event type '" + on.name + "'");
        continue;
      }
      if (*type == EventType::kAdjustment || *type == EventType::kRulesPublished) {
        error(on, "rules never run on " + on.name + " events");
        continue;
      }
      rule.on_mask |= 1u << static_cast<unsigned>(*type);
      entity_mask_ &= entities_of(*type);
      on_types_.push_back(*type);
      ri.on.push_back(*type);
    }
    if (on_types_.empty()) entity_mask_ = 0;
    scopes_.assign(1, {});
    local_count_ = 0;
    in_rule_ = true;
    if (item.when) {
      Typed w = expr(*item.when);
      if (w.ok() && w.type != Type::kBool)
        error(*item.when, "'when' needs a condition (bool), found " + std::string(type_name(w.type)));
      rule.when = w.node;
    }
    rule.body = block(item.body);
    rule.local_count = local_count_;
    in_rule_ = false;
    prog_.rules.push_back(std::move(rule));
    info_.rules.push_back(std::move(ri));
  }

  std::vector<Stmt> block(const ast::Block& b) {
    scopes_.emplace_back();
    std::vector<Stmt> out;
    for (const auto& s : b.stmts) {
      Stmt st;
      if (statement(s, &st)) out.push_back(std::move(st));
    }
    scopes_.pop_back();
    return out;
  }

  bool statement(const ast::Stmt& s, Stmt* out) {
    struct Visitor {
      Checker& c;
      Stmt* out;
      bool operator()(const ast::LetStmt& s) const { return c.let_stmt(s, out); }
      bool operator()(const ast::RequireStmt& s) const { return c.require_stmt(s, out); }
      bool operator()(const ast::IfStmt& s) const { return c.if_stmt(s, out); }
      bool operator()(const ast::MoveStmt& s) const { return c.move_stmt(s, out); }
      bool operator()(const ast::SplitStmt& s) const { return c.split_stmt(s, out); }
    };
    return boost::apply_visitor(Visitor{*this, out}, s);
  }

  const std::pair<std::int32_t, Type>* find_local(const std::string& name) const {
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
      if (auto f = it->find(name); f != it->end()) return &f->second;
    }
    return nullptr;
  }

  bool let_stmt(const ast::LetStmt& s, Stmt* out) {
    Typed t = expr(s.value);
    if (find_local(s.name.name) || globals_.count(s.name.name) || builtin(s.name.name)) {
      error(s.name, "duplicate name '" + s.name.name + "'");
      return false;
    }
    if (!t.ok()) return false;
    if (t.type == Type::kFrac) {
      error(s.value, frac_hint("bound to a let"));
      return false;
    }
    out->kind = StmtKind::kLet;
    out->line = line_of(s);
    out->expr = t.node;
    out->slot = local_count_++;
    out->text = s.name.name;
    scopes_.back().emplace(s.name.name, std::make_pair(out->slot, t.type));
    return true;
  }

  bool condition(const ast::Expr& e, std::string_view what, std::int32_t* node) {
    Typed t = expr(e);
    if (!t.ok()) return false;
    if (t.type != Type::kBool) {
      error(e, fmt::format("'{}' needs a condition (bool), found {}", what, type_name(t.type)));
      return false;
    }
    *node = t.node;
    return true;
  }

  bool require_stmt(const ast::RequireStmt& s, Stmt* out) {
    out->kind = StmtKind::kRequire;
    out->line = line_of(s);
    out->text = s.message.text;
    return condition(s.cond, "require", &out->expr);
  }

  bool if_stmt(const ast::IfStmt& s, Stmt* out) {
    out->kind = StmtKind::kIf;
    out->line = line_of(s);
    const bool ok = condition(s.cond, "if", &out->expr);
    out->then_body = block(s.then_block);
    if (s.else_branch) {
      if (auto* b = boost::get<ast::Block>(&*s.else_branch)) {
        out->else_body = block(*b);
      } else {
        const ast::IfStmt& nested = boost::get<ast::x3::forward_ast<ast::IfStmt>>(*s.else_branch).get();
        Stmt inner;
        if (if_stmt(nested, &inner)) out->else_body.push_back(std::move(inner));
      }
    }
    return ok;
  }

  bool amount(const ast::Expr& e, std::int32_t* node) {
    Typed t = expr(e);
    if (!t.ok()) return false;
    if (t.type == Type::kFrac) {
      error(e, frac_hint("moved"));
      return false;
    }
    if (t.type != Type::kMoney) {
      error(e, fmt::format("the amount must be money, found {}", type_name(t.type)));
      return false;
    }
    *node = t.node;
    return true;
  }

  bool clauses(const boost::optional<ast::Expr>& available, const boost::optional<ast::Expr>& per,
               Stmt* out) {
    bool ok = true;
    if (available) {
      Typed t = expr(*available);
      if (t.ok() && t.type != Type::kTime) {
        error(*available, fmt::format("'available' needs a time, found {}", type_name(t.type)));
        ok = false;
      }
      ok = ok && t.ok();
      out->available = t.node;
    }
    if (per) {
      Typed t = expr(*per);
      if (t.ok() && t.type != Type::kString) {
        error(*per, fmt::format("'per' needs a string key such as \"cps/\" + order.id, found {}",
                                type_name(t.type)));
        ok = false;
      }
      ok = ok && t.ok();
      out->per = t.node;
    }
    return ok;
  }

  bool move_stmt(const ast::MoveStmt& s, Stmt* out) {
    out->kind = StmtKind::kMove;
    out->line = line_of(s);
    bool ok = amount(s.amount, &out->expr);
    out->from = account(s.from).node;
    out->to = account(s.to).node;
    ok = clauses(s.available, s.per, out) && ok;
    return ok && out->from >= 0 && out->to >= 0;
  }

  bool split_stmt(const ast::SplitStmt& s, Stmt* out) {
    out->kind = StmtKind::kSplit;
    out->line = line_of(s);
    bool ok = amount(s.amount, &out->expr);
    out->from = account(s.from).node;
    ok = clauses(s.available, s.per, out) && ok && out->from >= 0;
    Rational total{0, 1};
    bool all_constant = true;
    int rests = 0;
    for (const auto& share : s.shares) {
      detail::Share sh;
      if (auto* rest = boost::get<ast::RestMarker>(&share.what)) {
        if (++rests > 1) {
          error(*rest, "at most one 'rest' share");
          ok = false;
        }
      } else {
        const ast::Expr& e = boost::get<ast::Expr>(share.what);
        Typed t = expr(e);
        if (t.ok() && t.type != Type::kRatio) {
          error(e, fmt::format("a share must be a ratio such as 20%, found {}", type_name(t.type)));
          t.node = -1;
        }
        sh.ratio = t.node;
        if (!t.ok()) {
          ok = false;
          all_constant = false;
        } else if (!t.constant) {
          all_constant = false;
        } else if (auto v = fold(t, e)) {
          if (v->q.num < 0) {
            error(e, "share " + format_ratio(v->q) + " is negative");
            ok = false;
          }
          if (auto sum = add(total, v->q)) {
            total = *sum;
          } else {
            // Never drop a share from the total: the check below would judge the wrong sum.
            error(e, "overflow in the shares' total " + format_ratio(total) + " + " + format_ratio(v->q));
            ok = false;
            all_constant = false;
          }
        } else {
          all_constant = false;
          ok = false;
        }
      }
      sh.account = account(share.to).node;
      ok = ok && sh.account >= 0;
      out->shares.push_back(sh);
    }
    if (all_constant && rests <= 1) ok = check_share_total(s, total, rests == 1) && ok;
    return ok;
  }

  bool check_share_total(const ast::SplitStmt& s, Rational total, bool has_rest) {
    const Rational one{1, 1};
    const auto c = compare(total, one);
    if (has_rest && c > 0) {
      error(s, "shares other than 'rest' total " + format_ratio(total) + ", more than 100%");
      return false;
    }
    if (!has_rest && c != 0) {
      error(s, "shares total " + format_ratio(total) + ", expected 100%" +
                   (c < 0 ? " (add a 'rest' share)" : ""));
      return false;
    }
    return true;
  }

  // ---- accounts ----
  Typed account(const ast::Account& acct) {
    Node n;
    n.op = Op::kAccount;
    n.type = Type::kAccount;
    bool ok = true;
    bool constant_ok = true;
    std::size_t expected = offset(acct) + 1;
    std::size_t static_len = 1;
    int depth = 1;
    for (const auto& seg : acct.segments) {
      const auto* name_seg = boost::get<ast::NameSegment>(&seg);
      const ast::x3::position_tagged& tagged = name_seg
                                                   ? static_cast<const ast::x3::position_tagged&>(*name_seg)
                                                   : boost::get<ast::ExprSegment>(seg);
      const std::size_t at = offset(tagged);
      if (at != expected) {
        error_at(expected, "no spaces inside an account name");
        ok = false;
      }
      expected = parsed_.handler->end_of(tagged) + 1;
      if (auto* name = boost::get<ast::NameSegment>(&seg)) {
        Value v;
        v.type = Type::kString;
        v.s = name->name;
        static_len += name->name.size() + 1;
        n.args.push_back(constant(std::move(v)).node);
      } else {
        const auto& e = boost::get<ast::ExprSegment>(seg).value;
        Typed t = expr(e);
        if (t.ok() && t.type != Type::kString && t.type != Type::kInt) {
          error(e, fmt::format("an account segment must be a string, found {}", type_name(t.type)));
          t.node = -1;
        }
        ok = ok && t.ok();
        constant_ok = constant_ok && t.constant;
        depth = std::max(depth, t.depth + 1);
        n.args.push_back(t.node);
      }
    }
    if (static_len > kMaxAccountBytes + 1) {
      error(acct, fmt::format("account name is longer than {} bytes", kMaxAccountBytes));
      ok = false;
    }
    if (!ok) return {};
    return Typed{add_node(std::move(n)), Type::kAccount, Type::kAny, constant_ok, depth};
  }

  // ---- expressions ----
  Typed expr(const ast::Expr& e) {
    Typed lhs = operand(e.first);
    for (const auto& link : e.rest) {
      Typed rhs = operand(link.operand);
      lhs = binary(link, lhs, rhs);
    }
    return lhs;
  }

  Typed operand(const ast::Operand& o) {
    struct Visitor {
      Checker& c;
      Typed operator()(const ast::Nil&) const { return {}; }
      Typed operator()(const ast::Literal& l) const { return c.literal(l); }
      Typed operator()(const ast::Ident& i) const { return c.name(i); }
      Typed operator()(const ast::Account& a) const { return c.account(a); }
      Typed operator()(const ast::ListExpr& l) const { return c.list(l); }
      Typed operator()(const ast::Expr& e) const { return c.expr(e); }
      Typed operator()(const ast::IfExpr& e) const { return c.if_expr(e); }
      Typed operator()(const ast::UnaryExpr& u) const { return c.unary(u); }
      Typed operator()(const ast::PostfixExpr& p) const { return c.postfix(p); }
    };
    return boost::apply_visitor(Visitor{*this}, o);
  }

  Typed make(Op op, Type type, std::initializer_list<Typed> kids, std::string label = {}) {
    Node n;
    n.op = op;
    n.type = type;
    n.label = std::move(label);
    bool constant = true;
    int depth = 0;
    std::int32_t* slots[] = {&n.a, &n.b, &n.c};
    int k = 0;
    for (const Typed& t : kids) {
      *slots[k++] = t.node;
      constant = constant && t.constant;
      depth = std::max(depth, t.depth);
    }
    return Typed{add_node(std::move(n)), type, Type::kAny, constant, depth + 1};
  }

  Typed depth_checked(Typed t, const ast::x3::position_tagged& where) {
    if (t.ok() && t.depth > kMaxDepth) {
      error(where, fmt::format("expression is too deeply nested (more than {} operations)", kMaxDepth));
      return {};
    }
    return t;
  }

  Typed binary(const ast::Operation& link, const Typed& a, const Typed& b) {
    if (!a.ok() || !b.ok()) return {};
    const std::string& op = link.op;
    if (op == "and" || op == "or") {
      if (a.type != Type::kBool || b.type != Type::kBool) {
        error(link, fmt::format("'{}' needs conditions (bool) on both sides, found {} and {}", op,
                                type_name(a.type), type_name(b.type)));
        return {};
      }
      return depth_checked(make(op == "and" ? Op::kAnd : Op::kOr, Type::kBool, {a, b}), link);
    }
    if (op == "+" || op == "-" || op == "*" || op == "/") return depth_checked(arith(link, a, b), link);
    return depth_checked(comparison(link, a, b), link);
  }

  Typed arith(const ast::Operation& link, const Typed& a, const Typed& b) {
    const char o = link.op[0];
    const Type x = a.type;
    const Type y = b.type;
    std::optional<Type> r;
    if (o == '+' || o == '-') {
      if (x == Type::kMoney && y == Type::kMoney)
        r = Type::kMoney;
      else if (is_moneyish(x) && is_moneyish(y))
        r = Type::kFrac;
      else if (x == Type::kInt && y == Type::kInt)
        r = Type::kInt;
      else if (is_number(x) && is_number(y))
        r = Type::kRatio;
      else if (x == Type::kTime && y == Type::kDuration)
        r = Type::kTime;
      else if (o == '+' && x == Type::kDuration && y == Type::kTime)
        r = Type::kTime;
      else if (o == '-' && x == Type::kTime && y == Type::kTime)
        r = Type::kDuration;
      else if (x == Type::kDuration && y == Type::kDuration)
        r = Type::kDuration;
      else if (o == '+' && x == Type::kString && y == Type::kString)
        r = Type::kString;
    } else if (o == '*') {
      const bool swap = is_number(x) && !is_number(y);
      const Type p = swap ? y : x;
      const Type q = swap ? x : y;
      if (p == Type::kMoney && q == Type::kInt)
        r = Type::kMoney;
      else if (is_moneyish(p) && is_number(q))
        r = Type::kFrac;
      else if (p == Type::kInt && q == Type::kInt)
        r = Type::kInt;
      else if (is_number(p) && is_number(q))
        r = Type::kRatio;
      else if (p == Type::kDuration && q == Type::kInt)
        r = Type::kDuration;
    } else {
      if (is_moneyish(x) && y == Type::kMoney)
        r = Type::kRatio;
      else if (is_moneyish(x) && is_number(y))
        r = Type::kFrac;
      else if (is_number(x) && is_number(y))
        r = Type::kRatio;
      else if (x == Type::kDuration && y == Type::kDuration)
        r = Type::kRatio;
    }
    if (!r) {
      static const std::map<char, const char*> kVerb = {
          {'+', "add"}, {'-', "subtract"}, {'*', "multiply"}, {'/', "divide"}};
      error(link, fmt::format("cannot {} {} and {}", kVerb.at(o), type_name(x), type_name(y)));
      return {};
    }
    const Op op = o == '+' ? Op::kAdd : o == '-' ? Op::kSub : o == '*' ? Op::kMul : Op::kDiv;
    return make(op, *r, {a, b});
  }

  Typed comparison(const ast::Operation& link, const Typed& a, const Typed& b) {
    const std::string& op = link.op;
    if (a.type == Type::kFrac || b.type == Type::kFrac) {
      error(link, frac_hint("compared"));
      return {};
    }
    if (op == "in") {
      if (b.type != Type::kList) {
        error(link, fmt::format("'in' needs a list on its right, such as [\"a\", \"b\"], found {}",
                                type_name(b.type)));
        return {};
      }
      if (b.elem != Type::kAny && !comparable(a.type, b.elem)) {
        error(link,
              fmt::format("cannot look for a {} in a list of {}", type_name(a.type), type_name(b.elem)));
        return {};
      }
      return make(Op::kIn, Type::kBool, {a, b});
    }
    if (!comparable(a.type, b.type) || a.type == Type::kList || a.type == Type::kCampaign) {
      error(link, fmt::format("cannot compare {} with {}", type_name(a.type), type_name(b.type)));
      return {};
    }
    const bool ordered = op != "==" && op != "!=";
    if (ordered && (a.type == Type::kBool || a.type == Type::kAccount)) {
      error(link, fmt::format("{} values have no order; use == or !=", type_name(a.type)));
      return {};
    }
    static const std::map<std::string, Op> kOps = {{"==", Op::kEq}, {"!=", Op::kNe}, {"<", Op::kLt},
                                                   {"<=", Op::kLe}, {">", Op::kGt},  {">=", Op::kGe}};
    return make(kOps.at(op), Type::kBool, {a, b});
  }
  static bool comparable(Type a, Type b) { return a == b || (is_number(a) && is_number(b)); }

  Typed if_expr(const ast::IfExpr& e) {
    Typed c = expr(e.cond);
    Typed a = expr(e.then_value);
    Typed b = expr(e.else_value);
    if (!c.ok() || !a.ok() || !b.ok()) return {};
    if (c.type != Type::kBool) {
      error(e.cond, fmt::format("'if' needs a condition (bool), found {}", type_name(c.type)));
      return {};
    }
    Type t = a.type;
    if (a.type != b.type) {
      if (is_number(a.type) && is_number(b.type))
        t = Type::kRatio;
      else if (is_moneyish(a.type) && is_moneyish(b.type))
        t = Type::kFrac;
      else {
        error(e.else_value, fmt::format("both branches of 'if' must have the same type, found {} and {}",
                                        type_name(a.type), type_name(b.type)));
        return {};
      }
    }
    Typed r = make(Op::kIf, t, {c, a, b});
    r.elem = a.elem;
    return depth_checked(r, e);
  }

  Typed unary(const ast::UnaryExpr& u) {
    Typed t = operand(u.operand);
    if (!t.ok()) return {};
    if (u.op == "not") {
      if (t.type != Type::kBool) {
        error(u, fmt::format("'not' needs a condition (bool), found {}", type_name(t.type)));
        return {};
      }
      return depth_checked(make(Op::kNot, Type::kBool, {t}), u);
    }
    if (!is_number(t.type) && !is_moneyish(t.type) && t.type != Type::kDuration) {
      error(u, fmt::format("cannot negate {}", type_name(t.type)));
      return {};
    }
    return depth_checked(make(Op::kNeg, t.type, {t}), u);
  }

  Typed list(const ast::ListExpr& l) {
    Node n;
    n.op = Op::kList;
    n.type = Type::kList;
    Type elem = Type::kAny;
    bool constant = true;
    int depth = 0;
    for (const auto& item : l.items) {
      Typed t = expr(item);
      if (!t.ok()) return {};
      if (t.type == Type::kFrac || t.type == Type::kList) {
        error(item, fmt::format("a list cannot hold {}", type_name(t.type)));
        return {};
      }
      if (elem != Type::kAny && !comparable(elem, t.type)) {
        error(item, fmt::format("a list holds values of one type, found {} and {}", type_name(elem),
                                type_name(t.type)));
        return {};
      }
      if (elem == Type::kAny || elem == Type::kInt) elem = t.type;
      constant = constant && t.constant;
      depth = std::max(depth, t.depth);
      n.args.push_back(t.node);
    }
    Typed r{add_node(std::move(n)), Type::kList, elem, constant, depth + 1};
    return depth_checked(r, l);
  }

  Typed name(const ast::Ident& id) {
    const std::string& n = id.name;
    if (in_rule_) {
      if (auto* local = find_local(n)) {
        Node node;
        node.op = Op::kLocal;
        node.type = local->second;
        node.slot = local->first;
        node.label = n;
        return Typed{add_node(std::move(node)), local->second, Type::kAny, false, 1};
      }
    }
    if (auto g = globals_.find(n); g != globals_.end()) {
      const Global& gl = g->second;
      if (gl.kind == Global::kLet) {
        Node node;
        node.op = Op::kConst;
        node.type = gl.type;
        node.slot = gl.index;
        node.label = n;
        Typed t{add_node(std::move(node)), gl.type, Type::kAny, true, 1};
        const Value& v = prog_.constants[static_cast<std::size_t>(gl.index)];
        if (v.type == Type::kList && v.list && !v.list->empty()) t.elem = v.list->front().type;
        return t;
      }
      if (gl.kind == Global::kCampaign) {
        Value v;
        v.type = Type::kCampaign;
        v.i = gl.index;
        return constant(std::move(v));
      }
      error(id, "table " + n + " needs a key: " + n + "[key]");
      return {};
    }
    if (n == "event" || entity_from_name(n)) {
      error(id, "use a field of " + n + ", such as " + n + (n == "event" ? ".at" : ".id"));
      return {};
    }
    if (builtin(n) || n == "available") {
      error(id, n + " is a function: call it as " + n + "(...)");
      return {};
    }
    error(id, "unknown name '" + n + "'");
    return {};
  }

  Typed postfix(const ast::PostfixExpr& p) {
    if (p.suffixes.empty()) return operand(p.base);
    const ast::Ident* base = boost::get<ast::Ident>(&p.base);
    std::size_t used = 1;
    Typed t;
    if (base && boost::get<ast::FieldSuffix>(&p.suffixes[0]) &&
        (base->name == "event" || entity_from_name(base->name)) && !find_local(base->name)) {
      t = field(*base, boost::get<ast::FieldSuffix>(p.suffixes[0]));
    } else if (base && boost::get<ast::CallSuffix>(&p.suffixes[0]) && !globals_.count(base->name) &&
               !find_local(base->name)) {
      t = call(*base, boost::get<ast::CallSuffix>(p.suffixes[0]));
    } else if (base && boost::get<ast::IndexSuffix>(&p.suffixes[0]) && globals_.count(base->name) &&
               globals_.at(base->name).kind == Global::kTable) {
      t = table_lookup(*base, boost::get<ast::IndexSuffix>(p.suffixes[0]));
    } else {
      t = operand(p.base);
      used = 0;
    }
    if (used < p.suffixes.size() && t.ok()) {
      struct Where {
        const ast::x3::position_tagged* operator()(const ast::FieldSuffix& s) const { return &s; }
        const ast::x3::position_tagged* operator()(const ast::IndexSuffix& s) const { return &s; }
        const ast::x3::position_tagged* operator()(const ast::CallSuffix& s) const { return &s; }
      };
      const auto* where = boost::apply_visitor(Where{}, p.suffixes[used]);
      const char* what = boost::get<ast::FieldSuffix>(&p.suffixes[used]) ? "has no fields"
                         : boost::get<ast::IndexSuffix>(&p.suffixes[used])
                             ? "cannot be indexed (only tables can)"
                             : "cannot be called (only functions can)";
      error(*where, fmt::format("a {} value {}", type_name(t.type), what));
      return {};
    }
    return t;
  }

  Typed field(const ast::Ident& base, const ast::FieldSuffix& f) {
    Node node;
    node.label = base.name + "." + f.name;
    if (base.name == "event") {
      if (on_types_.empty()) return {};
      if (f.name == "id" || f.name == "type" || f.name == "at") {
        node.op = f.name == "id" ? Op::kEventId : f.name == "type" ? Op::kEventType : Op::kEventAt;
        node.type = f.name == "at" ? Type::kTime : Type::kString;
        return Typed{add_node(std::move(node)), node.type, Type::kAny, false, 1};
      }
      detail::EventSlots slots;
      slots.fill(-1);
      std::optional<Type> type;
      for (EventType et : on_types_) {
        const int index = field_index(et, f.name);
        if (index < 0) {
          error(f, fmt::format("{} is not a field of {} events", node.label, spec_of(et).name));
          return {};
        }
        const Type ft = type_of_field_kind(spec_of(et).fields[static_cast<std::size_t>(index)].kind);
        if (type && *type != ft) {
          error(f, node.label + " has different types in the events this rule listens to");
          return {};
        }
        type = ft;
        slots[static_cast<std::size_t>(et)] = static_cast<std::int8_t>(index);
      }
      prog_.event_slots.push_back(slots);
      node.op = Op::kEventField;
      node.type = *type;
      node.slot = static_cast<std::int32_t>(prog_.event_slots.size() - 1);
      return Typed{add_node(std::move(node)), *type, Type::kAny, false, 1};
    }
    const EntityKind kind = *entity_from_name(base.name);
    if (on_types_.empty()) return {};
    if ((entity_mask_ & (1u << static_cast<unsigned>(kind))) == 0) {
      for (EventType et : on_types_) {
        if ((entities_of(et) & (1u << static_cast<unsigned>(kind))) == 0) {
          error(base, fmt::format("'{}' is not available on {} events", base.name, spec_of(et).name));
          return {};
        }
      }
    }
    const int index = entity_field_index(kind, f.name);
    if (index < 0) {
      std::string known;
      for (const auto& spec : entity_fields(kind))
        known += (known.empty() ? "" : " ") + std::string(spec.name);
      error(f, fmt::format("{} has no field '{}' (fields: {})", base.name, f.name, known));
      return {};
    }
    node.op = Op::kEntityField;
    node.entity = kind;
    node.slot = index;
    node.type = entity_fields(kind)[static_cast<std::size_t>(index)].type;
    return Typed{add_node(std::move(node)), node.type, Type::kAny, false, 1};
  }

  Typed table_lookup(const ast::Ident& base, const ast::IndexSuffix& index) {
    const Global& g = globals_.at(base.name);
    Typed key = expr(index.index);
    if (!key.ok()) return {};
    if (key.type != Type::kString) {
      error(index.index, fmt::format("table keys are strings, found {}", type_name(key.type)));
      return {};
    }
    Typed t = make(Op::kTable, g.type, {key}, base.name);
    prog_.nodes[static_cast<std::size_t>(t.node)].slot = g.index;
    return depth_checked(t, index);
  }

  Typed call(const ast::Ident& fn, const ast::CallSuffix& c) {
    std::vector<Typed> args;
    for (const auto& a : c.args) {
      args.push_back(expr(a));
      if (!args.back().ok()) return {};
    }
    const std::string& n = fn.name;
    const auto arity = [&](std::size_t want) {
      if (args.size() == want) return true;
      error(fn,
            fmt::format("{}() takes {} argument{}, found {}", n, want, want == 1 ? "" : "s", args.size()));
      return false;
    };
    const auto arg_type = [&](std::size_t k, Type want) {
      if (args[k].type == want) return true;
      error(c.args[k], fmt::format("{}() needs a {}, found {}", n, type_name(want), type_name(args[k].type)));
      return false;
    };
    Typed r;
    if (n == "round" || n == "floor" || n == "ceil") {
      if (!arity(1)) return {};
      const Type x = args[0].type;
      if (!is_number(x) && !is_moneyish(x)) {
        error(c.args[0],
              fmt::format("{}() needs money, fractional money or a ratio, found {}", n, type_name(x)));
        return {};
      }
      const Type out = x == Type::kFrac ? Type::kMoney : x == Type::kRatio ? Type::kInt : x;
      r = make(n == "round" ? Op::kRound : n == "floor" ? Op::kFloor : Op::kCeil, out, {args[0]}, n);
    } else if (n == "min" || n == "max") {
      if (args.size() < 2) {
        error(fn, fmt::format("{}() takes at least 2 arguments, found {}", n, args.size()));
        return {};
      }
      Type t = args[0].type;
      for (std::size_t k = 0; k < args.size(); ++k) {
        const Type x = args[k].type;
        if (x == Type::kFrac) {
          error(c.args[k], frac_hint("compared"));
          return {};
        }
        if (!comparable(t, x) ||
            !(is_number(x) || x == Type::kMoney || x == Type::kTime || x == Type::kDuration)) {
          error(c.args[k],
                fmt::format("{}() needs values of one type (money, ratio, int, time or duration), found {}",
                            n, type_name(x)));
          return {};
        }
        if (x == Type::kRatio) t = Type::kRatio;
      }
      r = make(n == "min" ? Op::kMin : Op::kMax, t, {}, n);
      int depth = 0;
      for (const Typed& a : args) {
        prog_.nodes[static_cast<std::size_t>(r.node)].args.push_back(a.node);
        r.constant = r.constant && a.constant;
        depth = std::max(depth, a.depth);
      }
      r.depth = depth + 1;
    } else if (n == "settlement" || n == "next_midnight" || n == "month") {
      if (!arity(1) || !arg_type(0, Type::kTime)) return {};
      if (n == "settlement" && info_.settlement_day == 0) {
        error(fn, "settlement() needs the setting: set settlement_day = 20 (or another day)");
        return {};
      }
      const Op op = n == "settlement" ? Op::kSettlement : n == "month" ? Op::kMonth : Op::kNextMidnight;
      r = make(op, n == "month" ? Type::kString : Type::kTime, {args[0]}, n);
    } else if (n == "in_campaign") {
      if (args.size() == 1) {
        if (!arg_type(0, Type::kTime)) return {};
        r = make(Op::kInCampaignAny, Type::kBool, {args[0]}, n);
      } else if (args.size() == 2) {
        if (args[0].type != Type::kCampaign) {
          error(c.args[0],
                "in_campaign() needs a campaign's name first, such as in_campaign(double11, event.at)");
          return {};
        }
        if (!arg_type(1, Type::kTime)) return {};
        const auto campaign =
            prog_
                .constants[static_cast<std::size_t>(prog_.nodes[static_cast<std::size_t>(args[0].node)].slot)]
                .i;
        r = make(Op::kInCampaign, Type::kBool, {args[1]}, n);
        prog_.nodes[static_cast<std::size_t>(r.node)].slot = static_cast<std::int32_t>(campaign);
      } else {
        error(fn, fmt::format("in_campaign() takes 1 or 2 arguments, found {}", args.size()));
        return {};
      }
    } else if (n == "balance" || n == "available") {
      if (!arity(1) || !arg_type(0, Type::kAccount)) return {};
      if (!in_rule_) {
        error(fn, n + "() can only be used inside a rule");
        return {};
      }
      r = make(n == "balance" ? Op::kBalance : Op::kAvailable, Type::kMoney, {args[0]}, n);
      r.constant = false;
    } else {
      error(fn, "unknown function '" + n + "'");
      return {};
    }
    return depth_checked(r, fn);
  }

  const ParseOutput& parsed_;
  std::string_view source_;
  Diagnostics& diags_;
  Program prog_;
  RulesetInfo info_;
  std::map<std::string, Global> globals_;
  std::vector<std::string> settings_seen_;
  std::vector<std::size_t> line_starts_;
  std::set<std::string> rule_names_;
  std::vector<std::map<std::string, std::pair<std::int32_t, Type>>> scopes_;
  std::vector<EventType> on_types_;
  std::uint32_t entity_mask_ = 0;
  int local_count_ = 0;
  bool in_rule_ = false;
};

}  // namespace

std::optional<Ruleset> check_rules(const ParseOutput& parsed, std::string_view source, Diagnostics* diags) {
  Checker checker(parsed, source, diags);
  return checker.run();
}

}  // namespace fz::dsl
