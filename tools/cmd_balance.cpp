// fenzhang balance [PATTERN] [--at T]
#include <fmt/format.h>
#include <boost/json.hpp>

#include <chrono>

#include "core/money.hpp"
#include "engine/queries.hpp"
#include "engine/reader.hpp"
#include "store/codec.hpp"
#include "tools/arguments.hpp"
#include "tools/cli.hpp"
#include "tools/output.hpp"
#include "tools/query_json.hpp"

namespace fz::cli {
namespace {

struct BalanceArgs {
  std::string pattern;
  std::string at;
};

int run(const Globals& g, const BalanceArgs& a) {
  std::optional<TimeUs> at;
  if (!a.at.empty()) {
    auto t = parse_query_time(a.at);
    if (!t) {
      std::cerr << "error: --at: " << t.message() << "\n";
      return kExitUsage;
    }
    at = *t;
  }
  auto ledger = engine::open_for_queries(g.db_dir());
  if (!ledger) return fail(ledger.message());
  const TimeUs now_us = std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  auto rows = engine::balances(**ledger, a.pattern, at, now_us);
  if (!rows) return fail(rows.message());
  switch (g.format()) {
    case Format::kJson:
      std::cout << boost::json::serialize(balance_json(**ledger, *rows, at)) << "\n";
      break;
    case Format::kTable:
    case Format::kCsv: {
      TextTable t({{"account", false}, {"total", true}, {"available", true}, {"pending", true}});
      for (const auto& r : *rows) {
        t.add_row({r.account, format_money(r.total_fen), format_money(r.available_fen),
                   format_money(r.pending_fen())});
      }
      if (g.format() == Format::kCsv) {
        t.print_csv(std::cout);
      } else {
        t.print(std::cout);
      }
      break;
    }
  }
  return kExitOk;
}

}  // namespace

void add_balance(CLI::App& app, Globals& g, std::vector<Command>& out) {
  auto args = std::make_shared<BalanceArgs>();
  CLI::App* sub = app.add_subcommand("balance", "total, available and pending balance of accounts");
  sub->add_option("pattern", args->pattern, "account glob such as '@streamer:*:cps' (default: all accounts)")
      ->check(account_glob_arg());
  sub->add_option("--at", args->at,
                  "only events whose time is at or before T, availability at T (RFC 3339, or YYYY-MM-DD for "
                  "local midnight +08:00)")
      ->check(query_time_arg());
  out.push_back({sub, [&g, args] { return run(g, *args); }});
}

}  // namespace fz::cli
