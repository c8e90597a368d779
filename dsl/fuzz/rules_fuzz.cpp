// libFuzzer target: arbitrary bytes through parse and check, and a ruleset that checks clean through
// evaluation against a small fixed ledger: every entity field present (like the event fields), and a
// book of postings and keyed-target allocations that grows with each evaluation, as the engine's does.
// Each event type is evaluated twice, so rules that read balances and previous allocations see some.
// Must never crash, leak or trip a sanitizer; an evaluation whose postings do not sum to zero (the
// statement invariant the engine asserts before it writes) is a finding too.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/rational.hpp"
#include "dsl/eval.hpp"
#include "dsl/rules_check.hpp"
#include "dsl/tests/fake_facts.hpp"

namespace {

// FakeFacts' book of postings and targets, with every entity field present.
class FixedLedger : public fz::dsl::test::FakeFacts {
 public:
  bool entity_field(fz::dsl::EntityKind, int, fz::FieldValue* out) const override {
    *out = fz::FieldValue{true, 100, "x"};
    return true;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  fz::dsl::CompileResult r = fz::dsl::compile_rules(text, "fuzz.rules");
  if (!r.ruleset) return 0;
  FixedLedger ledger;
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& spec : fz::all_event_specs()) {
      fz::Event event;
      event.id = "e";
      event.type = spec.type;
      event.at_us = 1'790'000'000'000'000 + pass * 86'400'000'000;
      event.fields.assign(spec.fields.size(), fz::FieldValue{true, 100, "x"});
      fz::dsl::EvalOptions options;
      options.enforce_requires = false;
      fz::dsl::EvalResult result = fz::dsl::evaluate(*r.ruleset, event, ledger, options);
      if (!result.ok) continue;
      fz::Int128 sum = 0;
      for (const auto& p : result.postings) sum += p.amount_fen;
      if (sum != 0) __builtin_trap();  // an unbalanced statement would be refused by the engine
      ledger.apply(result);
    }
  }
  return 0;
}
