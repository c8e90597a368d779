// libFuzzer target: arbitrary bytes through parse and check, and a clean ruleset through evaluation
// of an event of every type with no facts at all. Must never crash, leak or trip a sanitizer.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "dsl/eval.hpp"
#include "dsl/rules_check.hpp"

namespace {

class NoFacts : public fz::dsl::Facts {
 public:
  bool entity_field(fz::dsl::EntityKind, int, fz::FieldValue*) const override { return false; }
  fz::Fen balance(std::string_view) const override { return 0; }
  fz::Fen available(std::string_view, fz::TimeUs) const override { return 0; }
  fz::dsl::Allocation previous_allocation(std::string_view) const override { return {}; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  fz::dsl::CompileResult r = fz::dsl::compile_rules(text, "fuzz.rules");
  if (!r.ruleset) return 0;
  NoFacts facts;
  for (const auto& spec : fz::all_event_specs()) {
    fz::Event event;
    event.id = "e";
    event.type = spec.type;
    event.at_us = 1'790'000'000'000'000;
    event.fields.assign(spec.fields.size(), fz::FieldValue{true, 100, "x"});
    fz::dsl::EvalOptions options;
    options.enforce_requires = false;
    fz::dsl::EvalResult result = fz::dsl::evaluate(*r.ruleset, event, facts, options);
    (void)result;
  }
  return 0;
}
