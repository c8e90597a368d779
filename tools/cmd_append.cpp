// fenzhang append FILE… | -
#include <fmt/format.h>
#include <boost/json.hpp>

#include <memory>

#include "engine/engine.hpp"
#include "engine/publish.hpp"
#include "engine/rebuild.hpp"
#include "store/ledger.hpp"
#include "tools/append_job.hpp"
#include "tools/arguments.hpp"
#include "tools/cli.hpp"
#include "tools/input_file.hpp"
#include "tools/output.hpp"
#include "tools/query_json.hpp"

namespace fz::cli {
namespace {

struct AppendArgs {
  std::vector<std::string> files;
  bool atomic = false;
  std::uint64_t checkpoint_events = engine::Engine::kDefaultCheckpointEvents;
  std::size_t hot_entries = engine::Engine::kDefaultHotEntries;
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
  AppendOptions options;
  options.atomic = a.atomic;
  options.checkpoint_events = a.checkpoint_events;
  options.hot_entries = a.hot_entries;
  return append_inputs(g, inputs, options, {});
}

// An exported rules.published line (`fenzhang export events`): published through `rules publish`'s
// path (engine/publish.hpp), after which the append goes on with a fresh Engine that knows the version.
Result<ExportedRulesOutcome> publish_exported_line(Ledger& ledger, std::unique_ptr<engine::Engine>& eng,
                                                   const Event& e, const ExportedChain& chain) {
  eng.reset();  // publish_rules makes its own and rebuilds the projection
  auto published = engine::publish_exported(ledger, e, chain.previous_hash, chain.hash);
  auto fresh = engine::Engine::for_append(ledger);
  if (!fresh) return fresh.error();
  eng = std::move(*fresh);
  if (!published) return published.error();
  return ExportedRulesOutcome{published->disposition, published->reason, eng.get()};
}

}  // namespace

int append_inputs(const Globals& g, const std::vector<AppendInput>& inputs, const AppendOptions& options,
                  const AppendExtras& extras) {
  auto ledger = Ledger::open(g.db_dir(), Ledger::Access::kWrite);
  if (!ledger) return fail(ledger.message());
  const bool json = g.format_name == "json";
  boost::json::array rejections;
  // Finish a projection rebuild that a crash interrupted before building on it.
  if (auto caught = engine::catch_up_projection(**ledger, **ledger, (*ledger)->head_seq()); !caught) {
    return fail(caught.message());
  }
  auto engine = engine::Engine::for_append(**ledger);
  if (!engine) return fail(engine.message());
  const std::uint64_t checkpoint_events =
      options.checkpoint_events.value_or(engine::Engine::kDefaultCheckpointEvents);
  const std::size_t hot_entries = options.hot_entries.value_or(engine::Engine::kDefaultHotEntries);
  (*engine)->set_checkpoint_interval(checkpoint_events);
  (*engine)->set_hot_entries(hot_entries);
  AppendOptions with_publish = options;
  with_publish.publish_exported = [&](const Event& e, const ExportedChain& chain) {
    auto outcome = publish_exported_line(**ledger, *engine, e, chain);
    if (*engine) {
      (*engine)->set_checkpoint_interval(checkpoint_events);
      (*engine)->set_hot_entries(hot_entries);
    }
    return outcome;
  };
  auto report = run_append(**ledger, engine->get(), inputs, with_publish, [&](const LineRejection& r) {
    if (json) {
      rejections.push_back(rejection_json(r));
    } else {
      // The reason may quote the line's text: escaped for the terminal (SPEC section 8).
      fmt::print("{}\n", escape_display(fmt::format("{}:{}: {}: {}", r.file, r.line, r.id, r.reason)));
    }
  });
  if (!report) {
    // Batches synced before the failure stay; with write-back their projection was dropped with the rest.
    // Bring it up to them now if the ledger still writes (an input read error); otherwise the next writer
    // does (its failure here is not the one to report).
    engine->reset();
    (void)engine::catch_up_projection(**ledger, **ledger, (*ledger)->head_seq());
    return fail(report.message());
  }
  std::vector<std::string> all_notes = extras.notes ? extras.notes() : std::vector<std::string>{};
  all_notes.insert(all_notes.end(), report->notes.begin(), report->notes.end());
  if (extras.show_skipped && report->skipped > 0) {
    all_notes.push_back(fmt::format("skipped {} row{} ({})", report->skipped, report->skipped == 1 ? "" : "s",
                                    extras.skipped_what));
  }
  if (json) {
    boost::json::object o = append_json(*report, std::move(rejections), all_notes, extras.show_skipped);
    if (extras.json_summary != nullptr) {
      *extras.json_summary = std::move(o);
    } else {
      std::cout << boost::json::serialize(o) << "\n";
    }
  } else {
    for (auto& n : all_notes) fmt::print("{}\n", escape_display(n));
    fmt::print("appended {}, duplicates {}, rejected {}\n", report->appended, report->duplicates,
               report->rejected);
  }
  return report->rejected > 0 ? kExitRejected : kExitOk;
}

void add_append(CLI::App& app, Globals& g, std::vector<Command>& out) {
  auto args = std::make_shared<AppendArgs>();
  CLI::App* sub =
      app.add_subcommand("append", "validate JSON Lines event files (or - for stdin) and append them");
  sub->add_option("files", args->files, "event files, one JSON object per line; - reads standard input")
      ->required()
      ->check(non_empty_arg());
  sub->add_flag("--atomic", args->atomic, "append each file all-or-nothing");
  sub->add_option("--checkpoint-every", args->checkpoint_events,
                  "write the projection every N accepted events and at the end (0: with every batch); "
                  "more is faster and holds more in memory")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{0}, engine::Engine::kMaxCheckpointEvents));
  sub->add_option("--hot-entities", args->hot_entries,
                  "the hot window: entities of each kind, keyed targets and accounts kept in memory once "
                  "durable (docs/storage.md); more holds more in memory and reads the projection less")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{1}, engine::Engine::kMaxHotEntries));
  out.push_back({sub, [&g, args] { return run(g, *args); }});
}

}  // namespace fz::cli
