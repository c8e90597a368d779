// daily_balances(): the end-of-day balances of a party over a statement's month.
#include <fmt/format.h>

#include "engine/queries.hpp"
#include "report/statement_html.hpp"

namespace fz::report {
namespace {

// The last microsecond of each local day of [from_us, to_us).
std::vector<TimeUs> day_ends(TimeUs from_us, TimeUs to_us, OffsetSec tz) {
  std::vector<TimeUs> ends;
  for (TimeUs start_us = from_us; start_us < to_us; start_us = next_midnight(start_us, tz)) {
    ends.push_back(next_midnight(start_us, tz) - 1);
  }
  return ends;
}

// The balance at `end_us` as `balances(..., at = end_us)` computes it for each account, summed.
Result<DayBalance> balance_at(const std::vector<engine::Posting>& postings, TimeUs end_us) {
  DayBalance b;
  b.end_us = end_us;
  for (const engine::Posting& p : postings) {
    if (p.event_at > end_us) continue;
    bool ok = accumulate_fen(b.total_fen, p.amount_fen);
    if (ok && p.available_at <= end_us) ok = accumulate_fen(b.available_fen, p.amount_fen);
    if (!ok || !sub_fen(b.total_fen, b.available_fen)) {
      return make_error(fmt::format("the balance at {} overflows 64-bit fen", format_time(end_us)));
    }
  }
  return b;
}

}  // namespace

Result<std::vector<DayBalance>> daily_balances(const Ledger& ledger, const engine::Statement& st) {
  engine::JournalFilter f;
  f.account_pattern = engine::party_accounts_glob(st.party);
  f.to = st.to_us - 1;
  auto postings = engine::journal(ledger, f);
  if (!postings) return postings.error();
  std::vector<DayBalance> days;
  for (const TimeUs end_us : day_ends(st.from_us, st.to_us, st.timezone)) {
    auto b = balance_at(*postings, end_us);
    if (!b) return b.error();
    b->day = static_cast<int>(days.size()) + 1;
    days.push_back(*b);
  }
  return days;
}

}  // namespace fz::report
