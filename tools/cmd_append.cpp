// fenzhang append FILE… | -
#include <fmt/format.h>
#include <boost/json.hpp>

#include <memory>

#include "engine/engine.hpp"
#include "engine/rebuild.hpp"
#include "store/ledger.hpp"
#include "tools/append_job.hpp"
#include "tools/arguments.hpp"
#include "tools/cli.hpp"
#include "tools/input_file.hpp"
#include "tools/output.hpp"

namespace fz::cli {
namespace {

struct AppendArgs {
  std::vector<std::string> files;
  bool atomic = false;
};

int run(const Globals& g, const AppendArgs& a) {
  // Every input opens before the ledger does; a read error later stops the append (append_job.cpp).
  std::vector<InputFile> files;
  std::vector<AppendInput> inputs;
  for (const std::string& f : a.files) {
    auto opened = open_input(f);
    if (!opened) return fail(opened.message());
    inputs.push_back({f, opened->stream.get()});
    files.push_back(std::move(*opened));
  }
  auto ledger = Ledger::open(g.db_dir(), Ledger::Access::kWrite);
  if (!ledger) return fail(ledger.message());
  const bool json = g.format_name == "json";
  boost::json::array rejections;
  AppendOptions options;
  options.atomic = a.atomic;
  // Finish a projection rebuild that a crash interrupted before building on it.
  if (auto caught = engine::catch_up_projection(**ledger, **ledger, (*ledger)->head_seq()); !caught) {
    return fail(caught.message());
  }
  auto engine = engine::Engine::for_append(**ledger);
  if (!engine) return fail(engine.message());
  auto report = run_append(**ledger, engine->get(), inputs, options, [&](const LineRejection& r) {
    if (json) {
      rejections.push_back(
          boost::json::object{{"file", r.file}, {"line", r.line}, {"id", r.id}, {"reason", r.reason}});
    } else {
      // The reason may quote the line's text: escaped for the terminal (SPEC section 8).
      fmt::print("{}\n", escape_display(fmt::format("{}:{}: {}: {}", r.file, r.line, r.id, r.reason)));
    }
  });
  if (!report) return fail(report.message());
  if (json) {
    boost::json::array notes;
    for (auto& n : report->notes) notes.push_back(boost::json::string(n));
    boost::json::object o{{"appended", report->appended},
                          {"duplicates", report->duplicates},
                          {"rejected", report->rejected},
                          {"rejections", std::move(rejections)},
                          {"notes", std::move(notes)}};
    std::cout << boost::json::serialize(o) << "\n";
  } else {
    for (auto& n : report->notes) fmt::print("{}\n", n);
    fmt::print("appended {}, duplicates {}, rejected {}\n", report->appended, report->duplicates,
               report->rejected);
  }
  return report->rejected > 0 ? kExitRejected : kExitOk;
}

}  // namespace

void add_append(CLI::App& app, Globals& g, std::vector<Command>& out) {
  auto args = std::make_shared<AppendArgs>();
  CLI::App* sub =
      app.add_subcommand("append", "validate JSON Lines event files (or - for stdin) and append them");
  sub->add_option("files", args->files, "event files, one JSON object per line; - reads standard input")
      ->required()
      ->check(non_empty_arg());
  sub->add_flag("--atomic", args->atomic, "append each file all-or-nothing");
  out.push_back({sub, [&g, args] { return run(g, *args); }});
}

}  // namespace fz::cli
