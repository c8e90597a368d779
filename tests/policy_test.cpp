// The default policy's facts D1-D11 beyond the SPEC 9 example, and version selection by terms time.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <fstream>
#include <map>
#include <sstream>

#include "core/money.hpp"
#include "engine/engine.hpp"
#include "engine/publish.hpp"
#include "engine/queries.hpp"
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

struct Fixture {
  fz::test::TempDir dir;
  std::unique_ptr<Ledger> ledger;
  Fixture() {
    auto l = Ledger::open(dir / "db", Ledger::Access::kWrite);
    REQUIRE(l.ok());
    ledger = std::move(*l);
  }
  // Publishes the default policy with `edits` applied (from -> to), as the given version.
  void publish(const std::vector<std::pair<std::string, std::string>>& edits = {}) {
    std::string rules = read("rules/taobao-live.rules");
    for (const auto& [from, to] : edits) {
      REQUIRE(rules.find(from) != std::string::npos);
      rules.replace(rules.find(from), from.size(), to);
    }
    std::string diagnostics;
    auto r =
        engine::publish_rules(*ledger, rules, "policy.rules", t("2026-08-01T00:00:00+08:00"), &diagnostics);
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.message() + "\n" + diagnostics));
  }
  // Appends lines; returns the rejection reasons by id.
  std::map<std::string, std::string> append(const std::string& lines) {
    auto eng = engine::Engine::for_append(*ledger);
    REQUIRE(eng.ok());
    std::istringstream in(lines);
    std::map<std::string, std::string> rejected;
    auto r = run_append(*ledger, eng->get(), {{"t", &in}}, {},
                        [&](const LineRejection& lr) { rejected[lr.id] = lr.reason; });
    REQUIRE(r.ok());
    return rejected;
  }
  Fen total(const std::string& account) {
    auto rows = engine::balances(*ledger, account, std::nullopt, 0).value();
    return rows.empty() ? 0 : rows[0].total_fen;
  }
};

const char* const kSetup =
    R"({"id":"a1","type":"agency.contracted","at":"2026-09-01T10:00:00+08:00","agency":"a1"}
{"id":"s1","type":"streamer.signed","at":"2026-09-02T10:00:00+08:00","streamer":"s1","agency":"a1"}
{"id":"s2-pay","type":"payout.bound","at":"2026-09-03T10:00:00+08:00","party":"streamer:s2","alipay":"x","verified":false}
{"id":"s1-pay","type":"payout.bound","at":"2026-09-03T10:00:00+08:00","party":"streamer:s1","alipay":"y","verified":true}
{"id":"g1","type":"plan.created","at":"2026-09-01T00:00:00+08:00","plan":"g1","merchant":"m1","kind":"general","rate":"10%"}
)";

std::string order(const std::string& id, const std::string& at, const std::string& streamer,
                  const std::string& amount, bool via_link = true, const std::string& plan = "g1",
                  const std::string& merchant = "m1") {
  return fmt::format(
      R"({{"id":"{0}-paid","type":"order.paid","at":"{1}","order":"{0}","merchant":"{5}","streamer":"{2}","plan":"{4}","amount":"{3}","via_link":{6}}})"
      "\n",
      id, at, streamer, amount, plan, merchant, via_link);
}
std::string confirm(const std::string& id, const std::string& at) {
  return fmt::format(R"({{"id":"{0}-confirmed","type":"order.confirmed","at":"{1}","order":"{0}"}})"
                     "\n",
                     id, at);
}

}  // namespace

TEST_CASE("D1: no link or no plan, no commission") {
  Fixture f;
  f.publish();
  CHECK(f.append(std::string(kSetup) + order("o1", "2026-10-01T10:00:00+08:00", "s1", "100.00", false) +
                 order("o2", "2026-10-01T10:00:00+08:00", "s1", "100.00", true, "nope") +
                 order("o3", "2026-10-01T10:00:00+08:00", "s1", "100.00", true, "g1", "m9") +
                 confirm("o1", "2026-10-02T10:00:00+08:00") + confirm("o2", "2026-10-02T10:00:00+08:00") +
                 confirm("o3", "2026-10-02T10:00:00+08:00"))
            .empty());
  CHECK(f.total("@streamer:s1:cps") == 0);
}

TEST_CASE(
    "D2: a general plan counts at once, a directed one from the next local midnight, auto approval at once") {
  Fixture f;
  f.publish();
  // g1 (general, 10%) was created 09-01T00:00: an order one second later earns. d1 (directed, auto,
  // 10%) created 10-01T15:00 takes effect 10-02T00:00+08:00; s1's application is approved at once.
  CHECK(
      f.append(
           std::string(kSetup) + order("at-once", "2026-09-01T00:00:01+08:00", "s1", "100.00") +
           R"({"id":"d1","type":"plan.created","at":"2026-10-01T15:00:00+08:00","plan":"d1","merchant":"m1","kind":"directed","rate":"10%","approval":"auto"}
{"id":"d1-s1","type":"plan.applied","at":"2026-10-01T16:00:00+08:00","plan":"d1","streamer":"s1"}
)" + order("before-midnight", "2026-10-01T23:59:59+08:00", "s1", "100.00", true, "d1") +
           order("at-midnight", "2026-10-02T00:00:00+08:00", "s1", "100.00", true, "d1") +
           confirm("at-once", "2026-09-02T10:00:00+08:00") +
           confirm("before-midnight", "2026-10-03T10:00:00+08:00") +
           confirm("at-midnight", "2026-10-03T10:00:00+08:00"))
          .empty());
  // 10.00 commission per earning order. at-once: a1 is not yet active (09-15T10:00), all to s1: 10.00.
  // before-midnight: nothing. at-midnight: 2.00 to a1, 8.00 to s1.
  CHECK(f.total("@agency:a1:cps") == 200);
  CHECK(f.total("@streamer:s1:cps") == 1800);
  CHECK(f.total("@merchant:m1:cps") == -2000);
}

TEST_CASE(
    "D3/D6: the agency's 20% only once its contract is two weeks old, before that all to the streamer") {
  Fixture f;
  f.publish();
  // a1 contracted 09-01T10:00: active from 09-15T10:00.
  CHECK(f.append(std::string(kSetup) + order("early", "2026-09-15T09:59:59+08:00", "s1", "100.00") +
                 order("late", "2026-09-15T10:00:00+08:00", "s1", "100.00") +
                 confirm("early", "2026-09-20T10:00:00+08:00") + confirm("late", "2026-09-20T10:00:00+08:00"))
            .empty());
  // 10.00 commission each: early all to s1, late 2.00 / 8.00.
  CHECK(f.total("@agency:a1:cps") == 200);
  CHECK(f.total("@streamer:s1:cps") == 1800);
}

TEST_CASE("D7: a withdrawal needs a verified Alipay binding and enough available money") {
  Fixture f;
  f.publish();
  auto rejected = f.append(
      std::string(kSetup) +
      R"({"id":"w1","type":"withdrawal.requested","at":"2026-11-21T10:00:00+08:00","party":"streamer:s2","source":"cps","amount":"1.00"})"
      "\n"
      R"({"id":"w2","type":"withdrawal.requested","at":"2026-11-21T10:00:00+08:00","party":"streamer:s1","source":"cps","amount":"1.00"})"
      "\n");
  REQUIRE(rejected.size() == 2);
  CHECK(rejected["w1"].find("verified Alipay") != std::string::npos);
  CHECK(rejected["w2"].find("not enough available") != std::string::npos);
  CHECK(f.ledger->head_seq() == 6);  // the ruleset and the five setup events only
}

TEST_CASE("D9: no V-task fee outside the campaign, and D10: a V-task's product order earns CPS as well") {
  Fixture f;
  f.publish();
  CHECK(
      f.append(
           std::string(kSetup) +
           R"({"id":"t1c","type":"vtask.created","at":"2026-09-20T10:00:00+08:00","task":"t1","merchant":"m1","streamer":"s1","kind":"ordinary","price":"1000.00"})"
           "\n"
           R"({"id":"t1d","type":"vtask.confirmed","at":"2026-09-25T10:00:00+08:00","task":"t1"})"
           "\n" +
           order("o1", "2026-09-26T10:00:00+08:00", "s1", "100.00") +
           confirm("o1", "2026-09-28T10:00:00+08:00"))
          .empty());
  CHECK(f.total("@platform:fees") == 0);
  CHECK(f.total("@agency:a1:vtask") == 50000);
  CHECK(f.total("@streamer:s1:vtask") == 50000);
  CHECK(f.total("@streamer:s1:cps") == 800);
}

TEST_CASE(
    "versions: an order paid before a version's effective stays on the old one, even confirmed after it") {
  Fixture f;
  f.publish();
  f.publish({{"version 1 effective 2026-01-01", "version 2 effective 2026-10-07"},
             {"let agency_share = 20%", "let agency_share = 25%"}});
  CHECK(f.append(std::string(kSetup) + order("old", "2026-10-06T09:00:00+08:00", "s1", "100.00") +
                 order("new", "2026-10-07T00:00:00+08:00", "s1", "100.00") +
                 confirm("old", "2026-10-10T10:00:00+08:00") + confirm("new", "2026-10-10T10:00:00+08:00"))
            .empty());
  engine::JournalFilter jf;
  jf.account_pattern = "@agency:a1:cps";
  const auto ps = engine::journal(*f.ledger, jf).value();
  REQUIRE(ps.size() == 2);
  CHECK(ps[0].event_id == "old-confirmed");
  CHECK(ps[0].version == 1);
  CHECK(ps[0].amount_fen == 200);
  CHECK(ps[1].event_id == "new-confirmed");
  CHECK(ps[1].version == 2);
  CHECK(ps[1].amount_fen == 250);
}

TEST_CASE("versions: a version published late recomputes the past it governs") {
  Fixture f;
  f.publish();
  CHECK(f.append(std::string(kSetup) + order("o1", "2026-10-08T09:00:00+08:00", "s1", "100.00") +
                 confirm("o1", "2026-10-10T10:00:00+08:00"))
            .empty());
  CHECK(f.total("@agency:a1:cps") == 200);
  f.publish({{"version 1 effective 2026-01-01", "version 2 effective 2026-10-01"},
             {"let agency_share = 20%", "let agency_share = 25%"}});
  CHECK(f.total("@agency:a1:cps") == 250);
  CHECK(f.total("@streamer:s1:cps") == 750);
}
