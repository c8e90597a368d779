// fenzhang verify: the hash chain, the id index and (with the engine) the projection.
#include <fmt/format.h>
#include <boost/json.hpp>

#include <memory>
#include <optional>

#include "engine/queries.hpp"
#include "engine/reader.hpp"
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

// A 64-digit hex hash, or nullopt.
std::optional<format::Hash> parse_hash_hex(const std::string& text) {
  if (text.size() != 2 * format::kHashBytes) return std::nullopt;
  format::Hash h{};
  for (std::size_t i = 0; i < h.size(); ++i) {
    unsigned v = 0;
    for (int k = 0; k < 2; ++k) {
      const char c = text[2 * i + static_cast<std::size_t>(k)];
      const int d = c >= '0' && c <= '9'   ? c - '0'
                    : c >= 'a' && c <= 'f' ? c - 'a' + 10
                    : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                           : -1;
      if (d < 0) return std::nullopt;
      v = v * 16 + static_cast<unsigned>(d);
    }
    h[i] = static_cast<std::uint8_t>(v);
  }
  return h;
}

int run_verify(const Globals& g, const std::string& expect_head, bool expect_given) {
  std::optional<format::Hash> expected;
  if (expect_given) {
    expected = parse_hash_hex(expect_head);
    if (!expected) {
      std::cerr << "error: --expect-head: \"" << expect_head << "\" is not a SHA-256 hash (64 hex digits)\n";
      return kExitUsage;
    }
  }
  auto ledger = engine::open_for_queries(g.db_dir());
  if (!ledger) return fail(ledger.message());
  auto report = verify_log(**ledger, expected ? &*expected : nullptr);
  if (report && expected && !report->expected_head_seq) {
    report = make_corruption_error(fmt::format(
        "the hash chain never reaches the expected head {} (its {} events end at {}): an event at or before "
        "that head was changed, removed or reordered, or the hash belongs to another ledger",
        expect_head, report->events, hash_hex(report->head)));
  }
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
    if (expected) o["expected_head_seq"] = *report->expected_head_seq;
    // Only when it differs: a checkpoint behind the log (the usual output keeps its keys).
    if ((*ledger)->head_seq() < report->events) o["projection_seq"] = (*ledger)->head_seq();
    std::cout << boost::json::serialize(o) << "\n";
  } else {
    fmt::print("ok: {} events, head {}\n", report->events, hash_hex(report->head));
    if (expected) fmt::print("the chain reaches the expected head at seq {}\n", *report->expected_head_seq);
    fmt::print("projection digest {}\n", hash_hex(digest));
    if ((*ledger)->head_seq() < report->events) {
      // A checkpoint behind the log (SPEC 7): verified against a replay of the events it covers.
      fmt::print(
          "the projection is a checkpoint of events 1..{}; the next writer replays events {}..{} onto it\n",
          (*ledger)->head_seq(), (*ledger)->head_seq() + 1, report->events);
    }
  }
  return kExitOk;
}

void add_verify(CLI::App& app, Globals& g, std::vector<Command>& out) {
  CLI::App* sub = app.add_subcommand(
      "verify",
      "check the hash chain, the id index, the book and the projection against a replay; print the head");
  auto expect = std::make_shared<std::string>();
  CLI::Option* opt =
      sub->add_option("--expect-head", *expect,
                      "fail unless the hash chain reaches this head hash (one written down earlier)");
  out.push_back({sub, [&g, expect, opt] { return run_verify(g, *expect, opt->count() > 0); }});
}

}  // namespace fz::cli
