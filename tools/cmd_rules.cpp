// fenzhang rules check FILE… | rules publish FILE
#include <fmt/format.h>
#include <boost/json.hpp>

#include <chrono>
#include <fstream>
#include <sstream>

#include "core/money.hpp"
#include "dsl/rules_check.hpp"
#include "engine/publish.hpp"
#include "tools/arguments.hpp"
#include "tools/cli.hpp"
#include "tools/output.hpp"
#include "tools/query_json.hpp"

namespace fz::cli {
namespace {

Result<std::string> read_rules_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(fmt::format("{}: cannot read the file", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct PublishArgs {
  std::string file;
  bool dry_run = false;
  bool force = false;
};

void print_recomputation(const engine::PublishReport& r) {
  for (const auto& d : r.differences) {
    fmt::print("  {}  total {} -> {}  available {} -> {}\n", escape_display(d.account),
               format_money(d.total_fen), format_money(d.whatif_total_fen), format_money(d.available_fen),
               format_money(d.whatif_available_fen));
  }
  for (const auto& i : r.issues)
    fmt::print("{}\n",
               escape_display(fmt::format("would now fail: seq {} ({}): {}", i.seq, i.event_id, i.message)));
  if (r.issue_count > r.issues.size()) fmt::print("... and {} more\n", r.issue_count - r.issues.size());
}

int publish(const Globals& g, const PublishArgs& args) {
  auto source = read_rules_file(args.file);
  if (!source) return fail(source.message());
  auto ledger = Ledger::open(g.db_dir(), Ledger::Access::kWrite);
  if (!ledger) return fail(ledger.message());
  const TimeUs now = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  std::string diagnostics;
  engine::PublishOptions options;
  options.dry_run = args.dry_run;
  options.force = args.force;
  auto r = engine::publish_rules(**ledger, *source, args.file, now, &diagnostics, options);
  if (!r) {
    std::cerr << diagnostics;
    return fail(r.message());
  }
  const int code = r->refused ? kExitRejected : kExitOk;
  const std::string effective = format_time(r->effective_us, r->timezone);
  if (g.format_name == "json") {
    std::cout << boost::json::serialize(publish_json(*r)) << "\n";
    return code;
  }
  if (r->duplicate) {
    fmt::print("duplicate: {} v{} is already published with this text (seq {})\n", r->name, r->version,
               r->seq);
    return kExitOk;
  }
  if (!r->written) {
    fmt::print("{} {} v{} (effective {}), sha256 {}\n", r->refused ? "refused:" : "dry run: would publish",
               r->name, r->version, effective, r->sha256);
    fmt::print("the recomputation changes {} account{}\n", r->differences.size(),
               r->differences.size() == 1 ? "" : "s");
    print_recomputation(*r);
    if (r->refused) {
      std::cerr << fmt::format(
          "error: {} event{} would fail under {} v{}; nothing was published (fix the rules, or publish with "
          "--force to record those events with no postings under it)\n",
          r->issue_count, r->issue_count == 1 ? "" : "s", r->name, r->version);
    }
    return code;
  }
  fmt::print("published {} v{} (effective {}) as seq {}, sha256 {}\n", r->name, r->version, effective, r->seq,
             r->sha256);
  fmt::print("re-evaluated {} earlier event{} under it\n", r->reevaluated, r->reevaluated == 1 ? "" : "s");
  print_recomputation(*r);
  return code;
}

}  // namespace

void add_rules(CLI::App& app, Globals& g, std::vector<Command>& out) {
  CLI::App* rules = app.add_subcommand("rules", "check or publish a rules file");
  rules->require_subcommand(1);
  auto files = std::make_shared<std::vector<std::string>>();
  CLI::App* check = rules->add_subcommand("check", "parse and type-check rules files; print diagnostics");
  check->add_option("files", *files, "rules files")->required()->check(non_empty_arg());
  out.push_back({check, [files] { return dsl::run_rules_check(*files, std::cout, std::cerr); }});
  auto args = std::make_shared<PublishArgs>();
  CLI::App* pub =
      rules->add_subcommand("publish", "check a rules file, then append it to the ledger as a version");
  pub->add_option("file", args->file, "rules file")->required()->check(non_empty_arg());
  pub->add_flag("--dry-run", args->dry_run,
                "show the recomputation (differences, what would fail); write nothing");
  pub->add_flag("--force", args->force,
                "publish even when events governed by the version would fail in the recomputation");
  out.push_back({pub, [&g, args] { return publish(g, *args); }});
}

}  // namespace fz::cli
