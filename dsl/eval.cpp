#include "dsl/eval.hpp"

#include <fmt/format.h>
#include <boost/container/small_vector.hpp>

#include <algorithm>

#include "dsl/machine.hpp"

namespace fz::dsl {

using detail::Node;
using detail::Stmt;
using detail::StmtKind;
using detail::Value;

std::string EvalFailure::text() const {
  return fmt::format("rule {} (line {}): {}", rule, line, message);
}

bool Ruleset::listens_to(EventType type) const {
  const auto bit = 1u << static_cast<unsigned>(type);
  return std::any_of(program_->rules.begin(), program_->rules.end(),
                     [&](const detail::Rule& r) { return (r.on_mask & bit) != 0; });
}

namespace {

class Evaluation {
 public:
  Evaluation(const Ruleset& ruleset, const Event& event, const Facts& facts, const EvalOptions& options)
      : program_(ruleset.program()),
        info_(ruleset.info()),
        event_(event),
        facts_(facts),
        options_(options),
        machine_(program_, info_, &event, &facts, &result_.postings) {}

  EvalResult run() {
    const auto bit = 1u << static_cast<unsigned>(event_.type);
    for (const detail::Rule& rule : program_.rules) {
      if ((rule.on_mask & bit) == 0) continue;
      rule_ = &rule;
      if (!run_rule(rule)) {
        result_.ok = false;
        result_.postings.clear();
        result_.targets.clear();
        return std::move(result_);
      }
    }
    return std::move(result_);
  }

 private:
  void trace(int depth, std::string text) {
    if (options_.trace) options_.trace->line(depth, std::move(text));
  }
  std::string show(const Value& v) { return detail::format_value(v, info_.timezone); }

  bool error(int line, std::string message, EvalFailure::Kind kind = EvalFailure::Kind::kEvaluation) {
    result_.failure = EvalFailure{kind, rule_->name, line, std::move(message)};
    trace(1, "error: " + result_.failure.text());
    return false;
  }
  bool eval(std::int32_t node, int line, Value* out) {
    if (machine_.eval(node, out)) return true;
    return error(line, machine_.error());
  }

  bool run_rule(const detail::Rule& rule) {
    machine_.locals().assign(static_cast<std::size_t>(rule.local_count), Value{});
    if (rule.when >= 0) {
      Value cond;
      if (!eval(rule.when, rule.line, &cond)) return false;
      if (!cond.i) {
        if (options_.trace) {
          trace(0, fmt::format("rule {} (line {}): not fired: when {} is false", rule.name, rule.line,
                               machine_.render(rule.when)));
        }
        return true;
      }
    }
    trace(0, fmt::format("rule {} (line {}): fired", rule.name, rule.line));
    return run_block(rule.body, 1);
  }

  bool run_block(const std::vector<Stmt>& body, int depth) {
    for (const Stmt& s : body) {
      if (!run_stmt(s, depth)) return false;
    }
    return true;
  }

  bool run_stmt(const Stmt& s, int depth) {
    machine_.set_trace(options_.trace, depth + 1);
    switch (s.kind) {
      case StmtKind::kLet: {
        Value& slot = machine_.locals()[static_cast<std::size_t>(s.slot)];
        if (!eval(s.expr, s.line, &slot)) return false;
        if (options_.trace) {
          trace(depth, fmt::format("let {} = {} = {}", s.text, machine_.render(s.expr), show(slot)));
        }
        return true;
      }
      case StmtKind::kRequire:
        return run_require(s, depth);
      case StmtKind::kIf: {
        Value cond;
        if (!eval(s.expr, s.line, &cond)) return false;
        if (options_.trace)
          trace(depth, fmt::format("if {}: {}", machine_.render(s.expr), cond.i ? "yes" : "no"));
        return run_block(cond.i ? s.then_body : s.else_body, depth + 1);
      }
      case StmtKind::kMove:
      case StmtKind::kSplit:
        return run_transfer(s, depth);
    }
    return true;
  }

  bool run_require(const Stmt& s, int depth) {
    Value cond;
    if (!eval(s.expr, s.line, &cond)) return false;
    if (cond.i) {
      if (options_.trace) trace(depth, fmt::format("require {}: holds", machine_.render(s.expr)));
      return true;
    }
    if (options_.enforce_requires) return error(s.line, s.text, EvalFailure::Kind::kRequire);
    result_.would_fail.push_back(EvalFailure{EvalFailure::Kind::kRequire, rule_->name, s.line, s.text});
    if (options_.trace)
      trace(depth, fmt::format("require {}: would fail: {}", machine_.render(s.expr), s.text));
    return true;
  }

  // The parts of a move or split: account -> amount, source first with -amount.
  bool run_transfer(const Stmt& s, int depth) {
    Value amount;
    Value from;
    if (!eval(s.expr, s.line, &amount) || !eval(s.from, s.line, &from)) return false;
    if (amount.i < 0) return error(s.line, "amount " + show(amount) + " is negative");
    const std::size_t first_posting = result_.postings.size();
    TimeUs available = event_.at_us;
    if (s.available >= 0) {
      Value t;
      if (!eval(s.available, s.line, &t)) return false;
      available = t.i;
    }
    std::string key;
    if (s.per >= 0) {
      Value k;
      if (!eval(s.per, s.line, &k)) return false;
      key = std::move(k.s);
      if (key.empty()) return error(s.line, "the 'per' key is empty");
    }
    Allocation parts{{from.s, -amount.i}};
    if (s.kind == StmtKind::kMove) {
      Value to;
      if (!eval(s.to, s.line, &to)) return false;
      parts.emplace_back(std::move(to.s), amount.i);
      if (options_.trace)
        trace(depth, fmt::format("move {} from {} to {}", show(amount), from.s, parts[1].first));
    } else if (!split_parts(s, amount.i, depth, &parts)) {
      return false;
    }
    if (s.per >= 0) return post_target(s, key, parts, available, depth);
    if (amount.i == 0) return true;
    for (auto& [account, fen] : parts) {
      if (fen != 0) post(s, account, fen, available, "", depth);
    }
    if (!balanced(first_posting)) return error(s.line, "internal error: postings do not sum to zero");
    return true;
  }

  bool split_parts(const Stmt& s, Fen amount, int depth, Allocation* parts) {
    // A handful of shares: kept inline, not on the heap (every split of every event).
    boost::container::small_vector<Rational, 8> ratios(s.shares.size());
    boost::container::small_vector<std::string, 8> accounts(s.shares.size());
    Rational others{0, 1};
    int rest = -1;
    for (std::size_t k = 0; k < s.shares.size(); ++k) {
      Value acct;
      if (!eval(s.shares[k].account, s.line, &acct)) return false;
      accounts[k] = std::move(acct.s);
      if (s.shares[k].ratio < 0) {
        rest = static_cast<int>(k);
        continue;
      }
      Value r;
      if (!eval(s.shares[k].ratio, s.line, &r)) return false;
      ratios[k] = r.type == Type::kInt ? Rational::integer(r.i) : r.q;
      if (ratios[k].num < 0) return error(s.line, "share " + format_ratio(ratios[k]) + " is negative");
      auto sum = add(others, ratios[k]);
      if (!sum) return error(s.line, "overflow adding the shares");
      others = *sum;
    }
    const Rational one{1, 1};
    if (rest >= 0) {
      if (compare(others, one) > 0) {
        return error(
            s.line, "shares total " + format_ratio(others) + " before 'rest', more than 100%, at evaluation");
      }
      ratios[static_cast<std::size_t>(rest)] = *sub(one, others);
    } else if (others != one) {
      return error(s.line, "shares total " + format_ratio(others) + ", expected 100%, at evaluation");
    }
    auto alloc = allocate_largest_remainder(amount, ratios);
    if (!alloc) return error(s.line, "cannot allocate " + format_money(amount));
    if (options_.trace)
      trace(depth, fmt::format("split {} from {}:", format_money(amount), (*parts)[0].first));
    for (std::size_t k = 0; k < alloc->size(); ++k) {
      const auto& part = (*alloc)[k];
      if (options_.trace) {
        auto exact = add(Rational::integer(part.floor_fen), part.fraction);
        trace(depth + 1,
              fmt::format("{} of {} = {} -> {}{} to {}", format_ratio(ratios[k]), format_money(amount),
                          exact ? format_frac_money(*exact) : "?", format_money(part.amount_fen),
                          part.got_extra_fen ? " (got a leftover fen)" : "", accounts[k]));
      }
      parts->emplace_back(std::move(accounts[k]), part.amount_fen);
    }
    return true;
  }

  void post(const Stmt& s, const std::string& account, Fen fen, TimeUs available, const std::string& key,
            int depth) {
    if (options_.trace) {
      trace(depth, fmt::format("post {} {}{} available {}", account, fen > 0 ? "+" : "", format_money(fen),
                               format_time(available, info_.timezone)));
    }
    result_.postings.push_back(RulePosting{account, fen, available, rule_->name, s.line, key});
  }

  static bool merge(Allocation* alloc, const std::string& account, Fen fen) {
    for (auto& [a, v] : *alloc) {
      if (a == account) {
        auto sum = add_fen(v, fen);
        if (!sum) return false;
        v = *sum;
        return true;
      }
    }
    alloc->emplace_back(account, fen);
    return true;
  }

  // Valid until result_.targets or the facts change.
  const Allocation& previous(const std::string& key) {
    static const Allocation kNone;
    for (const TargetUpdate& t : result_.targets) {
      if (t.key == key) return t.allocation;
    }
    const Allocation* stored = facts_.previous_allocation(key);
    return stored != nullptr ? *stored : kNone;
  }

  static std::string show_alloc(const Allocation& alloc) {
    std::string out;
    for (const auto& [a, v] : alloc) out += (out.empty() ? "" : ", ") + a + " " + format_money(v);
    return out.empty() ? "(none)" : out;
  }

  bool post_target(const Stmt& s, const std::string& key, const Allocation& parts, TimeUs available,
                   int depth) {
    Allocation next;
    for (const auto& [a, v] : parts) {
      if (!merge(&next, a, v)) return error(s.line, "overflow in target " + key);
    }
    const Allocation& old = previous(key);  // not used once result_.targets changes below
    for (const auto& [a, v] : old) {
      if (!merge(&next, a, 0)) return error(s.line, "overflow in target " + key);
    }
    if (options_.trace) {
      trace(depth, fmt::format("target \"{}\": previous {}; new {}", key, show_alloc(old), show_alloc(next)));
    }
    const std::size_t first = result_.postings.size();
    for (const auto& [a, v] : next) {
      Fen before = 0;
      for (const auto& [oa, ov] : old) {
        if (oa == a) before = ov;
      }
      auto delta = sub_fen(v, before);
      if (!delta) return error(s.line, "overflow in target " + key);
      if (*delta != 0) post(s, a, *delta, available, key, depth);
    }
    if (!balanced(first)) return error(s.line, "internal error: target postings do not sum to zero");
    for (TargetUpdate& t : result_.targets) {
      if (t.key == key) {
        t.allocation = std::move(next);
        return true;
      }
    }
    result_.targets.push_back(TargetUpdate{key, std::move(next)});
    return true;
  }

  bool balanced(std::size_t first) const {
    Fen sum = 0;
    for (std::size_t k = first; k < result_.postings.size(); ++k) {
      auto next = add_fen(sum, result_.postings[k].amount_fen);
      if (!next) return false;
      sum = *next;
    }
    return sum == 0;
  }

  const detail::Program& program_;
  const RulesetInfo& info_;
  const Event& event_;
  const Facts& facts_;
  const EvalOptions& options_;
  EvalResult result_;
  detail::Machine machine_;
  const detail::Rule* rule_ = nullptr;
};

}  // namespace

EvalResult evaluate(const Ruleset& ruleset, const Event& event, const Facts& facts,
                    const EvalOptions& options) {
  Evaluation evaluation(ruleset, event, facts, options);
  return evaluation.run();
}

}  // namespace fz::dsl
