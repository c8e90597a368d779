// explain(): why an event has the postings it has (SPEC section 8, `fenzhang explain`): the event as
// stored, its terms time, the ruleset version that governs it and why, the evaluator's trace (each rule
// considered, values, rounding, allocations, targets), the order's eligibility, and the postings.
//
// The evaluation is reproduced exactly: the projection as of just before the event is rebuilt on the
// side (a scratch ledger), and the event is evaluated there with a trace. Reads only.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "engine/book.hpp"
#include "store/ledger.hpp"

namespace fz::engine {

struct TraceLine {
  int depth = 0;
  std::string text;
};

// A keyed target (`per KEY`) the event changed: the allocation before and after it.
struct TargetChange {
  std::string key;
  Allocation previous;  // empty when the key was new
  Allocation next;
};

struct Explanation {
  std::uint64_t seq = 0;
  std::string hash_hex;
  Event event;
  OffsetSec timezone = kDefaultOffsetSec;
  TimeUs terms_time = 0;
  std::string terms_reason;  // "the order's paid_at", "the event's own time", ...
  // The governing version, if any.
  std::optional<std::uint64_t> version_seq;
  std::string version_name;
  std::int64_t version = 0;
  TimeUs version_effective = 0;
  std::string version_reason;
  std::vector<std::string> other_versions;  // why the others were not chosen
  std::optional<bool> eligible;             // order events
  std::string why_ineligible;
  std::vector<TraceLine> trace;
  std::vector<TargetChange> targets;  // in the order the postings name them
  std::vector<Posting> postings;      // as stored
};

Result<Explanation> explain(const Ledger& ledger, const std::string& event_id);

}  // namespace fz::engine
