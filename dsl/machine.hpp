// The expression machine: evaluates compiled expression nodes (program.hpp). Internal to dsl/; used
// by the evaluator for events and by the checker to fold constants (with no event and no facts).
// One per evaluation; not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dsl/eval.hpp"
#include "dsl/program.hpp"
#include "dsl/ruleset.hpp"

namespace fz::dsl::detail {

std::string format_value(const Value& value, OffsetSec offset);

class Machine {
 public:
  // `event`, `facts` and `overlay` may be null when evaluating constants.
  Machine(const Program& program, const RulesetInfo& info, const Event* event, const Facts* facts,
          const std::vector<RulePosting>* overlay)
      : program_(program), info_(info), event_(event), facts_(facts), overlay_(overlay) {}

  // Evaluates node `n` into *out; false with error() set on an evaluation error.
  [[nodiscard]] bool eval(std::int32_t n, Value* out);
  // The expression with every name replaced by its value: "round(299.00 × 20%)".
  std::string render(std::int32_t n);

  // Rounding steps are reported to `trace` (may be null) at `depth`.
  void set_trace(TraceSink* trace, int depth) {
    trace_ = trace;
    trace_depth_ = depth;
  }

  const std::string& error() const { return error_; }
  std::vector<Value>& locals() { return locals_; }
  OffsetSec offset() const { return info_.timezone; }

 private:
  bool fail(std::string message);
  std::string render_node(std::int32_t n);
  bool eval_binary(const Node& node, Value* out);
  bool eval_arith(const Node& node, const Value& a, const Value& b, Value* out);
  bool eval_compare(const Node& node, const Value& a, const Value& b, Value* out);
  bool eval_call(const Node& node, Value* out);
  bool eval_field(const Node& node, Value* out);
  bool eval_account(const Node& node, Value* out);
  bool eval_table(const Node& node, Value* out);
  bool sum_postings(const std::string& account, bool only_available, Fen* out);
  bool least_available(const std::string& account, Fen* out);
  bool eval_node(std::int32_t n, Value* out);

  const Program& program_;
  const RulesetInfo& info_;
  const Event* event_;
  const Facts* facts_;
  const std::vector<RulePosting>* overlay_;
  std::vector<Value> locals_;
  std::string error_;
  TraceSink* trace_ = nullptr;
  int trace_depth_ = 0;
  bool rendering_ = false;
};

}  // namespace fz::dsl::detail
