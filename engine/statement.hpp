// statement(): a party's monthly statement (SPEC section 8): opening balance, each posting of the month
// classified (commission by order, claw-back by refund case, V-task income, platform fees, withdrawals
// paid out, adjustments), closing balance, and what becomes available on the settlement day after the
// month. Totals reconcile with `balance --at` the month's end. Reads only.
#pragma once

#include <string>
#include <vector>

#include "core/result.hpp"
#include "engine/book.hpp"
#include "store/ledger.hpp"

namespace fz::engine {

struct StatementLine {
  std::uint64_t seq = 0;
  std::string event_id;
  TimeUs event_at = 0;
  std::string kind;  // commission, clawback, vtask, fee, withdrawal, adjustment, other
  std::string ref;   // order id, "order/case", task id, ...
  std::string account;
  Fen amount_fen = 0;
  TimeUs available_at = 0;
};

struct Statement {
  std::string party;  // "streamer:s1"
  std::string month;  // "2026-10"
  OffsetSec timezone = kDefaultOffsetSec;
  TimeUs from_us = 0, to_us = 0;  // [from, to)
  Fen opening_fen = 0;
  std::vector<StatementLine> lines;
  std::vector<std::pair<std::string, Fen>> totals;  // by kind, in a fixed order
  Fen closing_fen = 0;
  TimeUs settlement_day = 0;         // local midnight of the settlement day after the month
  int settlement_day_of_month = 20;  // the rules' `settlement_day`: the day of each month payouts happen
  Fen available_on_settlement_day_fen = 0;  // of the closing balance, available on the settlement day
};

// `party` is one party ("streamer:s1"): glob characters in its id are taken literally, never as a glob.
Result<Statement> statement(const Ledger& ledger, const std::string& party, const std::string& month);

}  // namespace fz::engine
