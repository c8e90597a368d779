// The worked example of SPEC section 9 under the shipped default policy (rules/taobao-live.rules):
// every posting, and the balances before and after the settlement day, the withdrawal and the refund.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/money.hpp"
#include "engine/engine.hpp"
#include "engine/explain.hpp"
#include "engine/publish.hpp"
#include "engine/queries.hpp"
#include "engine/rebuild.hpp"
#include "engine/statement.hpp"
#include "engine/whatif.hpp"
#include "store/codec.hpp"
#include "tests/test_util.hpp"
#include "tools/append_job.hpp"

using namespace fz;

namespace {

std::string read(const std::string& path) {
  std::ifstream in(fz::test::source_dir() + "/" + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TimeUs t(const char* s) {
  return parse_rfc3339(s).value();
}

void publish_default(Ledger& ledger) {
  std::string diagnostics;
  auto r = engine::publish_rules(ledger, read("rules/taobao-live.rules"), "rules/taobao-live.rules",
                                 t("2026-08-01T00:00:00+08:00"), &diagnostics);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.message() + "\n" + diagnostics));
}

void append_spec9(Ledger& ledger, std::size_t batch = 4096) {
  auto eng = engine::Engine::for_append(ledger);
  REQUIRE(eng.ok());
  std::istringstream in(read("tests/scenarios/spec9.jsonl"));
  AppendOptions opts;
  opts.batch_events = batch;
  std::vector<std::string> rejected;
  auto r = run_append(ledger, eng->get(), {{"spec9", &in}}, opts,
                      [&](const LineRejection& lr) { rejected.push_back(lr.id + ": " + lr.reason); });
  REQUIRE(r.ok());
  CHECK_MESSAGE(rejected.empty(), (rejected.empty() ? "" : rejected.front()));
  CHECK(r->appended == 16);
}

// "account amount available_at" of an event's postings, sorted by account.
std::map<std::string, std::string> postings_of(const Ledger& ledger, const std::string& event) {
  engine::JournalFilter f;
  f.event = event;
  auto ps = engine::journal(ledger, f);
  REQUIRE(ps.ok());
  std::map<std::string, std::string> out;
  for (const auto& p : *ps) {
    out[p.account] = fmt::format("{} {}", format_money(p.amount_fen), format_time(p.available_at));
  }
  return out;
}

std::map<std::string, std::string> balances_at(const Ledger& ledger, const char* pattern, const char* at) {
  auto rows = engine::balances(ledger, pattern, t(at), 0);
  REQUIRE(rows.ok());
  std::map<std::string, std::string> out;
  for (const auto& r : *rows) {
    out[r.account] = fmt::format("{} {} {}", format_money(r.total_fen), format_money(r.available_fen),
                                 format_money(r.pending_fen()));
  }
  return out;
}

}  // namespace

TEST_CASE("SPEC 9: postings of every step") {
  fz::test::TempDir dir;
  auto ledger = Ledger::open(dir / "db", Ledger::Access::kWrite);
  REQUIRE(ledger.ok());
  publish_default(**ledger);
  append_spec9(**ledger);
  const Ledger& l = **ledger;

  // 1. o1 was paid before the directed plan took effect: no postings.
  CHECK(postings_of(l, "o1-confirmed").empty());
  // 2. o2: commission 59.80 -> 11.96 / 47.84, available on the 20th of the next month.
  auto o2 = postings_of(l, "o2-confirmed");
  CHECK(o2["@agency:a1:cps"] == "11.96 2026-11-20T00:00:00+08:00");
  CHECK(o2["@streamer:s1:cps"] == "47.84 2026-11-20T00:00:00+08:00");
  CHECK(o2["@merchant:m1:cps"] == "-59.80 2026-11-20T00:00:00+08:00");
  CHECK(o2.size() == 3);
  // 3. o3: 20.002 rounds to 20.00 -> 4.00 / 16.00.
  auto o3 = postings_of(l, "o3-confirmed");
  CHECK(o3["@agency:a1:cps"] == "4.00 2026-11-20T00:00:00+08:00");
  CHECK(o3["@streamer:s1:cps"] == "16.00 2026-11-20T00:00:00+08:00");
  // 4. The refund of 100.00 on o2: target 7.96 / 31.84, deltas -4.00 / -16.00, available 12-20.
  auto refund = postings_of(l, "o2-refund");
  CHECK(refund["@agency:a1:cps"] == "-4.00 2026-12-20T00:00:00+08:00");
  CHECK(refund["@streamer:s1:cps"] == "-16.00 2026-12-20T00:00:00+08:00");
  CHECK(refund["@merchant:m1:cps"] == "20.00 2026-12-20T00:00:00+08:00");
  // 5. The withdrawal of 40.00: fee 5.00 to the platform, 35.00 paid out.
  auto w = postings_of(l, "s1-withdraws");
  Fen from_streamer = 0;
  engine::JournalFilter wf;
  wf.event = "s1-withdraws";
  const auto withdrawal = engine::journal(l, wf).value();
  for (const auto& p : withdrawal) {
    if (p.account == "@streamer:s1:cps") from_streamer += p.amount_fen;
  }
  CHECK(from_streamer == -4000);
  CHECK(w["@platform:fees"] == "5.00 2026-11-21T10:00:00+08:00");
  CHECK(w["@payout:streamer:s1"] == "35.00 2026-11-21T10:00:00+08:00");
  // 6. The V-task confirmed inside double11: 2000.00 fee, 8000.00 to the agency, 4000.00 passed on.
  engine::JournalFilter vf;
  vf.event = "t1-confirmed";
  std::map<std::string, Fen> v;
  const auto vtask = engine::journal(l, vf).value();
  for (const auto& p : vtask) v[p.account] += p.amount_fen;
  CHECK(v["@platform:fees"] == 200000);
  CHECK(v["@agency:a1:vtask"] == 400000);  // 8000.00 in, 4000.00 on to the streamer
  CHECK(v["@streamer:s1:vtask"] == 400000);
  CHECK(v["@merchant:m2:vtask"] == -1000000);
  CHECK(engine::check_book(l).ok());
}

TEST_CASE("SPEC 9: balances before and after the settlement day, the withdrawal and the refund") {
  fz::test::TempDir dir;
  auto ledger = Ledger::open(dir / "db", Ledger::Access::kWrite);
  REQUIRE(ledger.ok());
  publish_default(**ledger);
  append_spec9(**ledger);
  const Ledger& l = **ledger;
  // The day before the settlement day: earned, not yet available.
  auto before = balances_at(l, "@*:*:cps", "2026-11-19T23:59:59+08:00");
  CHECK(before["@streamer:s1:cps"] == "63.84 0.00 63.84");
  CHECK(before["@agency:a1:cps"] == "15.96 0.00 15.96");
  // On the settlement day everything earned in October is available.
  auto on = balances_at(l, "@*:*:cps", "2026-11-20T00:00:00+08:00");
  CHECK(on["@streamer:s1:cps"] == "63.84 63.84 0.00");
  CHECK(on["@agency:a1:cps"] == "15.96 15.96 0.00");
  // After the withdrawal (11-21) and the refund (11-25): the claw-back is pending until 12-20.
  auto after = balances_at(l, "@*:*:cps", "2026-11-26T00:00:00+08:00");
  CHECK(after["@streamer:s1:cps"] == "7.84 23.84 -16.00");
  CHECK(after["@agency:a1:cps"] == "11.96 15.96 -4.00");
  auto december = balances_at(l, "@*:*:cps", "2026-12-20T00:00:00+08:00");
  CHECK(december["@streamer:s1:cps"] == "7.84 7.84 0.00");
}

TEST_CASE("SPEC 9: publishing the rules after the events recomputes the same projection") {
  fz::test::TempDir dir;
  std::string first, second;
  {
    auto ledger = Ledger::open(dir / "a", Ledger::Access::kWrite);
    REQUIRE(ledger.ok());
    publish_default(**ledger);
    append_spec9(**ledger, 1);
    first = hash_hex(engine::projection_digest(**ledger).value());
  }
  {
    auto ledger = Ledger::open(dir / "b", Ledger::Access::kWrite);
    REQUIRE(ledger.ok());
    append_spec9(**ledger);
    std::string diagnostics;
    auto r = engine::publish_rules(**ledger, read("rules/taobao-live.rules"), "rules/taobao-live.rules",
                                   t("2026-08-01T00:00:00+08:00"), &diagnostics);
    REQUIRE(r.ok());
    CHECK(r->seq == 17);
    CHECK(r->reevaluated > 0);
    // The same postings; only the position of the rules.published event differs, so compare balances.
    auto rows = engine::balances(**ledger, "", std::nullopt, t("2027-01-01T00:00:00+08:00")).value();
    std::string s;
    for (const auto& row : rows)
      s += fmt::format("{} {} {}\n", row.account, row.total_fen, row.available_fen);
    second = s;
  }
  auto ledger = Ledger::open(dir / "a", Ledger::Access::kRead);
  auto rows = engine::balances(**ledger, "", std::nullopt, t("2027-01-01T00:00:00+08:00")).value();
  std::string s;
  for (const auto& row : rows) s += fmt::format("{} {} {}\n", row.account, row.total_fen, row.available_fen);
  CHECK(s == second);
  CHECK_FALSE(first.empty());
}

TEST_CASE("SPEC 9: explain says why o1 earns nothing") {
  fz::test::TempDir dir;
  auto ledger = Ledger::open(dir / "db", Ledger::Access::kWrite);
  REQUIRE(ledger.ok());
  publish_default(**ledger);
  append_spec9(**ledger);
  auto x = engine::explain(**ledger, "o1-confirmed");
  REQUIRE_MESSAGE(x.ok(), (x.ok() ? std::string() : x.message()));
  REQUIRE(x->eligible.has_value());
  CHECK_FALSE(*x->eligible);
  CHECK(x->why_ineligible ==
        "directed plan p1 takes effect 2026-10-06T00:00+08:00, after the order was paid at "
        "2026-10-05T20:00+08:00");
  CHECK(x->terms_time == t("2026-10-05T20:00:00+08:00"));
  CHECK(x->version == 1);
  CHECK(x->postings.empty());
}

namespace {

// Every file of a ledger directory with its bytes, to show that a what-if writes nothing.
std::map<std::string, std::string> snapshot(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    out[entry.path().string()] = ss.str();
  }
  return out;
}

}  // namespace

TEST_CASE(
    "SPEC 9: what-if with the agency share at 25% gives the hand-computed differences, writes nothing") {
  fz::test::TempDir dir;
  {
    auto ledger = Ledger::open(dir / "db", Ledger::Access::kWrite);
    REQUIRE(ledger.ok());
    publish_default(**ledger);
    append_spec9(**ledger);
  }
  std::string rules = read("rules/taobao-live.rules");
  const std::string from = "let agency_share = 20%";
  REQUIRE(rules.find(from) != std::string::npos);
  rules.replace(rules.find(from), from.size(), "let agency_share = 25%");
  const auto before = snapshot(dir / "db");
  auto ledger = Ledger::open(dir / "db", Ledger::Access::kRead);
  REQUIRE(ledger.ok());
  std::string diagnostics;
  auto r =
      engine::what_if(**ledger, {{"agency25.rules", rules}}, t("2026-11-27T00:00:00+08:00"), &diagnostics);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.message() + diagnostics));
  std::map<std::string, std::string> diff;
  for (const auto& row : r->rows) {
    if (row.total_fen == row.whatif_total_fen && row.available_fen == row.whatif_available_fen) continue;
    diff[row.account] = fmt::format("{} {}", format_money(row.whatif_total_fen - row.total_fen),
                                    format_money(row.whatif_available_fen - row.available_fen));
  }
  // By hand: o2 59.80 -> 14.95 / 44.85 (was 11.96 / 47.84); o3 20.00 -> 5.00 / 15.00 (was 4.00 / 16.00);
  // the o2 refund's claw-back becomes -5.00 / -15.00 (was -4.00 / -16.00), pending until 12-20.
  // Totals: agency +2.99, streamer -2.99. Available on 11-27 (claw-back still pending): +3.99 / -3.99.
  CHECK(diff == std::map<std::string, std::string>{{"@agency:a1:cps", "2.99 3.99"},
                                                   {"@streamer:s1:cps", "-2.99 -3.99"}});
  ledger->reset();
  CHECK(snapshot(dir / "db") == before);
}

TEST_CASE("SPEC 9: monthly statements classify every posting and reconcile with balance") {
  fz::test::TempDir dir;
  auto ledger = Ledger::open(dir / "db", Ledger::Access::kWrite);
  REQUIRE(ledger.ok());
  publish_default(**ledger);
  append_spec9(**ledger);
  auto october = engine::statement(**ledger, "streamer:s1", "2026-10");
  REQUIRE(october.ok());
  CHECK(october->opening_fen == 0);
  REQUIRE(october->lines.size() == 2);
  CHECK(october->lines[0].kind == "commission");
  CHECK(october->lines[0].ref == "o2");
  CHECK(october->lines[0].amount_fen == 4784);
  CHECK(october->closing_fen == 6384);
  CHECK(october->available_on_settlement_day_fen == 6384);
  CHECK(format_time(october->settlement_day) == "2026-11-20T00:00:00+08:00");
  auto november = engine::statement(**ledger, "streamer:s1", "2026-11");
  REQUIRE(november.ok());
  CHECK(november->opening_fen == 6384);
  std::map<std::string, Fen> totals(november->totals.begin(), november->totals.end());
  CHECK(totals["vtask"] == 400000);
  CHECK(totals["fee"] == -500);
  CHECK(totals["withdrawal"] == -3500);
  CHECK(totals["clawback"] == -1600);
  // The closing balance equals balance --at the month's end.
  Fen at_end = 0;
  const auto rows_at_end =
      engine::balances(**ledger, "@streamer:s1:*", t("2026-11-30T23:59:59.999999+08:00"), 0);
  REQUIRE(rows_at_end.ok());
  for (const auto& row : *rows_at_end) at_end += row.total_fen;
  CHECK(november->closing_fen == at_end);
  CHECK(november->closing_fen == 400784);
  CHECK(engine::statement(**ledger, "merchant:m1", "2026-10").message() ==
        "\"merchant:m1\" is not a party such as streamer:s1 or agency:a1");
}
