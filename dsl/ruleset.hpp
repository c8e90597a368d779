// Ruleset: one checked, compiled version of a rules file (SPEC section 5), ready to evaluate.
//
// Built only by compile_rules() (rules_check.hpp). Immutable once built; copies share the compiled
// program, so a Ruleset is cheap to copy and safe to use from several threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/time.hpp"
#include "model/event.hpp"

namespace fz::dsl {

namespace detail {
struct Program;
}

struct CampaignInfo {
  std::string name;
  TimeUs from_us = 0;  // inside: from <= t < to
  TimeUs to_us = 0;
};

struct RuleInfo {
  std::string name;
  int line = 0;               // line of the `rule` keyword
  std::vector<EventType> on;  // event types it listens to
};

struct RulesetInfo {
  std::string name;
  std::int64_t version = 0;
  TimeUs effective_us = 0;
  OffsetSec timezone = kDefaultOffsetSec;  // `set timezone`, default +08:00
  int settlement_day = 0;                  // `set settlement_day` (1-28); 0 when not set
  DurationUs contract_lag_us = 0;          // `set contract_lag`, default 0
  std::vector<CampaignInfo> campaigns;     // in file order
  std::vector<RuleInfo> rules;             // in file order
  int table_count = 0;
  int let_count = 0;  // file-level lets
};

class Ruleset {
 public:
  const RulesetInfo& info() const { return *info_; }
  // True if some rule listens to `type` (the engine may skip evaluation otherwise).
  bool listens_to(EventType type) const;

  // Internal: the compiled form the evaluator runs.
  const detail::Program& program() const { return *program_; }
  Ruleset(std::shared_ptr<const RulesetInfo> info, std::shared_ptr<const detail::Program> program)
      : info_(std::move(info)), program_(std::move(program)) {}

 private:
  std::shared_ptr<const RulesetInfo> info_;
  std::shared_ptr<const detail::Program> program_;
};

}  // namespace fz::dsl
