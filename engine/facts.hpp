// EventFacts: the engine's answers to the rules evaluator (dsl::Facts) for one event: the fields of
// the entities the event brings into scope (SPEC section 4) as of after the event's own entity changes,
// the balances and availability of accounts and the previous allocation of keyed targets as of before
// the event. Calendar-dependent facts (a directed plan's effective time, an agency's activity, order
// eligibility) use the settings of the ruleset version that governs the event.
//
// Borrows everything it is given; lives for one evaluation. Not thread-safe.
#pragma once

#include <optional>
#include <string>

#include "dsl/eval.hpp"
#include "engine/account_book.hpp"
#include "engine/book.hpp"
#include "engine/state.hpp"
#include "engine/table.hpp"

namespace fz::engine {

struct Eligibility {
  bool eligible = false;
  std::string why_not;  // "" when eligible
};

// SPEC 4: via_link, plan exists, same merchant, plan effective at paid_at, general or approved by then.
Eligibility order_eligibility(EntityState& state, const Order& order, OffsetSec timezone);
// A directed plan takes effect at the first local midnight strictly after its creation.
TimeUs plan_effective_at(const Plan& plan, OffsetSec timezone);

class EventFacts final : public dsl::Facts {
 public:
  EventFacts(EntityState& state, AccountBook& accounts, Table<Allocation>& targets, const Event& event,
             TimeUs terms_time, const dsl::RulesetInfo& rules);

  bool entity_field(dsl::EntityKind kind, int field, FieldValue* out) const override;
  Fen balance(std::string_view account) const override;
  Fen available(std::string_view account, TimeUs at_us) const override;
  void schedule_after(std::string_view account, TimeUs after_us,
                      std::vector<std::pair<TimeUs, Fen>>* out) const override;
  const dsl::Allocation* previous_allocation(std::string_view key) const override;

 private:
  bool order_field(int field, FieldValue* out) const;
  bool plan_field(int field, FieldValue* out) const;
  bool task_field(int field, FieldValue* out) const;
  bool agency_field(int field, FieldValue* out) const;
  bool party_field(int field, FieldValue* out) const;
  // The event's order (nullptr: none), found once and kept while the orders table's layout() holds: a
  // rule reads a few of its fields (three lookups of the same id an order event before this).
  const Order* event_order() const;

  EntityState& state_;
  AccountBook& accounts_;
  Table<Allocation>& targets_;
  const Event& event_;
  TimeUs terms_time_;
  const dsl::RulesetInfo& rules_;
  std::string streamer_id_;  // the streamer in scope, "" when none
  std::string agency_id_;    // the agency in scope, "" when none
  mutable const Order* order_ = nullptr;
  mutable std::optional<std::uint64_t> order_layout_;  // orders.layout() when order_ was found
};

}  // namespace fz::engine
