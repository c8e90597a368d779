// fenzhang append FILE… | -
#include <fmt/format.h>
#include <boost/json.hpp>

#include <fstream>
#include <memory>

#include "engine/engine.hpp"
#include "engine/rebuild.hpp"
#include "store/ledger.hpp"
#include "tools/append_job.hpp"
#include "tools/cli.hpp"

namespace fz::cli {
namespace {

struct AppendArgs {
  std::vector<std::string> files;
  bool atomic = false;
};

int run(const Globals& g, const AppendArgs& a) {
  std::vector<std::unique_ptr<std::ifstream>> streams;
  std::vector<AppendInput> inputs;
  for (const std::string& f : a.files) {
    if (f == "-") {
      inputs.push_back({"-", &std::cin});
      continue;
    }
    auto s = std::make_unique<std::ifstream>(f, std::ios::binary);
    if (!*s) return fail(fmt::format("cannot read {}", f));
    inputs.push_back({f, s.get()});
    streams.push_back(std::move(s));
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
      fmt::print("{}:{}: {}: {}\n", r.file, r.line, r.id, r.reason);
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
      ->required();
  sub->add_flag("--atomic", args->atomic, "append each file all-or-nothing");
  out.push_back({sub, [&g, args] { return run(g, *args); }});
}

}  // namespace fz::cli
