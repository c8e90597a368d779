// fenzhang: the one command-line binary (SPEC section 8).
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstdio>
#include <cstdlib>

#include "engine/versions.hpp"
#include "store/ledger.hpp"
#include "tools/arguments.hpp"
#include "tools/cli.hpp"

namespace fz::cli {

Format Globals::format() const {
  if (format_name == "json") return Format::kJson;
  if (format_name == "csv") return Format::kCsv;
  if (format_name == "table") return Format::kTable;
  return ::isatty(STDOUT_FILENO) ? Format::kTable : Format::kJson;
}

std::string Globals::db_dir() const {
  if (!db.empty()) return db;
  if (const char* env = std::getenv("FENZHANG_DB"); env != nullptr && *env != '\0') return env;
  return "./fenzhang.db";
}

int fail(const std::string& message) {
  std::cerr << "error: " << message << "\n";
  return kExitRejected;
}

// "unknown command 'X' (the commands are …)" when the first word after the global options names no
// command; "" otherwise (CLI11 then reports what else is wrong). Without this CLI11 says only "A
// subcommand is required" for a mistyped command.
std::string unknown_command(const CLI::App& app, int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view word = argv[i];
    if (word == "--db" || word == "--format") {
      ++i;  // the option's value
      continue;
    }
    if (word.starts_with("-")) continue;
    std::vector<std::string> names;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
      if (sub->get_name() == word) return "";
      names.push_back(sub->get_name());
    }
    return fmt::format("unknown command '{}' (the commands are {})", word, fmt::join(names, ", "));
  }
  return "";
}

}  // namespace fz::cli

int main(int argc, char** argv) {
  using namespace fz::cli;
  CLI::App app{"fenzhang: an event-sourced settlement ledger for live-stream commerce"};
  app.require_subcommand(1);
  app.fallthrough();
  // Usage errors read like every other error ("error: --at: is empty; ..."), exit 2.
  app.failure_message(
      [](const CLI::App* a, const CLI::Error& e) { return "error: " + CLI::FailureMessage::simple(a, e); });
  Globals g;
  app.add_option("--db", g.db, "ledger directory (default: $FENZHANG_DB, else ./fenzhang.db)")
      ->check(non_empty_arg());
  app.add_option("--format", g.format_name,
                 "output format: table, json or csv (default: table on a terminal)")
      ->check(CLI::IsMember({"table", "json", "csv"}));

  std::vector<Command> commands;
  add_rules(app, g, commands);
  add_append(app, g, commands);
  add_verify(app, g, commands);
  add_balance(app, g, commands);
  add_journal(app, g, commands);
  add_explain(app, g, commands);
  add_statement(app, g, commands);
  add_import(app, g, commands);
  add_reconcile(app, g, commands);
  add_payout(app, g, commands);
  add_export(app, g, commands);
  add_serve(app, g, commands);
  add_replay(app, g, commands);
  add_gen(app, g, commands);

  if (const std::string unknown = unknown_command(app, argc, argv); !unknown.empty()) {
    std::cerr << "error: " << unknown << "\nRun with --help for more information.\n";
    return kExitUsage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    (void)app.exit(e);
    return kExitUsage;
  }
  for (const Command& c : commands) {
    if (c.app->parsed()) return c.run();
  }
  return kExitUsage;
}
