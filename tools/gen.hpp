// A realistic, reproducible event stream for the default policy (issue 6): agencies, signings and
// moves between agencies, payout bindings, general and directed plans with applications, orders with
// confirmations and ~10% refunds (partial and full, some after settlement), V-tasks in and out of the
// Double 11 campaign, and monthly withdrawals. Every event satisfies the engine preconditions when
// appended in the order written; withdrawals are sized well inside what the default policy makes
// available, so its `require`s hold. Same options, same bytes, on any machine.
#pragma once

#include <cstdint>
#include <ostream>

namespace fz {

struct GenOptions {
  std::uint64_t events = 1000;
  std::uint64_t seed = 1;
  std::uint32_t streamers = 100;
};

// Writes exactly options.events JSON lines.
void generate_events(const GenOptions& options, std::ostream& out);

}  // namespace fz
