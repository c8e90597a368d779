// fenzhang import tbk orders FILE… --map MAP [--timezone +08:00] [--dry-run]
// fenzhang import tbk refunds FILE… [--timezone +08:00] [--dry-run]
//
// Taobao Union reports -> events (SPEC section 10), appended through the same path as `append`
// (tools/append_job.hpp): the same validation, idempotency by event id, rejections and summary.

#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <cassert>
#include <filesystem>
#include <memory>
#include <optional>
#include <unordered_set>

#include "engine/engine.hpp"
#include "import/import.hpp"
#include "model/event_json.hpp"
#include "store/codec.hpp"
#include "store/ledger.hpp"
#include "tools/append_job.hpp"
#include "tools/arguments.hpp"
#include "tools/cli.hpp"
#include "tools/dry_run.hpp"
#include "tools/output.hpp"

namespace fz::cli {
namespace {

struct ImportArgs {
  bool refunds = false;
  std::vector<std::string> files;
  std::string map;
  std::string timezone = "+08:00";
  bool dry_run = false;
};

// A report's rows as append records; a file that cannot be read at all is one rejection.
class ReportRecords final : public RecordSource {
 public:
  explicit ReportRecords(std::unique_ptr<imports::Report> report) : report_(std::move(report)) {}
  ReportRecords(std::uint64_t line, std::string reason) : line_(line), reason_(std::move(reason)) {}

  Result<bool> next(InputRecord* out) override {
    *out = InputRecord{};
    if (!report_) {
      if (reason_.empty()) return false;
      out->line = line_;
      out->reason = std::move(reason_);
      reason_.clear();
      return true;
    }
    imports::MappedRow row;
    auto got = report_->next(&row);
    if (!got) return got.error();
    if (!*got) return false;
    out->line = row.line;
    out->id = std::move(row.id);
    out->reason = std::move(row.reason);
    out->skipped = row.skipped;
    out->events = std::move(row.events);
    out->shared = row.shared;
    return true;
  }
  std::vector<std::string> notes() const { return report_ ? report_->notes() : std::vector<std::string>{}; }

 private:
  std::unique_ptr<imports::Report> report_;
  std::uint64_t line_ = 1;
  std::string reason_;
};

// "line 3: bytes …" -> (3, "bytes …"); otherwise (1, message).
std::pair<std::uint64_t, std::string> split_line(const std::string& message) {
  if (message.starts_with("line ")) {
    const std::size_t colon = message.find(": ");
    if (colon != std::string::npos)
      return {std::strtoull(message.c_str() + 5, nullptr, 10), message.substr(colon + 2)};
  }
  return {1, message};
}

struct OpenedReports {
  std::vector<std::unique_ptr<ReportRecords>> sources;
  std::vector<AppendInput> inputs;
  std::vector<std::string> notes;  // what each file was read as
};

Result<OpenedReports> open_reports(const ImportArgs& a, const imports::ImportMap& map, OffsetSec offset) {
  OpenedReports out;
  for (const std::string& f : a.files) {
    auto bytes = imports::read_report_file(f);
    if (!bytes) {
      if (bytes.error().fatal()) return bytes.error();
      auto [line, why] = split_line(bytes.message());
      out.sources.push_back(std::make_unique<ReportRecords>(line, why));
    } else if (auto table = imports::open_table(std::move(*bytes)); !table) {
      auto [line, why] = split_line(table.message());
      out.sources.push_back(std::make_unique<ReportRecords>(line, why));
    } else {
      out.notes.push_back(fmt::format("{}: {}", f, (*table)->describe()));
      imports::ReportOptions options{offset};
      auto report = a.refunds ? imports::refund_report(std::move(*table), options)
                              : imports::order_report(std::move(*table), map, options);
      out.sources.push_back(std::make_unique<ReportRecords>(std::move(report)));
    }
    out.inputs.push_back(AppendInput{f, nullptr, out.sources.back().get()});
  }
  return out;
}

// --dry-run: the events that would be appended, as JSON Lines on standard output, decided exactly as a
// real import decides them (stage_record: ids already in the ledger with the same body are duplicates,
// other bodies conflicts, and the engine evaluates each event against the ledger's projection and the
// events before it in the input: an unknown streamer, a refund over the amount, a failing `require` are
// rejections here too). Rejections and the summary go to standard error. Nothing is written: the
// events are staged and never committed, so the engine's pending state grows with the input (the
// whole report is in memory already). A missing ledger is an empty one.
int dry_run(const Globals& g, OpenedReports& opened, OffsetSec offset, const char* skipped_what) {
  auto session = DryRun::open(g.db_dir());
  if (!session) return fail(session.message());
  Appender& appender = (*session)->appender();
  std::unordered_set<std::string> shared_seen;
  std::uint64_t events = 0, duplicates = 0, rejected = 0, skipped = 0;
  for (std::size_t i = 0; i < opened.inputs.size(); ++i) {
    InputRecord rec;
    for (;;) {
      auto got = opened.sources[i]->next(&rec);
      if (!got) return fail(got.message());
      if (!*got) break;
      if (rec.skipped) {
        ++skipped;
        continue;
      }
      const std::size_t before = appender.staged();
      std::string reason = rec.reason;
      const Disposition d = rec.reason.empty()
                                ? stage_record(appender, rec, shared_seen, &reason, &duplicates)
                                : Disposition::kRejected;
      if (d == Disposition::kFailed) return fail(reason);
      // What was staged (a rejected row's earlier events stay appended, as in a real import).
      for (std::size_t k = before; k < appender.staged(); ++k) {
        const std::string_view id = appender.staged_id(k);
        auto e =
            std::find_if(rec.events.begin(), rec.events.end(), [&](const Event& x) { return x.id == id; });
        assert(e != rec.events.end());
        std::cout << event_to_json(*e, offset) << "\n";
        ++events;
      }
      if (d == Disposition::kRejected) {
        ++rejected;
        std::cerr << escape_display(
                         fmt::format("{}:{}: {}: {}", opened.inputs[i].name, rec.line, rec.id, reason))
                  << "\n";
      }
    }
  }
  if (Status s = (*session)->finish(); !s.ok()) return fail(s.message());
  for (auto& n : opened.notes) std::cerr << escape_display(n) << "\n";
  for (auto& s : opened.sources) {
    for (auto& n : s->notes()) std::cerr << escape_display(n) << "\n";
  }
  if (skipped > 0) {
    std::cerr << fmt::format("skipped {} row{} ({})\n", skipped, skipped == 1 ? "" : "s", skipped_what);
  }
  std::cerr << fmt::format("dry run: would append {}, duplicates {}, rejected {} (nothing written)\n", events,
                           duplicates, rejected);
  return rejected > 0 ? kExitRejected : kExitOk;
}

int run(const Globals& g, const ImportArgs& a) {
  auto offset = parse_utc_offset(a.timezone);
  if (!offset) {
    std::cerr << "error: --timezone: " << offset.message() << "\n";
    return kExitUsage;
  }
  imports::ImportMap map;
  if (!a.map.empty()) {
    auto bytes = imports::read_report_file(a.map, 64 << 20);
    if (!bytes) return fail(bytes.message());
    auto parsed = imports::parse_import_map(*bytes, a.map);
    if (!parsed) return fail(parsed.message());
    map = std::move(*parsed);
  }
  // Every report is read (and decoded) before the ledger opens.
  auto opened = open_reports(a, map, *offset);
  if (!opened) return fail(opened.message());
  const char* skipped_what = "维权状态 other than 维权成功";
  if (a.dry_run) return dry_run(g, *opened, *offset, skipped_what);
  AppendExtras extras;
  extras.notes = [&] {
    std::vector<std::string> notes = opened->notes;
    for (auto& s : opened->sources) {
      for (auto& n : s->notes()) notes.push_back(n);
    }
    return notes;
  };
  extras.show_skipped = a.refunds;
  extras.skipped_what = skipped_what;
  return append_inputs(g, opened->inputs, AppendOptions{}, extras);
}

}  // namespace

void add_import(CLI::App& app, Globals& g, std::vector<Command>& out) {
  CLI::App* imp = app.add_subcommand("import", "import reports from other systems as events");
  imp->require_subcommand(1);
  CLI::App* tbk = imp->add_subcommand("tbk", "Taobao Union (淘宝联盟) reports (SPEC section 10)");
  tbk->require_subcommand(1);
  for (const bool refunds : {false, true}) {
    auto args = std::make_shared<ImportArgs>();
    args->refunds = refunds;
    CLI::App* sub =
        tbk->add_subcommand(refunds ? "refunds" : "orders",
                            refunds ? "the refund (维权) report: order.refunded per 维权成功 row"
                                    : "the order report (订单明细): plans, orders paid, settled, closed");
    sub->add_option("files", args->files, "report files: CSV (UTF-8, UTF-16 with BOM, GB18030) or XLSX")
        ->required()
        ->check(non_empty_arg());
    auto* map = sub->add_option("--map", args->map, "MAP file: kind,key,id (pid, relation, merchant)")
                    ->check(non_empty_arg());
    if (!refunds) map->required();
    sub->add_option("--timezone", args->timezone, "UTC offset of the report's times (default +08:00)")
        ->check(non_empty_arg());
    sub->add_flag("--dry-run", args->dry_run, "print the events as JSON Lines and write nothing");
    out.push_back({sub, [&g, args] { return run(g, *args); }});
  }
}

}  // namespace fz::cli
