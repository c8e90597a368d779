// Evaluating a ruleset for one event (SPEC section 5): which rules fire and the postings they make.
//
// evaluate() is a pure function of the Ruleset, the Event and what the Facts interface answers; it
// borrows all three for the duration of the call and keeps nothing. Thread-safe as long as the Facts
// implementation is. The Facts answer "as of before this event"; the evaluator itself overlays the
// postings and target allocations it has already produced for the same event.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/money.hpp"
#include "core/time.hpp"
#include "dsl/entities.hpp"
#include "dsl/ruleset.hpp"
#include "model/event.hpp"

namespace fz::dsl {

using Allocation = std::vector<std::pair<std::string, Fen>>;  // account -> fen, no duplicates

// What the engine knows, read-only. Implemented by the engine (and by fakes in tests).
class Facts {
 public:
  virtual ~Facts() = default;
  // A field of one of the event's entities (SPEC 4; which ones: entities_of(event.type)), `field`
  // indexing entity_fields(kind) (see the *Field enums). Entities are read at the event's terms time.
  // Conventions the default policy relies on: an unsigned streamer's `agency` entity has id "" and
  // active false (contracted_at absent); on withdrawal.requested `streamer` is the party's streamer
  // (absent fields for an agency party) and `agency` is that streamer's agency or the party itself.
  // Fill *out
  // (money: i in fen; ratio: i / 1'000'000 like FieldKind::kPercent; bool, int, time: i; string: s)
  // and return true, or return false when the value does not exist (no such entity, or a time that has
  // not happened, e.g. order.confirmed_at before confirmation): reading it is an evaluation error.
  virtual bool entity_field(EntityKind kind, int field, FieldValue* out) const = 0;
  // Sum of all postings to `account` before this event.
  virtual Fen balance(std::string_view account) const = 0;
  // Sum of the postings to `account` before this event whose available-from time is <= at_us.
  virtual Fen available(std::string_view account, TimeUs at_us) const = 0;
  // The account's availability schedule after `after_us`: (available-from, sum of the postings before
  // this event that become available then), ascending by time, every entry later than after_us.
  // With available() this gives SPEC 5's available(account): the least available balance at any
  // moment from the event's time on.
  virtual void schedule_after(std::string_view account, TimeUs after_us,
                              std::vector<std::pair<TimeUs, Fen>>* out) const = 0;
  // The allocation last stored for target `key`, or nullptr if none. Valid until the next call on these
  // facts (it points into the engine's memory: an evaluation reads it, it does not copy it).
  virtual const Allocation* previous_allocation(std::string_view key) const = 0;
};

// Receives the explanation of an evaluation, one line at a time (depth: nesting for indentation).
class TraceSink {
 public:
  virtual ~TraceSink() = default;
  virtual void line(int depth, std::string text) = 0;
};

struct EvalOptions {
  // false (replay, what-if): a failing `require` is recorded in would_fail and evaluation continues.
  bool enforce_requires = true;
  TraceSink* trace = nullptr;  // not owned; null on the hot path
};

struct RulePosting {
  std::string account;
  Fen amount_fen = 0;
  TimeUs available_from_us = 0;
  std::string rule;
  int line = 0;            // line of the statement that posted
  std::string target_key;  // empty unless the statement has `per`
};

struct TargetUpdate {
  std::string key;
  Allocation allocation;  // the new allocation to store; all zeros when everything was reversed
};

struct EvalFailure {
  enum class Kind { kRequire, kEvaluation };
  Kind kind = Kind::kEvaluation;
  std::string rule;
  int line = 0;
  std::string message;
  // "rule cps (line 31): shares total 110% at evaluation"
  std::string text() const;
};

struct [[nodiscard]] EvalResult {
  bool ok = true;
  EvalFailure failure;                  // when !ok
  std::vector<RulePosting> postings;    // in order; each statement's postings sum to zero
  std::vector<TargetUpdate> targets;    // in order of first update
  std::vector<EvalFailure> would_fail;  // requires that failed with enforce_requires == false
};

[[nodiscard]] EvalResult evaluate(const Ruleset& ruleset, const Event& event, const Facts& facts,
                                  const EvalOptions& options = {});

// For reading ahead (the engine reads the keyed targets an event will need before it is evaluated): the
// `per` keys of the move and split statements of every rule listening to the event's type, whatever the
// rule's `when` and `if`s would decide, where the event alone decides the key: string constants,
// event.id, the event's fields and order.id, joined with +. Keys that depend on anything else are left
// out. Appends to *out, perhaps more than once. Reads only the Ruleset and the event: any thread.
void static_target_keys(const Ruleset& ruleset, const Event& event, std::vector<std::string>* out);

}  // namespace fz::dsl
