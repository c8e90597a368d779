// fenzhang journal [--account GLOB] [--event ID] [--from T] [--to T] [--rule NAME]
#include <fmt/format.h>
#include <boost/json.hpp>

#include "core/money.hpp"
#include "engine/queries.hpp"
#include "engine/reader.hpp"
#include "tools/arguments.hpp"
#include "tools/cli.hpp"
#include "tools/output.hpp"
#include "tools/query_json.hpp"

namespace fz::cli {
namespace {

struct JournalArgs {
  std::string account, event, from, to, rule;
};

int run(const Globals& g, const JournalArgs& a) {
  engine::JournalFilter f;
  f.account_pattern = a.account;
  if (!a.event.empty()) f.event = a.event;
  if (!a.rule.empty()) f.rule = a.rule;
  for (auto [text, slot, name] : {std::tuple{&a.from, &f.from, "--from"}, std::tuple{&a.to, &f.to, "--to"}}) {
    if (text->empty()) continue;
    auto t = parse_query_time(*text);
    if (!t) {
      std::cerr << "error: " << name << ": " << t.message() << "\n";
      return kExitUsage;
    }
    *slot = *t;
  }
  if (f.from && f.to && *f.from > *f.to) {
    // An empty range by mistake, not a question with an empty answer.
    std::cerr << "error: --from " << a.from << " is later than --to " << a.to << "\n";
    return kExitUsage;
  }
  auto ledger = engine::open_for_queries(g.db_dir());
  if (!ledger) return fail(ledger.message());
  auto rows = engine::journal(**ledger, f);
  if (!rows) return fail(rows.message());
  const OffsetSec tz = display_offset(**ledger);
  if (g.format() == Format::kJson) {
    // JSON Lines: one posting per line (SPEC 8).
    std::cout << journal_jsonl(*rows, tz);
    return kExitOk;
  }
  TextTable t({{"seq", true},
               {"event", false},
               {"account", false},
               {"amount", true},
               {"available_at", false},
               {"version", true},
               {"rule", false},
               {"line", true},
               {"key", false}});
  for (const engine::Posting& p : *rows) {
    t.add_row({std::to_string(p.seq), p.event_id, p.account, format_money(p.amount_fen),
               format_time(p.available_at, tz), p.version == 0 ? "-" : std::to_string(p.version), p.rule,
               p.line == 0 ? "-" : std::to_string(p.line), p.key});
  }
  if (g.format() == Format::kCsv) {
    t.print_csv(std::cout);
  } else {
    t.print(std::cout);
  }
  return kExitOk;
}

}  // namespace

void add_journal(CLI::App& app, Globals& g, std::vector<Command>& out) {
  auto args = std::make_shared<JournalArgs>();
  CLI::App* sub = app.add_subcommand("journal", "postings with their event, rule and line, in log order");
  sub->add_option("--account", args->account, "account glob such as '@streamer:s1:*'")
      ->check(account_glob_arg());
  sub->add_option("--event", args->event, "only the postings of this event id")->check(identifier_arg());
  sub->add_option("--from", args->from, "only events at or after T")->check(query_time_arg());
  sub->add_option("--to", args->to, "only events at or before T")->check(query_time_arg());
  sub->add_option("--rule", args->rule,
                  "only postings made by this rule ('adjustment' for operator adjustments)")
      ->check(non_empty_arg());
  out.push_back({sub, [&g, args] { return run(g, *args); }});
}

}  // namespace fz::cli
