// Shared pieces of the fenzhang command line: global options, output formats, exit codes.
#pragma once

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include <iostream>

#include <string>
#include "core/result.hpp"
#include "core/time.hpp"
#include "tools/append_job.hpp"

namespace fz {
class Ledger;
}

namespace fz::cli {

// Exit codes (SPEC section 8).
inline constexpr int kExitOk = 0;
inline constexpr int kExitRejected = 1;  // input rejected, check failed, or the ledger could not be used
inline constexpr int kExitUsage = 2;

enum class Format { kTable, kJson, kCsv };

struct Globals {
  std::string db;           // --db, else $FENZHANG_DB, else ./fenzhang.db
  std::string format_name;  // --format; empty = table on a terminal, json otherwise
  Format format() const;
  std::string db_dir() const;
};

// Every subcommand registers itself with a callback returning its exit code.
using Runner = std::function<int()>;
struct Command {
  CLI::App* app;
  Runner run;
};

void add_append(CLI::App& app, Globals& g, std::vector<Command>& out);
void add_verify(CLI::App& app, Globals& g, std::vector<Command>& out);
void add_balance(CLI::App& app, Globals& g, std::vector<Command>& out);
void add_journal(CLI::App& app, Globals& g, std::vector<Command>& out);
void add_gen(CLI::App& app, Globals& g, std::vector<Command>& out);
void add_replay(CLI::App& app, Globals& g, std::vector<Command>& out);
void add_rules(CLI::App& app, Globals& g, std::vector<Command>& out);
void add_explain(CLI::App& app, Globals& g, std::vector<Command>& out);
void add_statement(CLI::App& app, Globals& g, std::vector<Command>& out);
void add_import(CLI::App& app, Globals& g, std::vector<Command>& out);
void add_reconcile(CLI::App& app, Globals& g, std::vector<Command>& out);
void add_export(CLI::App& app, Globals& g, std::vector<Command>& out);
void add_payout(CLI::App& app, Globals& g, std::vector<Command>& out);
void add_serve(CLI::App& app, Globals& g, std::vector<Command>& out);

// What `import` adds to `append`'s report: notes known only after the inputs were read, and the count
// of skipped rows (refund rows that are not 维权成功).
struct AppendExtras {
  std::function<std::vector<std::string>()> notes;
  bool show_skipped = false;
  std::string skipped_what;
  // With --format json: the summary object goes here instead of to standard output, for a command
  // that prints it as part of its own (payout). Left empty when the append failed before a summary.
  boost::json::object* json_summary = nullptr;
};
// The body of `fenzhang append` (SPEC section 8) for inputs already opened: opens the ledger for
// writing, appends, prints each rejection as FILE:LINE: ID: reason and the summary; the exit code.
int append_inputs(const Globals& g, const std::vector<AppendInput>& inputs, const AppendOptions& options,
                  const AppendExtras& extras);

// The UTC offset times are shown in: the timezone of the latest published ruleset, else +08:00.
OffsetSec display_offset(const Ledger& ledger);

// A time given on the command line: RFC 3339 with offset, or YYYY-MM-DD meaning local midnight (+08:00).
Result<TimeUs> parse_query_time(const std::string& text);

// Prints "error: msg" to stderr and returns kExitRejected.
int fail(const std::string& message);

}  // namespace fz::cli
