// fenzhang rules check FILE… | rules publish FILE
#include <fmt/format.h>
#include <boost/json.hpp>

#include <chrono>
#include <fstream>
#include <sstream>

#include "dsl/rules_check.hpp"
#include "engine/publish.hpp"
#include "tools/arguments.hpp"
#include "tools/cli.hpp"
#include "tools/output.hpp"

namespace fz::cli {
namespace {

Result<std::string> read_rules_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(fmt::format("{}: cannot read the file", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int publish(const Globals& g, const std::string& path) {
  auto source = read_rules_file(path);
  if (!source) return fail(source.message());
  auto ledger = Ledger::open(g.db_dir(), Ledger::Access::kWrite);
  if (!ledger) return fail(ledger.message());
  const TimeUs now = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  std::string diagnostics;
  auto r = engine::publish_rules(**ledger, *source, path, now, &diagnostics);
  if (!r) {
    std::cerr << diagnostics;
    return fail(r.message());
  }
  const std::string effective = format_time(r->effective_us, r->timezone);
  if (g.format_name == "json") {
    boost::json::array issues;
    for (const auto& i : r->issues) {
      issues.push_back(boost::json::object{{"seq", i.seq}, {"event", i.event_id}, {"message", i.message}});
    }
    boost::json::object o{{"ruleset", r->name},
                          {"version", r->version},
                          {"effective", effective},
                          {"seq", r->seq},
                          {"sha256", r->sha256},
                          {"duplicate", r->duplicate},
                          {"reevaluated", r->reevaluated},
                          {"would_fail", std::move(issues)},
                          {"would_fail_count", r->issue_count}};
    std::cout << boost::json::serialize(o) << "\n";
    return kExitOk;
  }
  if (r->duplicate) {
    fmt::print("duplicate: {} v{} is already published with this text (seq {})\n", r->name, r->version,
               r->seq);
    return kExitOk;
  }
  fmt::print("published {} v{} (effective {}) as seq {}, sha256 {}\n", r->name, r->version, effective, r->seq,
             r->sha256);
  fmt::print("re-evaluated {} earlier event{} under it\n", r->reevaluated, r->reevaluated == 1 ? "" : "s");
  for (const auto& i : r->issues)
    fmt::print("{}\n",
               escape_display(fmt::format("would now fail: seq {} ({}): {}", i.seq, i.event_id, i.message)));
  if (r->issue_count > r->issues.size()) fmt::print("... and {} more\n", r->issue_count - r->issues.size());
  return kExitOk;
}

}  // namespace

void add_rules(CLI::App& app, Globals& g, std::vector<Command>& out) {
  CLI::App* rules = app.add_subcommand("rules", "check or publish a rules file");
  rules->require_subcommand(1);
  auto files = std::make_shared<std::vector<std::string>>();
  CLI::App* check = rules->add_subcommand("check", "parse and type-check rules files; print diagnostics");
  check->add_option("files", *files, "rules files")->required()->check(non_empty_arg());
  out.push_back({check, [files] { return dsl::run_rules_check(*files, std::cout, std::cerr); }});
  auto file = std::make_shared<std::string>();
  CLI::App* pub =
      rules->add_subcommand("publish", "check a rules file, then append it to the ledger as a version");
  pub->add_option("file", *file, "rules file")->required()->check(non_empty_arg());
  out.push_back({pub, [&g, file] { return publish(g, *file); }});
}

}  // namespace fz::cli
