// A Facts implementation for tests: entity fields set by hand, and a book of postings and target
// allocations that apply() extends with an evaluation's result, like the engine does.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/rational.hpp"
#include "dsl/eval.hpp"

namespace fz::dsl::test {

class FakeFacts : public Facts {
 public:
  void set(EntityKind kind, int field, FieldValue value) { fields_[{kind, field}] = std::move(value); }
  void set_s(EntityKind kind, int field, std::string s) {
    set(kind, field, FieldValue{true, 0, std::move(s)});
  }
  void set_i(EntityKind kind, int field, std::int64_t i) { set(kind, field, FieldValue{true, i, {}}); }
  void clear() { fields_.clear(); }

  bool entity_field(EntityKind kind, int field, FieldValue* out) const override {
    auto it = fields_.find({kind, field});
    if (it == fields_.end() || !it->second.present) return false;
    *out = it->second;
    return true;
  }
  Fen balance(std::string_view account) const override {
    Fen sum = 0;
    for (const auto& p : book_) {
      if (p.account == account) sum += p.amount_fen;
    }
    return sum;
  }
  Fen available(std::string_view account, TimeUs at_us) const override {
    Fen sum = 0;
    for (const auto& p : book_) {
      if (p.account == account && p.available_from_us <= at_us) sum += p.amount_fen;
    }
    return sum;
  }
  void schedule_after(std::string_view account, TimeUs after_us,
                      std::vector<std::pair<TimeUs, Fen>>* out) const override {
    std::map<TimeUs, Fen> later;
    for (const auto& p : book_) {
      if (p.account == account && p.available_from_us > after_us) later[p.available_from_us] += p.amount_fen;
    }
    out->assign(later.begin(), later.end());
  }
  const Allocation* previous_allocation(std::string_view key) const override {
    auto it = targets_.find(std::string(key));
    return it == targets_.end() ? nullptr : &it->second;
  }
  void apply(const EvalResult& r) {
    book_.insert(book_.end(), r.postings.begin(), r.postings.end());
    for (const auto& t : r.targets) targets_[t.key] = t.allocation;
  }

 private:
  std::map<std::pair<EntityKind, int>, FieldValue> fields_;
  std::vector<RulePosting> book_;
  std::map<std::string, Allocation> targets_;
};

}  // namespace fz::dsl::test
