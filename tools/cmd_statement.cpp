// fenzhang statement PARTY --month YYYY-MM [--html FILE]
#include <fmt/format.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/money.hpp"
#include "engine/reader.hpp"
#include "engine/statement.hpp"
#include "report/statement_html.hpp"
#include "tools/arguments.hpp"
#include "tools/cli.hpp"
#include "tools/output.hpp"
#include "tools/query_json.hpp"

namespace fz::cli {
namespace {

struct StatementArgs {
  std::string party, month, html_path;
};

// Writes `text` to `path` through a temporary file renamed over it: a reader never sees half a page.
Status write_file_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = fmt::format("{}.tmp-{}", path, ::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr) return make_error(fmt::format("cannot write {}: {}", tmp, std::strerror(errno)));
  const bool written = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  const int saved_errno = errno;
  if (std::fclose(f) != 0 || !written) {
    std::remove(tmp.c_str());
    return make_error(fmt::format("cannot write {}: {}", tmp, std::strerror(written ? errno : saved_errno)));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int rename_errno = errno;
    std::remove(tmp.c_str());
    return make_error(fmt::format("cannot write {}: {}", path, std::strerror(rename_errno)));
  }
  return Status::Ok();
}

// --html FILE: the page (report/statement_html.hpp); nothing on standard output.
int write_html(const Ledger& ledger, const engine::Statement& st, const std::string& path) {
  auto days = report::daily_balances(ledger, st);
  if (!days) return fail(days.message());
  const Status written = write_file_atomically(path, report::statement_html(st, *days));
  return written.ok() ? kExitOk : fail(written.message());
}

int run(const Globals& g, const StatementArgs& a) {
  auto ledger = engine::open_for_queries(g.db_dir());
  if (!ledger) return fail(ledger.message());
  auto st = engine::statement(**ledger, a.party, a.month);
  if (!st) return fail(st.message());
  if (!a.html_path.empty()) return write_html(**ledger, *st, a.html_path);
  const OffsetSec tz = st->timezone;
  if (g.format() == Format::kJson) {
    std::cout << boost::json::serialize(statement_json(*st)) << "\n";
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
  sub->add_option("--html", args->html_path, "write the statement as a self-contained HTML page to FILE")
      ->check(non_empty_arg());
  out.push_back({sub, [&g, args] { return run(g, *args); }});
}

}  // namespace fz::cli
