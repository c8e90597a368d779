// fenzhang import tbk orders FILE… --map MAP [--timezone +08:00] [--dry-run]
// fenzhang import tbk refunds FILE… [--timezone +08:00] [--dry-run]
//
// Taobao Union reports -> events (SPEC section 10), appended through the same path as `append`
// (tools/append_job.hpp): the same validation, idempotency by event id, rejections and summary.
#include <sys/stat.h>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <memory>
#include <optional>
#include <unordered_set>

#include "import/import.hpp"
#include "model/event_json.hpp"
#include "store/codec.hpp"
#include "store/ledger.hpp"
#include "tools/arguments.hpp"
#include "tools/cli.hpp"
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

// --dry-run: the events that would be appended, as JSON Lines on standard output; ids already in the
// ledger with the same body are left out (duplicates), other bodies are conflicts. The engine's
// preconditions are not evaluated (that needs the write path). Rejections and the summary go to
// standard error. Nothing is written; a missing ledger is an empty one.
int dry_run(const Globals& g, OpenedReports& opened, OffsetSec offset) {
  std::unique_ptr<Ledger> ledger;
  struct stat st {};
  if (::stat(g.db_dir().c_str(), &st) == 0) {
    auto l = Ledger::open(g.db_dir(), Ledger::Access::kRead);
    if (!l) return fail(l.message());
    ledger = std::move(*l);
  }
  std::optional<Appender> probe;
  if (ledger) probe.emplace(*ledger, nullptr);
  std::unordered_set<std::string> seen;
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
      auto reject = [&](const std::string& why) {
        ++rejected;
        std::cerr << escape_display(
                         fmt::format("{}:{}: {}: {}", opened.inputs[i].name, rec.line, rec.id, why))
                  << "\n";
      };
      if (!rec.reason.empty()) {
        reject(rec.reason);
        continue;
      }
      std::vector<const Event*> out;
      bool ok = true;
      for (std::size_t k = 0; k < rec.events.size() && ok; ++k) {
        const Event& e = rec.events[k];
        if (seen.contains(e.id)) continue;
        if (probe) {
          std::string why;
          const Disposition d = probe->probe(e, encode_event(e), &why);
          if (d == Disposition::kFailed) return fail(why);
          if (d == Disposition::kRejected) {
            reject(why);
            ok = false;
          }
          if (d == Disposition::kDuplicate) {
            if (k >= rec.shared) ++duplicates;
            continue;
          }
        }
        out.push_back(&e);
      }
      if (!ok) continue;
      for (const Event* e : out) {
        seen.insert(e->id);
        std::cout << event_to_json(*e, offset) << "\n";
        ++events;
      }
    }
  }
  for (auto& n : opened.notes) std::cerr << escape_display(n) << "\n";
  for (auto& s : opened.sources) {
    for (auto& n : s->notes()) std::cerr << escape_display(n) << "\n";
  }
  if (skipped > 0) std::cerr << fmt::format("skipped {} row{}\n", skipped, skipped == 1 ? "" : "s");
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
  if (a.dry_run) return dry_run(g, *opened, *offset);
  AppendExtras extras;
  extras.notes = [&] {
    std::vector<std::string> notes = opened->notes;
    for (auto& s : opened->sources) {
      for (auto& n : s->notes()) notes.push_back(n);
    }
    return notes;
  };
  extras.show_skipped = a.refunds;
  extras.skipped_what = "维权状态 other than 维权成功";
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
