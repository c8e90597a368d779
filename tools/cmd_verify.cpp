// fenzhang verify: the hash chain, the id index and (with the engine) the projection.
#include <fmt/format.h>
#include <boost/json.hpp>

#include "engine/queries.hpp"
#include "engine/rebuild.hpp"
#include "store/codec.hpp"
#include "store/ledger.hpp"
#include "store/verify.hpp"
#include "tools/cli.hpp"

namespace fz::cli {

namespace {

// The projection covers the whole log, keeps the book's invariants, and equals a fresh replay.
Status verify_projection(const Ledger& ledger, format::Hash* digest) {
  FZ_TRY(engine::check_projection_current(ledger));
  FZ_TRY(engine::check_book(ledger));
  auto d = engine::projection_digest(ledger);
  if (!d) return d.error();
  *digest = *d;
  return engine::with_scratch_replay(ledger, ledger.head_seq(),
                                     [&](Ledger& scratch, const engine::RebuildReport&) {
                                       return engine::compare_projections(ledger, scratch);
                                     });
}

}  // namespace

int run_verify(const Globals& g) {
  auto ledger = Ledger::open(g.db_dir(), Ledger::Access::kRead);
  if (!ledger) return fail(ledger.message());
  auto report = verify_log(**ledger);
  format::Hash digest{};
  if (report) {
    if (Status s = verify_projection(**ledger, &digest); !s.ok()) report = s.error();
  }
  const bool json = g.format_name == "json";
  if (!report) {
    if (json) {
      boost::json::object o{{"ok", false}, {"error", report.message()}};
      std::cout << boost::json::serialize(o) << "\n";
    } else {
      std::cout << "verify failed: " << report.message() << "\n";
    }
    return kExitRejected;
  }
  if (json) {
    boost::json::object o{{"ok", true},
                          {"events", report->events},
                          {"head", hash_hex(report->head)},
                          {"projection", hash_hex(digest)}};
    std::cout << boost::json::serialize(o) << "\n";
  } else {
    fmt::print("ok: {} events, head {}\n", report->events, hash_hex(report->head));
    fmt::print("projection digest {}\n", hash_hex(digest));
  }
  return kExitOk;
}

void add_verify(CLI::App& app, Globals& g, std::vector<Command>& out) {
  CLI::App* sub = app.add_subcommand(
      "verify",
      "check the hash chain, the id index, the book and the projection against a replay; print the head");
  out.push_back({sub, [&g] { return run_verify(g); }});
}

}  // namespace fz::cli
