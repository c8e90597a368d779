// Issue 15 part A: `fenzhang export events | beancount | csv` (SPEC section 10), and the optional
// payout.bound `name`. The commands run through the binary: the log written out and appended into an
// empty ledger reproduces the head hash (rules.published lines included, and only those exported may
// come in); the beancount file passes bean-check and its balances are fenzhang's; CSV cells are neutralised.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <boost/json.hpp>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "export/export.hpp"
#include "model/event_json.hpp"
#include "store/codec.hpp"
#include "tests/test_util.hpp"

using fz::test::run;
using fz::test::RunResult;
using fz::test::TempDir;

namespace {

using fz::test::read_all;
using fz::test::write_file;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::string src(const std::string& rel) {
  return fz::test::source_dir() + "/" + rel;
}

RunResult fz_run(const std::string& db, const std::string& args) {
  return run(fmt::format("{} --db {} {}", fz::test::bin(), db, args));
}

void must(const std::string& db, const std::string& args) {
  const RunResult r = fz_run(db, args);
  INFO(args, "\n", r.out);
  REQUIRE(r.exit_code == 0);
}

// "ok: N events, head HEX" of `verify`.
std::string head_of(const std::string& db) {
  const RunResult r = fz_run(db, "verify");
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  const std::size_t at = r.out.find("head ");
  REQUIRE(at != std::string::npos);
  return r.out.substr(0, r.out.find('\n'));
}

std::string balances(const std::string& db, const std::string& at = "") {
  const RunResult r = fz_run(db, "--format json balance" + (at.empty() ? "" : " --at " + at));
  REQUIRE(r.exit_code == 0);
  return r.out.substr(r.out.find("\"at\":"));
}

// The default policy, then version 2 (agency 25%) effective in the past, published after the sample:
// the publish recomputes, and so must the append of the exported log.
std::string rules_v2(const TempDir& dir) {
  std::string text = read_all(src("rules/taobao-live.rules"));
  const auto replace = [&](const std::string& from, const std::string& to) {
    const std::size_t at = text.find(from);
    REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), to);
  };
  replace("version 1 effective 2026-01-01", "version 2 effective 2026-10-07");
  replace("let agency_share = 20%", "let agency_share = 25%");
  write_file(dir / "v2.rules", text);
  return dir / "v2.rules";
}

constexpr const char* kExtraEvents =
    R"X({"id":"bind-s1-name","type":"payout.bound","at":"2026-12-01T10:00:00+08:00","party":"streamer:s1","alipay":"s1-alipay@example.com","verified":true,"name":"张三"}
{"id":"=cmd|'/C_calc'!A0","type":"adjustment","at":"2026-12-02T10:00:00.123456+08:00","from":"@agency:a1:vtask","to":"@streamer:s1:vtask","amount":"1.50","reason":"=HYPERLINK(\"x\")"}
)X";

// The sample ledger with a second ruleset version and a few events after it.
void sample_ledger(const TempDir& dir, const std::string& db) {
  must(db, "rules publish " + src("rules/taobao-live.rules"));
  must(db, "append " + src("examples/taobao-live-sample.jsonl"));
  must(db, "rules publish " + rules_v2(dir));
  write_file(dir / "extra.jsonl", kExtraEvents);
  must(db, "append " + (dir / "extra.jsonl"));
}

void export_events(const std::string& db, const std::string& file, const std::string& args = "") {
  must(db, "export events " + args + " > " + file);
}

}  // namespace

TEST_CASE("payout.bound name is optional and appended so events without it keep their bytes") {
  const std::string without =
      R"({"id":"b1","type":"payout.bound","at":"2026-09-03T10:00:00+08:00","party":"streamer:s1","alipay":"x@y","verified":true})";
  fz::LineResult r = fz::parse_event_line(without);
  REQUIRE(r.event);
  CHECK_FALSE((*r.event)[fz::fields::payout_bound::kName].present);
  const std::string record = fz::encode_event(*r.event);
  // version, type, "b1", at (svar, 7 bytes for 2026), meta count, "streamer:s1", "x@y", verified, CRC:
  // exactly the format-1 bytes, no presence byte for the absent name.
  const std::string at_bytes = record.substr(5, record.size() - 5 - 1 - 12 - 4 - 1 - 4);
  CHECK(record.size() == 2 + 3 + at_bytes.size() + 1 + 12 + 4 + 1 + 4);
  CHECK(record[record.size() - 5] == 1);  // verified, right before the CRC
  CHECK(fz::decode_event(record).value() == *r.event);

  const std::string with = without.substr(0, without.size() - 1) + R"(,"name":"张三"})";
  fz::LineResult n = fz::parse_event_line(with);
  REQUIRE(n.event);
  CHECK((*n.event)[fz::fields::payout_bound::kName].s == "张三");
  CHECK(fz::encode_event(*n.event).size() == record.size() + 1 + 1 + 6);
  CHECK(fz::decode_event(fz::encode_event(*n.event)).value() == *n.event);
  CHECK(fz::parse_event_line(fz::event_to_json(*n.event)).event == n.event);
  CHECK(fz::parse_event_line(without.substr(0, without.size() - 1) + R"(,"name":""})").reason ==
        "name: is empty");
}

TEST_CASE(
    "export events appended into an empty ledger give the same head hash (sample with two rules versions)") {
  TempDir dir;
  const std::string a = dir / "a", b = dir / "b";
  sample_ledger(dir, a);
  export_events(a, dir / "a.jsonl");
  const std::vector<std::string> lines = lines_of(read_all(dir / "a.jsonl"));
  REQUIRE(lines.size() == 38);  // 2 versions + 34 sample + 2 extra
  CHECK(lines[0].find("\"chain_previous\":\"" + std::string(64, '0') + "\"") != std::string::npos);
  CHECK(lines[35].find("\"type\":\"rules.published\"") != std::string::npos);
  CHECK(lines[36].find("\"name\":\"张三\"") != std::string::npos);

  const RunResult in = fz_run(b, "append " + (dir / "a.jsonl"));
  INFO(in.out);
  CHECK(in.exit_code == 0);
  CHECK(in.out.find("appended 38, duplicates 0, rejected 0") != std::string::npos);
  CHECK(head_of(b) == head_of(a));
  CHECK(balances(b) == balances(a));
  export_events(b, dir / "b.jsonl");
  CHECK(read_all(dir / "b.jsonl") == read_all(dir / "a.jsonl"));

  // Again: every line a duplicate, the rules lines included.
  const RunResult again = fz_run(b, "append " + (dir / "a.jsonl"));
  CHECK(again.exit_code == 0);
  CHECK(again.out.find("appended 0, duplicates 38, rejected 0") != std::string::npos);
  CHECK(head_of(b) == head_of(a));

  // --from-seq: the first 20 events, then the rest from seq 21.
  const std::string c = dir / "c";
  std::string first20;
  for (std::size_t i = 0; i < 20; ++i) first20 += lines[i] + "\n";
  write_file(dir / "first20.jsonl", first20);
  must(c, "append " + (dir / "first20.jsonl"));
  export_events(a, dir / "rest.jsonl", "--from-seq 21");
  CHECK(lines_of(read_all(dir / "rest.jsonl")).size() == 18);
  must(c, "append " + (dir / "rest.jsonl"));
  CHECK(head_of(c) == head_of(a));
}

TEST_CASE("append still refuses rules.published lines that are not exported at their place in the chain") {
  TempDir dir;
  const std::string a = dir / "a", b = dir / "b";
  sample_ledger(dir, a);
  export_events(a, dir / "a.jsonl");
  const std::vector<std::string> lines = lines_of(read_all(dir / "a.jsonl"));

  // Hand-written: without the chain members, refused as before.
  boost::json::object hand = boost::json::parse(lines[0]).as_object();
  hand.erase("chain_previous");
  hand.erase("chain_hash");
  write_file(dir / "hand.jsonl", boost::json::serialize(hand) + "\n");
  RunResult r = fz_run(b, "append " + (dir / "hand.jsonl"));
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("hand.jsonl:1: rules.taobao_live.v1: type: rules.published events are written only by "
                   "'fenzhang rules publish'") != std::string::npos);

  // Another source under the exported chain: the hash does not match.
  boost::json::object forged = boost::json::parse(lines[0]).as_object();
  forged["source"] = std::string(forged["source"].as_string()) + "\n# changed\n";
  write_file(dir / "forged.jsonl", boost::json::serialize(forged) + "\n");
  r = fz_run(b, "append " + (dir / "forged.jsonl"));
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("chain_hash: the event does not hash to it") != std::string::npos);

  // The exported version-2 line in a ledger whose head is not the one it followed.
  write_file(dir / "v2.jsonl", lines[35] + "\n");
  r = fz_run(b, "append " + (dir / "v2.jsonl"));
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("must follow the event it followed when exported") != std::string::npos);
  const RunResult nothing = fz_run(b, "export events");  // nothing was written
  CHECK(nothing.exit_code == 0);
  CHECK(nothing.out.empty());

  // --atomic cannot undo a publish: refused.
  write_file(dir / "first.jsonl", lines[0] + "\n");
  r = fz_run(b, "append --atomic " + (dir / "first.jsonl"));
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("cannot be appended with --atomic") != std::string::npos);
}

TEST_CASE("export events: a generated ledger round trips to the same head (100k events - 20k under ASan)") {
#if defined(__SANITIZE_ADDRESS__)
  constexpr int kEvents = 20000;
#else
  constexpr int kEvents = 100000;
#endif
  TempDir dir;
  const std::string a = dir / "a", b = dir / "b";
  must(a, fmt::format("gen --events {} --seed 15 > {}", kEvents, dir / "gen.jsonl"));
  must(a, "rules publish " + src("rules/taobao-live.rules"));
  must(a, "append " + (dir / "gen.jsonl"));
  export_events(a, dir / "a.jsonl");
  const RunResult in = fz_run(b, "append " + (dir / "a.jsonl"));
  INFO(in.out);
  CHECK(in.out.find(fmt::format("appended {}, duplicates 0, rejected 0", kEvents + 1)) != std::string::npos);
  CHECK(head_of(b) == head_of(a));
  CHECK(balances(b) == balances(a));
}

TEST_CASE("beancount account names") {
  CHECK(fz::exports::beancount_account("@streamer:s-1:cps") == "Liabilities:Streamer:S-1:Cps");
  CHECK(fz::exports::beancount_account("@agency:a1:vtask") == "Liabilities:Agency:A1:Vtask");
  CHECK(fz::exports::beancount_account("@merchant:m1:cps") == "Assets:Merchant:M1:Cps");
  CHECK(fz::exports::beancount_account("@platform:fees") == "Income:Platform:Fees");
  CHECK(fz::exports::beancount_account("@payout:streamer:s1") == "Expenses:Payout:Streamer:S1");
  CHECK(fz::exports::beancount_account("@bonus:_x.y:9") == "Equity:Bonus:X-x-y:9");
}

namespace {

// Per-account sums of a beancount file, by beancount itself (Debian's python3-beancount).
std::map<std::string, std::string> beancount_totals(const TempDir& dir, const std::string& file) {
  write_file(dir / "totals.py", R"(import sys
from beancount import loader
from beancount.core import data
entries, errors, _ = loader.load_file(sys.argv[1])
assert not errors, errors
totals = {}
for e in entries:
    if isinstance(e, data.Transaction):
        for p in e.postings:
            totals[p.account] = totals.get(p.account, 0) + p.units.number
for account in sorted(totals):
    print(account, "{:.2f}".format(totals[account]))
)");
  const RunResult r = run("/usr/bin/python3 " + (dir / "totals.py") + " " + file);
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  std::map<std::string, std::string> out;
  for (const std::string& line : lines_of(r.out))
    out[line.substr(0, line.find(' '))] = line.substr(line.find(' ') + 1);
  return out;
}

std::map<std::string, std::string> fenzhang_totals(const std::string& db, const std::string& at) {
  const RunResult r = fz_run(db, "--format json balance" + (at.empty() ? "" : " --at " + at));
  REQUIRE(r.exit_code == 0);
  std::map<std::string, std::string> out;
  const boost::json::value doc = boost::json::parse(r.out);
  for (const auto& row : doc.at("accounts").as_array()) {
    out[fz::exports::beancount_account(row.at("account").as_string().c_str())] =
        row.at("total").as_string().c_str();
  }
  return out;
}

}  // namespace

TEST_CASE("export beancount: passes bean-check and its balances equal fenzhang balance for every account") {
  TempDir dir;
  const std::string a = dir / "a";
  sample_ledger(dir, a);
  for (const std::string at : {"", "2026-11-20", "2026-10-12T10:00:00+08:00"}) {
    CAPTURE(at);
    const std::string file = dir / "books.beancount";
    must(a, "export beancount" + (at.empty() ? "" : " --at " + at) + " > " + file);
    const std::string text = read_all(file);
    CHECK(text.find("open Liabilities:Streamer:S1:Cps CNY") != std::string::npos);
    CHECK(text.find("  event: \"ev-0019\"") != std::string::npos);
    CHECK(text.find("    rule: \"cps\"") != std::string::npos);
    const RunResult check = run("/usr/bin/python3 -m beancount.scripts.check " + file);
    INFO(check.out);
    CHECK(check.exit_code == 0);
    CHECK(beancount_totals(dir, file) == fenzhang_totals(a, at));
  }
}

TEST_CASE("export csv: the journal with neutralised cells") {
  TempDir dir;
  const std::string a = dir / "a";
  sample_ledger(dir, a);
  const RunResult r = fz_run(a, "export csv");
  REQUIRE(r.exit_code == 0);
  const std::vector<std::string> lines = lines_of(r.out);
  REQUIRE_FALSE(lines.empty());
  CHECK(lines[0] == "seq,event,type,event_at,account,amount,available_at,version,rule,line,key");
  const RunResult j = fz_run(a, "--format json journal");
  CHECK(lines.size() == lines_of(j.out).size() + 1);
  CHECK(r.out.find(",ev-0019,order.confirmed,2026-10-10T10:00:00+08:00,'@streamer:s1:cps,") !=
        std::string::npos);
  // An event id that a spreadsheet would run as a formula is text.
  CHECK(r.out.find(",'=cmd|'/C_calc'!A0,adjustment,2026-12-02T10:00:00.123456+08:00,") != std::string::npos);
}
