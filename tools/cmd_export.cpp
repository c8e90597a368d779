// fenzhang export events [--from-seq N] | beancount [--at T] | csv
//
// The ledger written out for other programs (SPEC section 10, docs/exports.md): the log as canonical
// JSON Lines that `append` turns back into the same chain, the books for beancount, the journal for a
// spreadsheet. Read-only: runs alongside a writer, on the state as of an acknowledged head.
#include <fmt/format.h>

#include <memory>

#include "engine/reader.hpp"
#include "export/export.hpp"
#include "tools/arguments.hpp"
#include "tools/cli.hpp"
#include "tools/output.hpp"

namespace fz::cli {
namespace {

struct ExportArgs {
  std::string from_seq = "1";
  std::string at;
};

int run_events(const Globals& g, const ExportArgs& a) {
  auto ledger = engine::open_for_queries(g.db_dir());
  if (!ledger) return fail(ledger.message());
  if (Status s = exports::write_events(**ledger, std::stoull(a.from_seq), std::cout); !s.ok()) {
    return fail(s.message());
  }
  return kExitOk;
}

int run_beancount(const Globals& g, const ExportArgs& a) {
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
  if (Status s = exports::write_beancount(**ledger, at, display_offset(**ledger), std::cout); !s.ok()) {
    return fail(s.message());
  }
  return kExitOk;
}

int run_csv(const Globals& g) {
  auto ledger = engine::open_for_queries(g.db_dir());
  if (!ledger) return fail(ledger.message());
  auto rows = exports::journal_rows(**ledger, display_offset(**ledger));
  if (!rows) return fail(rows.message());
  // Every cell escaped and neutralised (SPEC 8): ids and keys come from whoever wrote the events.
  for (const std::vector<std::string>& row : *rows) {
    for (std::size_t c = 0; c < row.size(); ++c) std::cout << (c ? "," : "") << csv_cell(row[c]);
    std::cout << '\n';
  }
  std::cout.flush();
  if (!std::cout) return fail("cannot write the output");
  return kExitOk;
}

}  // namespace

void add_export(CLI::App& app, Globals& g, std::vector<Command>& out) {
  auto args = std::make_shared<ExportArgs>();
  CLI::App* sub = app.add_subcommand("export", "write the log or the books out (events, beancount, csv)");
  sub->require_subcommand(1);
  CLI::App* events = sub->add_subcommand(
      "events", "the log as JSON Lines of canonical events; append them to an empty ledger to rebuild it");
  events->add_option("--from-seq", args->from_seq, "first sequence number to write (default 1)")
      ->check(positive_integer_arg());
  CLI::App* beancount = sub->add_subcommand("beancount", "the books as a beancount file (docs/exports.md)");
  beancount->add_option("--at", args->at, "only events at or before T (RFC 3339, or YYYY-MM-DD)")
      ->check(query_time_arg());
  CLI::App* csv = sub->add_subcommand("csv", "the journal as CSV for spreadsheets");
  out.push_back({events, [&g, args] { return run_events(g, *args); }});
  out.push_back({beancount, [&g, args] { return run_beancount(g, *args); }});
  out.push_back({csv, [&g] { return run_csv(g); }});
}

}  // namespace fz::cli
