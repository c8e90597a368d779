// fenzhang replay [--until SEQ]: rebuild the projection from the event log.
#include <unistd.h>

#include <fmt/format.h>
#include <boost/json.hpp>

#include <chrono>

#include "engine/rebuild.hpp"
#include "store/codec.hpp"
#include "tools/cli.hpp"

namespace fz::cli {
namespace {

struct ReplayArgs {
  std::uint64_t until = 0;  // 0: the whole log
};

// A progress line on stderr, only on a terminal and only once the replay has run for a second.
class Progress {
 public:
  explicit Progress(std::uint64_t total) : total_(total), start_(std::chrono::steady_clock::now()) {}
  void operator()(std::uint64_t done) {
    if (!::isatty(STDERR_FILENO)) return;
    if (std::chrono::steady_clock::now() - start_ < std::chrono::seconds(1)) return;
    fmt::print(stderr, "\rreplaying: {} of {} events", done, total_);
    shown_ = true;
  }
  ~Progress() {
    if (shown_) fmt::print(stderr, "\n");
  }
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::uint64_t total_;
  std::chrono::steady_clock::time_point start_;
  bool shown_ = false;
};

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

int run(const Globals& g, const ReplayArgs& a) {
  if (a.until != 0) {
    // A past state: rebuilt on the side, the ledger is not touched.
    auto ledger = Ledger::open(g.db_dir(), Ledger::Access::kRead);
    if (!ledger) return fail(ledger.message());
    if (a.until > (*ledger)->head_seq()) {
      return fail(fmt::format("--until {}: the log ends at seq {}", a.until, (*ledger)->head_seq()));
    }
    Progress progress(a.until);
    Status s =
        engine::with_scratch_replay(**ledger, a.until, [&](Ledger& scratch, const engine::RebuildReport& r) {
          auto digest = engine::projection_digest(scratch);
          if (!digest) return Status(digest.error());
          print(g, a.until, r, *digest, std::nullopt, progress.seconds());
          return Status::Ok();
        });
    return s.ok() ? kExitOk : fail(s.message());
  }
  auto ledger = Ledger::open(g.db_dir(), Ledger::Access::kWrite);
  if (!ledger) return fail(ledger.message());
  auto before = engine::projection_digest(**ledger);
  if (!before) return fail(before.message());
  const std::uint64_t head = (*ledger)->head_seq();
  Progress progress(head);
  auto report = engine::rebuild_projection(**ledger, **ledger, head, [&](std::uint64_t n) { progress(n); });
  if (!report) return fail(report.message());
  auto after = engine::projection_digest(**ledger);
  if (!after) return fail(after.message());
  return print(g, head, *report, *after, *before != *after, progress.seconds());
}

}  // namespace

void add_replay(CLI::App& app, Globals& g, std::vector<Command>& out) {
  auto args = std::make_shared<ReplayArgs>();
  CLI::App* sub =
      app.add_subcommand("replay", "rebuild the projection from the event log and print its digest");
  sub->add_option("--until", args->until, "rebuild the state as of this sequence number, on the side");
  out.push_back({sub, [&g, args] { return run(g, *args); }});
}

}  // namespace fz::cli
