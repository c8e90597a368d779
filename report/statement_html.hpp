// fz_report: a party's monthly statement as one self-contained HTML page (SPEC section 10,
// `fenzhang statement PARTY --month M --html FILE`).
//
// The page holds the figures of engine::statement() (formatted from integer fen, the same text as
// `statement --format json`), a chart (inline SVG) of the party's available and pending balance at the
// end of each day of the month with the rules' settlement day marked, and the month's postings. It has
// inline CSS only: no script, nothing loaded from the network (a Content-Security-Policy of
// default-src 'none' says so to the browser too), and prints on A4. Every text that comes from events
// is HTML-escaped. Figures carry data-figure attributes and chart points data-series/data-day/data-fen,
// so tests and scripts can read them back (docs/statement-html.md).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/money.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "engine/statement.hpp"
#include "store/ledger.hpp"

namespace fz::report {

// The party's balance, over all its accounts (`@PARTY:*`), at the end of one local day: what
// `balance '@PARTY:*' --at END` sums to (SPEC section 6): postings of events whose `at` <= END,
// available when their available-from <= END.
struct DayBalance {
  int day = 0;        // 1 .. the number of days of the month
  TimeUs end_us = 0;  // the day's last microsecond, in the ledger's timezone
  Fen total_fen = 0;
  Fen available_fen = 0;
  Fen pending_fen() const { return total_fen - available_fen; }
};

// One DayBalance per day of the statement's month, in order, from the ledger's journal.
Result<std::vector<DayBalance>> daily_balances(const Ledger& ledger, const engine::Statement& st);

// The page for a statement and its daily balances (deterministic: no clock, no randomness).
std::string statement_html(const engine::Statement& st, const std::vector<DayBalance>& days);

// Text for HTML content and attribute values: & < > " ' as character references.
std::string html_escape(std::string_view text);

}  // namespace fz::report
