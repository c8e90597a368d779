// fenzhang statement PARTY --month YYYY-MM
#include <fmt/format.h>
#include <boost/json.hpp>

#include "engine/reader.hpp"
#include "core/money.hpp"
#include "engine/statement.hpp"
#include "tools/arguments.hpp"
#include "tools/cli.hpp"
#include "tools/output.hpp"

namespace fz::cli {
namespace {

struct StatementArgs {
  std::string party, month;
};

int run(const Globals& g, const StatementArgs& a) {
  auto ledger = engine::open_for_queries(g.db_dir());
  if (!ledger) return fail(ledger.message());
  auto st = engine::statement(**ledger, a.party, a.month);
  if (!st) return fail(st.message());
  const OffsetSec tz = st->timezone;
  if (g.format() == Format::kJson) {
    boost::json::array lines;
    for (const auto& l : st->lines) {
      lines.push_back(boost::json::object{{"seq", l.seq},
                                          {"event", l.event_id},
                                          {"at", format_time(l.event_at, tz)},
                                          {"kind", l.kind},
                                          {"ref", l.ref},
                                          {"account", l.account},
                                          {"amount", format_money(l.amount_fen)},
                                          {"available_at", format_time(l.available_at, tz)}});
    }
    boost::json::object totals;
    for (const auto& [k, v] : st->totals) totals[k] = format_money(v);
    boost::json::object o{{"party", st->party},
                          {"month", st->month},
                          {"opening", format_money(st->opening_fen)},
                          {"lines", std::move(lines)},
                          {"totals", std::move(totals)},
                          {"closing", format_money(st->closing_fen)},
                          {"settlement_day", format_time(st->settlement_day, tz)},
                          {"available_on_settlement_day", format_money(st->available_on_settlement_day_fen)}};
    std::cout << boost::json::serialize(o) << "\n";
    return kExitOk;
  }
  TextTable t({{"seq", true},
               {"date", false},
               {"kind", false},
               {"ref", false},
               {"account", false},
               {"amount", true},
               {"available_at", false}});
  for (const auto& l : st->lines) {
    t.add_row({std::to_string(l.seq), format_time(l.event_at, tz).substr(0, 10), l.kind, l.ref, l.account,
               format_money(l.amount_fen), format_time(l.available_at, tz)});
  }
  if (g.format() == Format::kCsv) {
    t.print_csv(std::cout);
    return kExitOk;
  }
  fmt::print("statement for {} for {}\n", st->party, st->month);
  fmt::print("opening balance {}\n\n", format_money(st->opening_fen));
  t.print(std::cout);
  fmt::print("\n");
  for (const auto& [k, v] : st->totals) {
    if (v != 0) fmt::print("{:<12} {:>14}\n", k, format_money(v));
  }
  fmt::print("closing balance {}\n", format_money(st->closing_fen));
  fmt::print("available on the settlement day {}: {}\n", format_time(st->settlement_day, tz).substr(0, 10),
             format_money(st->available_on_settlement_day_fen));
  return kExitOk;
}

}  // namespace

void add_statement(CLI::App& app, Globals& g, std::vector<Command>& out) {
  auto args = std::make_shared<StatementArgs>();
  CLI::App* sub = app.add_subcommand("statement", "a party's monthly statement");
  sub->add_option("party", args->party, "streamer:ID or agency:ID")->required()->check(party_arg());
  sub->add_option("--month", args->month, "YYYY-MM")->required()->check(month_arg());
  out.push_back({sub, [&g, args] { return run(g, *args); }});
}

}  // namespace fz::cli
