// The default policy's facts D1-D11 (each one a test case here; SPEC 9 adds the worked example), and version
// selection by terms time.
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

namespace {

// "ACCOUNT AMOUNT AVAILABLE_AT" of every posting of one event, in statement order.
std::vector<std::string> postings_of(const Ledger& ledger, const std::string& event_id) {
  engine::JournalFilter jf;
  jf.event = event_id;
  std::vector<std::string> out;
  const auto postings = engine::journal(ledger, jf);
  REQUIRE(postings.ok());
  for (const auto& p : *postings)
    out.push_back(
        fmt::format("{} {} {}", p.account, format_money(p.amount_fen), format_time(p.available_at)));
  return out;
}

Fen available_at(const Ledger& ledger, const std::string& account, const char* at) {
  auto rows = engine::balances(ledger, account, t(at), 0).value();
  return rows.empty() ? 0 : rows[0].available_fen;
}

const char* const kPayoutA1 =
    R"({"id":"a1-pay","type":"payout.bound","at":"2026-09-03T11:00:00+08:00","party":"agency:a1","alipay":"z","verified":true}
)";

std::string withdraw(const std::string& id, const std::string& at, const std::string& party,
                     const std::string& source, const std::string& amount) {
  return fmt::format(
      R"({{"id":"{0}","type":"withdrawal.requested","at":"{1}","party":"{2}","source":"{3}","amount":"{4}"}})"
      "\n",
      id, at, party, source, amount);
}

}  // namespace

TEST_CASE("D4: the streamer's CPS shows 80%, the platform's 10% is taken only when the streamer withdraws") {
  Fixture f;
  f.publish();
  // 1000.00 at g1's 10%: commission 100.00, a1 active (contract 09-01T10:00 + 14 days).
  CHECK(f.append(std::string(kSetup) + kPayoutA1 + order("o1", "2026-09-20T10:00:00+08:00", "s1", "1000.00") +
                 confirm("o1", "2026-09-21T10:00:00+08:00"))
            .empty());
  CHECK(f.total("@agency:a1:cps") == 2000);
  CHECK(f.total("@streamer:s1:cps") == 8000);  // shown as 80% of the commission
  CHECK(f.total("@platform:fees") == 0);       // nothing for the platform before a withdrawal
  // Available on 10-20. The streamer withdraws all of it: fee round(80.00 x 10% / 80%) = 10.00.
  CHECK(f.append(withdraw("w-s1", "2026-10-21T10:00:00+08:00", "streamer:s1", "cps", "80.00") +
                 withdraw("w-a1", "2026-10-21T10:00:00+08:00", "agency:a1", "cps", "20.00"))
            .empty());
  CHECK(postings_of(*f.ledger, "w-s1") == std::vector<std::string>{
                                              "@streamer:s1:cps -10.00 2026-10-21T10:00:00+08:00",
                                              "@platform:fees 10.00 2026-10-21T10:00:00+08:00",
                                              "@streamer:s1:cps -70.00 2026-10-21T10:00:00+08:00",
                                              "@payout:streamer:s1 70.00 2026-10-21T10:00:00+08:00",
                                          });
  // The agency's withdrawal pays no fee: its 20% is already net.
  CHECK(postings_of(*f.ledger, "w-a1") == std::vector<std::string>{
                                              "@agency:a1:cps -20.00 2026-10-21T10:00:00+08:00",
                                              "@payout:agency:a1 20.00 2026-10-21T10:00:00+08:00",
                                          });
  // In the end platform : agency : streamer = 10 : 20 : 70 of the 100.00 commission.
  CHECK(f.total("@platform:fees") == 1000);
  CHECK(f.total("@payout:agency:a1") == 2000);
  CHECK(f.total("@payout:streamer:s1") == 7000);
  CHECK(f.total("@streamer:s1:cps") == 0);
  CHECK(f.total("@agency:a1:cps") == 0);
}

TEST_CASE("D5: a month's commission becomes available on the 20th of the next month, local time") {
  Fixture f;
  f.publish();
  // Confirmed on the last second of October, the first second of November, and in December.
  CHECK(f.append(std::string(kSetup) + order("oct", "2026-10-01T10:00:00+08:00", "s1", "100.00") +
                 order("nov", "2026-10-01T10:00:00+08:00", "s1", "200.00") +
                 order("dec", "2026-10-01T10:00:00+08:00", "s1", "300.00") +
                 confirm("oct", "2026-10-31T23:59:59+08:00") + confirm("nov", "2026-11-01T00:00:00+08:00") +
                 confirm("dec", "2026-12-15T10:00:00+08:00"))
            .empty());
  CHECK(postings_of(*f.ledger, "oct-confirmed") ==
        std::vector<std::string>{"@merchant:m1:cps -10.00 2026-11-20T00:00:00+08:00",
                                 "@agency:a1:cps 2.00 2026-11-20T00:00:00+08:00",
                                 "@streamer:s1:cps 8.00 2026-11-20T00:00:00+08:00"});
  CHECK(postings_of(*f.ledger, "nov-confirmed") ==
        std::vector<std::string>{"@merchant:m1:cps -20.00 2026-12-20T00:00:00+08:00",
                                 "@agency:a1:cps 4.00 2026-12-20T00:00:00+08:00",
                                 "@streamer:s1:cps 16.00 2026-12-20T00:00:00+08:00"});
  // December's commission is paid out in January of the next year.
  CHECK(postings_of(*f.ledger, "dec-confirmed") ==
        std::vector<std::string>{"@merchant:m1:cps -30.00 2027-01-20T00:00:00+08:00",
                                 "@agency:a1:cps 6.00 2027-01-20T00:00:00+08:00",
                                 "@streamer:s1:cps 24.00 2027-01-20T00:00:00+08:00"});
  const std::string s1 = "@streamer:s1:cps";
  CHECK(available_at(*f.ledger, s1, "2026-11-19T23:59:59+08:00") == 0);
  CHECK(available_at(*f.ledger, s1, "2026-11-20T00:00:00+08:00") == 800);
  CHECK(available_at(*f.ledger, s1, "2026-12-19T23:59:59+08:00") == 800);
  CHECK(available_at(*f.ledger, s1, "2026-12-20T00:00:00+08:00") == 2400);
  CHECK(available_at(*f.ledger, s1, "2027-01-20T00:00:00+08:00") == 4800);
  // A withdrawal the day before the 20th finds nothing available; on the 20th it is paid.
  auto rejected = f.append(withdraw("early", "2026-11-19T23:00:00+08:00", "streamer:s1", "cps", "8.00") +
                           withdraw("on-time", "2026-11-20T00:00:00+08:00", "streamer:s1", "cps", "8.00"));
  REQUIRE(rejected.size() == 1);
  CHECK(rejected["early"].find("not enough available") != std::string::npos);
  CHECK(f.total("@payout:streamer:s1") == 700);
}

TEST_CASE("D8: V-task money goes to the agency first, which passes the streamer's part on") {
  Fixture f;
  f.publish();
  auto task = [](const std::string& id, const std::string& at, const std::string& streamer,
                 const std::string& kind, const std::string& price) {
    return fmt::format(
        R"({{"id":"{0}c","type":"vtask.created","at":"{1}","task":"{0}","merchant":"m2","streamer":"{2}","kind":"{3}","price":"{4}"}})"
        "\n",
        id, at, streamer, kind, price);
  };
  auto done = [](const std::string& id, const std::string& at, const std::string& type = "vtask.confirmed") {
    return fmt::format(R"({{"id":"{0}d","type":"{2}","at":"{1}","task":"{0}"}})"
                       "\n",
                       id, at, type);
  };
  // Outside the campaign (no fee). t1: ordinary, s1 signed to a1. t2: a title sponsorship of s9, who is
  // signed to no agency: paid directly. t3: a showcase created while s1 was signed; s1 is released
  // before the merchant confirms: the agency of the task's creation still receives it. t4: cancelled.
  CHECK(f.append(
             std::string(kSetup) + task("t1", "2026-09-20T10:00:00+08:00", "s1", "ordinary", "1000.01") +
             done("t1", "2026-09-25T10:00:00+08:00") +
             task("t2", "2026-09-20T10:00:00+08:00", "s9", "title", "300.00") +
             done("t2", "2026-09-25T10:00:00+08:00") +
             task("t3", "2026-09-26T10:00:00+08:00", "s1", "showcase", "500.00") +
             R"({"id":"s1-out","type":"streamer.released","at":"2026-09-27T10:00:00+08:00","streamer":"s1"})"
             "\n" +
             done("t3", "2026-09-28T10:00:00+08:00") +
             task("t4", "2026-09-26T10:00:00+08:00", "s1", "ordinary", "700.00") +
             done("t4", "2026-09-27T09:00:00+08:00", "vtask.cancelled"))
            .empty());
  // 1000.01 to a1, then round(1000.01 x 50%) = 500.01 (half away from zero) on to s1.
  CHECK(postings_of(*f.ledger, "t1d") == std::vector<std::string>{
                                             "@merchant:m2:vtask -1000.01 2026-09-25T10:00:00+08:00",
                                             "@agency:a1:vtask 1000.01 2026-09-25T10:00:00+08:00",
                                             "@agency:a1:vtask -500.01 2026-09-25T10:00:00+08:00",
                                             "@streamer:s1:vtask 500.01 2026-09-25T10:00:00+08:00",
                                         });
  CHECK(postings_of(*f.ledger, "t2d") == std::vector<std::string>{
                                             "@merchant:m2:vtask -300.00 2026-09-25T10:00:00+08:00",
                                             "@streamer:s9:vtask 300.00 2026-09-25T10:00:00+08:00",
                                         });
  CHECK(postings_of(*f.ledger, "t3d") == std::vector<std::string>{
                                             "@merchant:m2:vtask -500.00 2026-09-28T10:00:00+08:00",
                                             "@agency:a1:vtask 500.00 2026-09-28T10:00:00+08:00",
                                             "@agency:a1:vtask -250.00 2026-09-28T10:00:00+08:00",
                                             "@streamer:s1:vtask 250.00 2026-09-28T10:00:00+08:00",
                                         });
  CHECK(postings_of(*f.ledger, "t4d").empty());
  CHECK(f.total("@agency:a1:vtask") == 50000 + 25000);
  CHECK(f.total("@streamer:s1:vtask") == 50001 + 25000);
  CHECK(f.total("@platform:fees") == 0);
}

TEST_CASE("D11: refunds after settlement claw back in proportion, later, a full refund reverses to the fen") {
  Fixture f;
  f.publish();
  // 1000.00 at 10%, confirmed 09-21: 20.00 / 80.00, available 10-20.
  CHECK(f.append(std::string(kSetup) + order("o1", "2026-09-20T10:00:00+08:00", "s1", "1000.00") +
                 confirm("o1", "2026-09-21T10:00:00+08:00"))
            .empty());
  auto refund = [](const std::string& id, const std::string& at, const std::string& amount,
                   const std::string& kase) {
    return fmt::format(
        R"({{"id":"{0}","type":"order.refunded","at":"{1}","order":"o1","amount":"{2}","case":"{3}"}})"
        "\n",
        id, at, amount, kase);
  };
  // After settlement (维权): 333.33 refunded on 10-25. Net 666.67, commission round(66.667) = 66.67,
  // split 13.33 / 53.34 (largest remainder: 13.334 vs 53.336, the leftover fen to the streamer). The
  // deltas come back from the next payout: available 11-20, not the original 10-20.
  CHECK(f.append(refund("r1", "2026-10-25T10:00:00+08:00", "333.33", "case-1")).empty());
  CHECK(postings_of(*f.ledger, "r1") == std::vector<std::string>{
                                            "@merchant:m1:cps 33.33 2026-11-20T00:00:00+08:00",
                                            "@agency:a1:cps -6.67 2026-11-20T00:00:00+08:00",
                                            "@streamer:s1:cps -26.66 2026-11-20T00:00:00+08:00",
                                        });
  CHECK(available_at(*f.ledger, "@streamer:s1:cps", "2026-10-26T00:00:00+08:00") == 8000);
  CHECK(available_at(*f.ledger, "@streamer:s1:cps", "2026-11-20T00:00:00+08:00") == 5334);
  // The rest refunded in a second case: everything the order ever posted is reversed exactly.
  CHECK(f.append(refund("r2", "2026-11-25T10:00:00+08:00", "666.67", "case-2")).empty());
  CHECK(f.total("@merchant:m1:cps") == 0);
  CHECK(f.total("@agency:a1:cps") == 0);
  CHECK(f.total("@streamer:s1:cps") == 0);
  CHECK(available_at(*f.ledger, "@streamer:s1:cps", "2026-12-19T00:00:00+08:00") == 5334);  // r2 pending
  CHECK(available_at(*f.ledger, "@streamer:s1:cps", "2026-12-20T00:00:00+08:00") == 0);
  // A third refund finds nothing left to refund.
  auto rejected = f.append(refund("r3", "2026-11-26T10:00:00+08:00", "0.01", "case-3"));
  REQUIRE(rejected.size() == 1);
  CHECK(rejected["r3"].find("exceeds") != std::string::npos);
}
