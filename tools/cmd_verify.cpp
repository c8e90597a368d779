// fenzhang verify: the hash chain, the id index and (with the engine) the projection.
#include <fmt/format.h>
#include <boost/json.hpp>

#include <memory>
#include <optional>

#include "engine/reader.hpp"
#include "store/ledger.hpp"
#include "tools/cli.hpp"
#include "tools/query_json.hpp"

namespace fz::cli {

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
  bool ok = false;
  const boost::json::object o = verify_json(**ledger, expected, expect_head, &ok);
  if (g.format_name == "json") {
    std::cout << boost::json::serialize(o) << "\n";
    return ok ? kExitOk : kExitRejected;
  }
  if (!ok) {
    std::cout << "verify failed: " << o.at("error").as_string().c_str() << "\n";
    return kExitRejected;
  }
  const auto events = o.at("events").to_number<std::uint64_t>();
  fmt::print("ok: {} events, head {}\n", events, o.at("head").as_string().c_str());
  if (expected) {
    fmt::print("the chain reaches the expected head at seq {}\n",
               o.at("expected_head_seq").to_number<std::uint64_t>());
  }
  fmt::print("projection digest {}\n", o.at("projection").as_string().c_str());
  if (const auto* p = o.if_contains("projection_seq")) {
    // A checkpoint behind the log (SPEC 7): verified against a replay of the events it covers.
    const auto seq = p->to_number<std::uint64_t>();
    fmt::print(
        "the projection is a checkpoint of events 1..{}; the next writer replays events {}..{} onto it\n",
        seq, seq + 1, events);
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
