// fenzhang replay [--until SEQ]: rebuild the projection from the event log.
#include <unistd.h>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <chrono>
#include <fstream>
#include <future>
#include <sstream>

#include "core/money.hpp"
#include "engine/reader.hpp"
#include "engine/rebuild.hpp"
#include "engine/whatif.hpp"
#include "store/codec.hpp"
#include "tools/arguments.hpp"
#include "tools/cli.hpp"
#include "tools/output.hpp"
#include "tools/progress.hpp"

namespace fz::cli {
namespace {

struct ReplayArgs {
  std::uint64_t until = 0;  // 0: the whole log (--until itself is at least 1)
  std::vector<std::string> rules;
};

// Seconds since a start, for the summary line.
class Stopwatch {
 public:
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// The progress line on standard error (tools/progress.hpp), only when it is a terminal.
ProgressLine progress_line(std::uint64_t total) {
  return ProgressLine("replay", total, stderr, ::isatty(STDERR_FILENO) == 1);
}

int print(const Globals& g, std::uint64_t until, const engine::RebuildReport& r, const format::Hash& digest,
          std::optional<bool> changed, double seconds) {
  if (g.format_name == "json") {
    boost::json::object o{
        {"events", r.events}, {"postings", r.postings}, {"digest", hash_hex(digest)}, {"until", until}};
    o["changed"] = changed ? boost::json::value(*changed) : boost::json::value(nullptr);
    std::cout << boost::json::serialize(o) << "\n";
  } else {
    fmt::print("replayed {} events ({} postings) in {:.1f} s\n", r.events, r.postings, seconds);
    fmt::print("projection digest {}{}\n", hash_hex(digest),
               !changed   ? " (as of seq " + std::to_string(until) + "; stored projection untouched)"
               : *changed ? " (the stored projection differed and was replaced)"
                          : " (equal to the stored projection)");
  }
  return kExitOk;
}

int run_what_if(const Globals& g, const ReplayArgs& a) {
  std::vector<engine::RulesFile> files;
  for (const std::string& path : a.rules) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(fmt::format("{}: cannot read the file", path));
    std::ostringstream ss;
    ss << in.rdbuf();
    files.push_back({path, ss.str()});
  }
  auto ledger = engine::open_for_queries(g.db_dir());
  if (!ledger) return fail(ledger.message());
  const TimeUs now = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  std::string diagnostics;
  ProgressLine progress = progress_line((*ledger)->head_seq());
  auto r =
      engine::what_if(**ledger, files, now, &diagnostics, [&](std::uint64_t done) { progress.update(done); });
  progress.finish();
  if (!r) {
    std::cerr << diagnostics;
    return fail(r.message());
  }
  if (g.format() == Format::kJson) {
    boost::json::array versions, accounts, issues;
    for (const auto& v : r->versions) versions.push_back(boost::json::string(v));
    for (const auto& row : r->rows) {
      accounts.push_back(boost::json::object{
          {"account", row.account},
          {"total", format_money(row.total_fen)},
          {"whatif_total", format_money(row.whatif_total_fen)},
          {"total_diff", format_money(row.whatif_total_fen - row.total_fen)},
          {"available", format_money(row.available_fen)},
          {"whatif_available", format_money(row.whatif_available_fen)},
          {"available_diff", format_money(row.whatif_available_fen - row.available_fen)}});
    }
    for (const auto& i : r->issues) {
      issues.push_back(boost::json::object{{"seq", i.seq}, {"event", i.event_id}, {"message", i.message}});
    }
    boost::json::object o{{"events", r->events},
                          {"versions", std::move(versions)},
                          {"accounts", std::move(accounts)},
                          {"would_fail", std::move(issues)},
                          {"would_fail_count", r->issue_count}};
    std::cout << boost::json::serialize(o) << "\n";
    return kExitOk;
  }
  TextTable t({{"account", false},
               {"total", true},
               {"what-if", true},
               {"difference", true},
               {"available", true},
               {"what-if", true},
               {"difference", true}});
  for (const auto& row : r->rows) {
    t.add_row({row.account, format_money(row.total_fen), format_money(row.whatif_total_fen),
               format_money(row.whatif_total_fen - row.total_fen), format_money(row.available_fen),
               format_money(row.whatif_available_fen),
               format_money(row.whatif_available_fen - row.available_fen)});
  }
  if (g.format() == Format::kCsv) {
    t.print_csv(std::cout);
    return kExitOk;
  }
  for (const auto& v : r->versions)
    fmt::print("what-if: {} treated as published after seq {}\n", v, r->events);
  fmt::print("nothing was written to the ledger\n\n");
  t.print(std::cout);
  for (const auto& i : r->issues)
    fmt::print("{}\n",
               escape_display(fmt::format("would now fail: seq {} ({}): {}", i.seq, i.event_id, i.message)));
  if (r->issue_count > r->issues.size()) fmt::print("... and {} more\n", r->issue_count - r->issues.size());
  return kExitOk;
}

int run(const Globals& g, const ReplayArgs& a) {
  if (!a.rules.empty()) return run_what_if(g, a);
  if (a.until != 0) {
    // A past state: rebuilt on the side, the ledger is not touched.
    auto ledger = engine::open_for_queries(g.db_dir());
    if (!ledger) return fail(ledger.message());
    if (a.until > (*ledger)->head_seq()) {
      return fail(fmt::format("--until {}: the log ends at seq {}", a.until, (*ledger)->head_seq()));
    }
    Stopwatch watch;
    ProgressLine progress = progress_line(a.until);
    Status s = engine::with_scratch_replay(
        **ledger, a.until,
        [&](Ledger& scratch, const engine::RebuildReport& r) {
          progress.finish();
          auto digest = engine::projection_digest(scratch);
          if (!digest) return Status(digest.error());
          print(g, a.until, r, *digest, std::nullopt, watch.seconds());
          return Status::Ok();
        },
        nullptr, [&](std::uint64_t done) { progress.update(done); });
    progress.finish();
    return s.ok() ? kExitOk : fail(s.message());
  }
  auto ledger = Ledger::open(g.db_dir(), Ledger::Access::kWrite);
  if (!ledger) return fail(ledger.message());
  // The digest of the projection being replaced is taken on a second thread while the rebuild runs.
  std::future<Result<format::Hash>> digest_before =
      std::async(std::launch::async, engine::projection_digest_now(**ledger));
  const std::uint64_t head = (*ledger)->head_seq();
  Stopwatch watch;
  ProgressLine progress = progress_line(head);
  auto report = engine::rebuild_projection(**ledger, **ledger, head,
                                           [&](std::uint64_t done) { progress.update(done); });
  progress.finish();
  auto before = digest_before.get();
  if (!before) return fail(before.message());
  if (!report) return fail(report.message());
  auto after = engine::projection_digest(**ledger);
  if (!after) return fail(after.message());
  return print(g, head, *report, *after, *before != *after, watch.seconds());
}

}  // namespace

void add_replay(CLI::App& app, Globals& g, std::vector<Command>& out) {
  auto args = std::make_shared<ReplayArgs>();
  CLI::App* sub =
      app.add_subcommand("replay", "rebuild the projection from the event log and print its digest");
  sub->add_option("--until", args->until,
                  "rebuild the state as of this sequence number (1 or more), on the side")
      ->check(positive_integer_arg());
  sub->add_option(
         "--rules", args->rules,
         "what-if: replay with these rules files treated as published after the last event; writes nothing")
      ->check(non_empty_arg());
  out.push_back({sub, [&g, args] { return run(g, *args); }});
}

}  // namespace fz::cli
