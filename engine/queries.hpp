// Read-only queries over a ledger's projection: balances (SPEC sections 6 and 8). They read a
// read-only Ledger (safe alongside a writer) and never change anything.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/money.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "engine/book.hpp"
#include "store/ledger.hpp"

namespace fz::engine {

struct BalanceRow {
  std::string account;
  Fen total_fen = 0;
  Fen available_fen = 0;
  Fen pending_fen() const { return total_fen - available_fen; }
};

// Accounts matching `pattern` (a glob; "" or "*" for all) with total, available and pending.
// With `at`: only postings of events whose `at` <= *at, availability computed at *at. Without: every
// posting, availability at `now_us`. Sorted by account; accounts with postings in range are listed even
// when their total is zero.
// `scratch`: the ledger holds a projection rebuilt from another ledger's log (no log of its own).
Result<std::vector<BalanceRow>> balances(const Ledger& ledger, const std::string& pattern,
                                         std::optional<TimeUs> at, TimeUs now_us, bool scratch = false);

struct JournalFilter {
  std::string account_pattern;       // glob; "" = every account
  std::optional<std::string> event;  // an event id
  std::optional<TimeUs> from;        // event time >= from
  std::optional<TimeUs> to;          // event time <= to
  std::optional<std::string> rule;   // rule name ("adjustment" for operator adjustments)
};

// Postings matching the filter, in log order (by sequence, then statement order). An account pattern
// without glob characters reads only that account's journal index.
Result<std::vector<Posting>> journal(const Ledger& ledger, const JournalFilter& filter);

// The last event the stored projection reflects (0 when nothing is projected yet). An unreadable or
// malformed head is an error, never 0.
Result<std::uint64_t> read_projection_head(const Ledger& ledger);

// Fails when the projection does not cover the whole log (a rebuild was interrupted).
Status check_projection_current(const Ledger& ledger);

bool glob_match(const std::string& pattern, const std::string& text);

// `text` as a glob that matches exactly `text`: a backslash before each '*', '?', '[' and backslash.
std::string glob_literal(std::string_view text);

// The glob of every account of one party ("streamer:s1" -> "@streamer:s1:*"), the id taken literally.
std::string party_accounts_glob(std::string_view party);

}  // namespace fz::engine
