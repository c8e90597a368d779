// Evaluation of every statement and built-in against hand-computed numbers, keyed targets, and the
// worked example of SPEC section 9 under rules/taobao-live.rules.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <fstream>
#include <random>
#include <sstream>

#include "core/money.hpp"
#include "dsl/eval.hpp"
#include "dsl/rules_check.hpp"
#include "dsl/tests/fake_facts.hpp"
#include "tests/test_paths.hpp"

namespace fz::dsl {
namespace {

using test::FakeFacts;

TimeUs at(const char* text) {
  auto t = parse_rfc3339(text);
  REQUIRE_MESSAGE(t.ok(), text);
  return *t;
}

Ruleset compile(const std::string& source) {
  CompileResult r = compile_rules(source, "test.rules");
  INFO(r.diagnostics);
  REQUIRE(r.ruleset.has_value());
  return *r.ruleset;
}

// An event of `type` with every schema field absent except those given by name.
Event event(EventType type, const std::string& id, TimeUs when,
            std::vector<std::pair<std::string, FieldValue>> given = {}) {
  Event e;
  e.id = id;
  e.type = type;
  e.at_us = when;
  e.fields.assign(spec_of(type).fields.size(), FieldValue{false, 0, {}});
  for (auto& [name, value] : given) {
    const int index = field_index(type, name);
    REQUIRE_MESSAGE(index >= 0, name);
    e.fields[static_cast<std::size_t>(index)] = value;
  }
  return e;
}

FieldValue str(std::string s) {
  return FieldValue{true, 0, std::move(s)};
}
FieldValue num(std::int64_t i) {
  return FieldValue{true, i, {}};
}
Fen fen(const char* money) {
  return *parse_money(money);
}

std::string header(const std::string& extra = "") {
  return "ruleset t version 1 effective 2026-01-01\nset settlement_day = 20\n" + extra;
}

// Evaluates `cond` (a bool expression) in a rule on order.paid; fails the test if it is false.
void check_true(const std::string& cond, const std::string& extra = "") {
  const Ruleset rs =
      compile(header(extra) + "rule r on order.paid {\n  require " + cond + " else \"false\"\n}\n");
  FakeFacts facts;
  EvalResult r = evaluate(rs, event(EventType::kOrderPaid, "e1", at("2026-10-05T20:00:00+08:00")), facts);
  INFO(cond);
  INFO(r.failure.text());
  CHECK(r.ok);
}

struct Leg {
  std::string account;
  std::string amount;
};
void check_postings(const EvalResult& r, const std::vector<Leg>& legs) {
  INFO(r.failure.text());
  REQUIRE(r.ok);
  REQUIRE(r.postings.size() == legs.size());
  for (std::size_t k = 0; k < legs.size(); ++k) {
    CHECK(r.postings[k].account == legs[k].account);
    CHECK(format_money(r.postings[k].amount_fen) == legs[k].amount);
  }
}

TEST_CASE("built-in functions and arithmetic") {
  check_true("settlement(2026-12-15T10:00) == 2027-01-20");
  check_true("settlement(2026-12-31T23:59:59+08:00) == 2027-01-20T00:00+08:00");
  check_true("settlement(2026-12-31T16:00:00Z) == 2027-02-20");  // 2027-01-01 00:00 local
  check_true("next_midnight(2026-11-11) == 2026-11-12");
  check_true("next_midnight(2026-11-11T23:59:59) == 2026-11-12");
  check_true("month(2026-10-31T16:00:00Z) == \"2026-11\"");
  check_true("month(2026-10-05) == \"2026-10\"");
  check_true("in_campaign(d11, 2026-11-01)", "campaign d11 from 2026-11-01 to 2026-11-12\n");
  check_true("not in_campaign(d11, 2026-11-12)", "campaign d11 from 2026-11-01 to 2026-11-12\n");
  check_true("not in_campaign(d11, 2026-10-31T23:59:59.999999)",
             "campaign d11 from 2026-11-01 to 2026-11-12\n");
  check_true("in_campaign(2026-06-18T12:00)",
             "campaign a from 2026-11-01 to 2026-11-12\ncampaign b from 2026-06-01 to 2026-06-19\n");
  check_true("not in_campaign(a, 2026-06-18T12:00)",
             "campaign a from 2026-11-01 to 2026-11-12\ncampaign b from 2026-06-01 to 2026-06-19\n");
  check_true("round(100.01 * 20%) == 20.00");
  check_true("round(0.05 * 50%) == 0.03");  // 2.5 fen rounds half away from zero
  check_true("round(-0.05 * 50%) == -0.03");
  check_true("floor(0.05 * 50%) == 0.02");
  check_true("ceil(0.01 * 10%) == 0.01");
  check_true("floor(-0.01 * 10%) == -0.01");
  check_true("round(40.00 * 10% / 80%) == 5.00");
  check_true("round(7 / 2) == 4");
  check_true("1 / 8 == 12.5%");
  check_true("3.00 / 12.00 == 25%");
  check_true("2 * 3 + 1 == 7");
  check_true("1.00 * 3 == 3.00");
  check_true("min(3.00, 1.50, 2.00) == 1.50");
  check_true("max(10%, 1/3) == 1/3");
  check_true("max(2026-01-01, 2026-02-01) == 2026-02-01");
  check_true("2026-11-11 + 1d 12h == 2026-11-12T12:00");
  check_true("2026-11-12 - 2026-11-11 == 24h");
  check_true("\"cps/\" + \"o2\" == \"cps/o2\"");
  check_true("\"b\" in [\"a\", \"b\"]");
  check_true("not (3 in [1, 2])");
  check_true("(if 1 < 2 then 5.00 else 6.00) == 5.00");
  check_true("-(1.00) < 0.00 and not false or false");
  check_true("t[\"s1\"] == 60% and t[\"zz\"] == 50%",
             "table t {\n  \"s1\": 60%\n  s2: 70%\n  default: 50%\n}\n");
  check_true("t[\"s2\"] == 70%", "table t {\n  \"s1\": 60%\n  s2: 70%\n  default: 50%\n}\n");
  check_true("fee == 2.50", "let fee = 2.50\n");
  check_true("event.at == 2026-10-05T20:00", "");
  check_true("event.type == \"order.paid\" and event.id == \"e1\"");
}

TEST_CASE("fractional money and ratios are exact beyond 64 bits (128-bit bound, core/rational.hpp)") {
  // (10^13 + 1) fen x 999999/10^6: the numerator needs more than int64, the rounded fen do not.
  check_true("round(100000000000.01 * 99.9999%) == 99999900000.01");
  check_true("floor(100000000000.01 * 99.9999%) == 99999900000.00");
  check_true("round(100000000000.01 * 99.9999% * 99.9999%) == 99999800000.11");
  check_true("round(100000000000.01 * 99.9999% * 99.9999% / 3) == 33333266666.70");
  check_true("floor(92233720368547758.07 * 99.9999%) == 92233628134827389.52");
  check_true("round(-92233720368547758.07 * 100%) == -92233720368547758.07");
  check_true("1 / 9223372036854775807 * (1 / 9223372036854775806) < 1 / 9223372036854775807");
  check_true("1 / 9223372036854775807 + 1 / 9223372036854775806 > 2 / 9223372036854775807");
}

TEST_CASE("balance and available see earlier postings and this event's own") {
  const Ruleset rs = compile(header() +
                             "rule r on order.paid {\n"
                             "  move 5.00 from @a:x to @b:y available 2026-12-01\n"
                             "  require balance(@b:y) == 15.00 else \"balance\"\n"
                             "  require available(@b:y) == 10.00 else \"available\"\n"
                             "}\n");
  FakeFacts facts;
  const Ruleset seed = compile(header() + "rule s on order.confirmed {\n  move 10.00 from @a:x to @b:y\n}\n");
  facts.apply(
      evaluate(seed, event(EventType::kOrderConfirmed, "e0", at("2026-10-01T00:00:00+08:00")), facts));
  EvalResult r = evaluate(rs, event(EventType::kOrderPaid, "e1", at("2026-10-05T20:00:00+08:00")), facts);
  INFO(r.failure.text());
  CHECK(r.ok);
}

TEST_CASE("largest remainder examples of SPEC section 5") {
  const auto split = [](const std::string& amount, const std::string& shares) {
    const Ruleset rs = compile(header() + "rule r on order.paid {\n  split " + amount + " from @src:x {\n" +
                               shares + "\n  }\n}\n");
    FakeFacts facts;
    return evaluate(rs, event(EventType::kOrderPaid, "e1", at("2026-10-05T20:00:00+08:00")), facts);
  };
  check_postings(split("0.01", "20% to @a:x\n rest to @b:x"), {{"@src:x", "-0.01"}, {"@b:x", "0.01"}});
  check_postings(split("0.05", "10% to @a:x\n 20% to @b:x\n rest to @c:x"),
                 {{"@src:x", "-0.05"}, {"@a:x", "0.01"}, {"@b:x", "0.01"}, {"@c:x", "0.03"}});
  check_postings(split("0.10", "1/3 to @a:x\n 1/3 to @b:x\n rest to @c:x"),
                 {{"@src:x", "-0.10"}, {"@a:x", "0.04"}, {"@b:x", "0.03"}, {"@c:x", "0.03"}});
  check_postings(split("0.01", "10% to @p:x\n 20% to @a:x\n 70% to @s:x"),
                 {{"@src:x", "-0.01"}, {"@s:x", "0.01"}});
  check_postings(split("0.00", "rest to @a:x"), {});
}

TEST_CASE("property: split parts are floor or ceil of the exact share and sum to the amount") {
  std::mt19937_64 rng(20261111);
  for (int iteration = 0; iteration < 150; ++iteration) {
    const int n = 1 + static_cast<int>(rng() % 5);
    std::vector<std::int64_t> basis(static_cast<std::size_t>(n));  // shares in 1/10000 percent
    std::int64_t left = 1'000'000;
    std::string shares;
    for (int k = 0; k + 1 < n; ++k) {
      basis[static_cast<std::size_t>(k)] =
          static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(left + 1));
      left -= basis[static_cast<std::size_t>(k)];
      shares += fmt::format("{}.{:04}% to @p{}:x\n", basis[static_cast<std::size_t>(k)] / 10000,
                            basis[static_cast<std::size_t>(k)] % 10000, k);
    }
    basis.back() = left;
    shares += fmt::format("rest to @p{}:x\n", n - 1);
    const std::int64_t amount = static_cast<std::int64_t>(rng() % 100'000'000);
    const Ruleset rs = compile(header() + "rule r on order.paid {\n  split " + format_money(amount) +
                               " from @src:x {\n" + shares + "  }\n}\n");
    FakeFacts facts;
    EvalResult r = evaluate(rs, event(EventType::kOrderPaid, "e1", 0), facts);
    REQUIRE(r.ok);
    Fen total = 0;
    std::vector<Fen> got(static_cast<std::size_t>(n), 0);
    for (const auto& p : r.postings) {
      if (p.account == "@src:x") {
        CHECK(p.amount_fen == -amount);
        continue;
      }
      got[static_cast<std::size_t>(std::stoi(p.account.substr(2)))] = p.amount_fen;
      total += p.amount_fen;
    }
    CHECK(total == amount);
    std::vector<Rational> fraction(static_cast<std::size_t>(n));
    for (int k = 0; k < n; ++k) {
      const auto exact =
          *make_rational(static_cast<Int128>(amount) * basis[static_cast<std::size_t>(k)], 1'000'000);
      const Fen g = got[static_cast<std::size_t>(k)];
      CHECK((g == floor_of(exact) || g == ceil_of(exact)));
      fraction[static_cast<std::size_t>(k)] = *sub(exact, Rational::integer(floor_of(exact)));
    }
    // Ties go to the share declared first: a share that got no extra fen never has a larger fraction
    // than, or an equal fraction declared before, a share that got one.
    for (int a = 0; a < n; ++a) {
      for (int b = 0; b < n; ++b) {
        const auto ia = static_cast<std::size_t>(a);
        const auto ib = static_cast<std::size_t>(b);
        const auto exact_a = *make_rational(static_cast<Int128>(amount) * basis[ia], 1'000'000);
        const auto exact_b = *make_rational(static_cast<Int128>(amount) * basis[ib], 1'000'000);
        const bool extra_a = got[ia] != floor_of(exact_a);
        const bool extra_b = got[ib] != floor_of(exact_b);
        if (extra_a || !extra_b) continue;
        const auto c = compare(fraction[ia], fraction[ib]);
        CHECK(c <= 0);
        if (c == 0) CHECK(a > b);
      }
    }
  }
}

TEST_CASE("move: zero posts nothing, negative is an error, postings balance") {
  const Ruleset rs = compile(header() +
                             "rule r on order.paid {\n"
                             "  move event.amount - 10.00 from @a:x to @b:y\n"
                             "}\n");
  FakeFacts facts;
  auto paid = [&](const char* amount) {
    return evaluate(rs, event(EventType::kOrderPaid, "e1", 0, {{"amount", num(fen(amount))}}), facts);
  };
  check_postings(paid("12.50"), {{"@a:x", "-2.50"}, {"@b:y", "2.50"}});
  check_postings(paid("10.00"), {});
  EvalResult neg = paid("9.99");
  CHECK_FALSE(neg.ok);
  CHECK(neg.failure.text() == "rule r (line 4): amount -0.01 is negative");
}

TEST_CASE("keyed targets post differences and reverse to the fen") {
  const Ruleset rs = compile(header() +
                             "rule r on order.paid, order.refunded {\n"
                             "  split round(order.net * 20%) from @m:x per \"k/\" + order.id {\n"
                             "    20% to @a:x\n"
                             "    rest to @s:x\n"
                             "  }\n"
                             "}\n");
  FakeFacts facts;
  facts.set_s(EntityKind::kOrder, static_cast<int>(OrderField::kId), "o2");
  facts.set_i(EntityKind::kOrder, static_cast<int>(OrderField::kNet), fen("299.00"));
  EvalResult first = evaluate(rs, event(EventType::kOrderPaid, "e1", 0), facts);
  check_postings(first, {{"@m:x", "-59.80"}, {"@a:x", "11.96"}, {"@s:x", "47.84"}});
  REQUIRE(first.targets.size() == 1);
  CHECK(first.targets[0].key == "k/o2");
  CHECK(first.postings[0].target_key == "k/o2");
  facts.apply(first);
  facts.set_i(EntityKind::kOrder, static_cast<int>(OrderField::kNet), fen("199.00"));
  EvalResult second = evaluate(rs, event(EventType::kOrderRefunded, "e2", 0), facts);
  check_postings(second, {{"@m:x", "20.00"}, {"@a:x", "-4.00"}, {"@s:x", "-16.00"}});
  facts.apply(second);
  facts.set_i(EntityKind::kOrder, static_cast<int>(OrderField::kNet), 0);
  EvalResult third = evaluate(rs, event(EventType::kOrderRefunded, "e3", 0), facts);
  check_postings(third, {{"@m:x", "39.80"}, {"@a:x", "-7.96"}, {"@s:x", "-31.84"}});
  REQUIRE(third.targets.size() == 1);
  for (const auto& [account, amount] : third.targets[0].allocation) CHECK(amount == 0);
  facts.apply(third);
  CHECK(facts.balance("@m:x") == 0);
  CHECK(facts.balance("@a:x") == 0);
  CHECK(facts.balance("@s:x") == 0);
  // Recomputing the same target again posts nothing.
  check_postings(evaluate(rs, event(EventType::kOrderRefunded, "e4", 0), facts), {});
}

TEST_CASE("evaluation errors name the rule, the line and the values") {
  const auto fails = [](const std::string& body, const std::string& extra, const char* message) {
    const Ruleset rs = compile(header(extra) + "rule r on order.paid {\n" + body + "\n}\n");
    FakeFacts facts;
    EvalResult r = evaluate(rs, event(EventType::kOrderPaid, "e1", 0, {{"amount", num(fen("1.00"))}}), facts);
    CHECK_FALSE(r.ok);
    CHECK(r.failure.text() == message);
    CHECK(r.postings.empty());
  };
  fails("  move 1.00 from @a:x to @b:{t[\"zz\"]}", "table t {\n  \"s1\": \"x\"\n}\n",
        "rule r (line 7): table t has no entry \"zz\" and no default");
  fails("  let r = event.amount / (event.amount - 1.00)", "",
        "rule r (line 4): division by zero: 1.00 / 0.00");
  fails("  split 1.00 from @a:x {\n    event.amount / 1.00 + 10% to @b:x\n  }", "",
        "rule r (line 4): shares total 110%, expected 100%, at evaluation");
  fails("  split 1.00 from @a:x {\n    event.amount / 0.80 to @b:x\n    rest to @c:x\n  }", "",
        "rule r (line 4): shares total 125% before 'rest', more than 100%, at evaluation");
  fails("  move 1.00 from @a:x to @b:{order.id}", "",
        "rule r (line 4): order.id has no value for this event");
  fails("  let big = 90000000000000000.00 * 2", "", "rule r (line 4): overflow in 90000000000000000.00 × 2");
  // Exact in 128 bits, but the rounded fen do not fit in int64.
  fails("  let big = round(event.amount * (9223372036854775807 / 1))", "",
        "rule r (line 4): overflow in round(9223372036854775807.00)");
  // Beyond the 128-bit bound itself.
  fails("  let big = round(event.amount * (9223372036854775807 / 1) * (9223372036854775807 / 1))", "",
        "rule r (line 4): overflow in 9223372036854775807.00 × 922337203685477580700%");
  fails("  move 1.00 from @a:x to @b:{\"\"}", "",
        "rule r (line 4): account segment \"\" is not a valid name (letters, digits, _ - .)");
  fails("  require event.amount > 5.00 else \"too small\"", "", "rule r (line 4): too small");
  fails("  move 1.00 from @a:x to @b:x per \"\"", "", "rule r (line 4): the 'per' key is empty");
}

TEST_CASE("requires can be recorded instead of rejecting (replay)") {
  const Ruleset rs = compile(header() +
                             "rule r on order.paid {\n"
                             "  require false else \"never\"\n"
                             "  move 1.00 from @a:x to @b:x\n"
                             "}\n");
  FakeFacts facts;
  EvalResult strict = evaluate(rs, event(EventType::kOrderPaid, "e1", 0), facts);
  CHECK_FALSE(strict.ok);
  CHECK(strict.failure.kind == EvalFailure::Kind::kRequire);
  EvalOptions replay;
  replay.enforce_requires = false;
  EvalResult lenient = evaluate(rs, event(EventType::kOrderPaid, "e1", 0), facts, replay);
  CHECK(lenient.ok);
  REQUIRE(lenient.would_fail.size() == 1);
  CHECK(lenient.would_fail[0].text() == "rule r (line 4): never");
  CHECK(lenient.postings.size() == 2);
}

// ---- SPEC section 9 under the default policy -------------------------------------------------

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Lines : TraceSink {
  std::vector<std::string> lines;
  void line(int depth, std::string text) override { lines.push_back(std::string(2 * depth, ' ') + text); }
  bool has(const std::string& needle) const {
    for (const auto& l : lines) {
      if (l.find(needle) != std::string::npos) return true;
    }
    return false;
  }
};

class Section9 {
 public:
  Section9() : rs_(compile(read_file(std::string(FZ_SOURCE_DIR_DEFAULT) + "/rules/taobao-live.rules"))) {}

  void order(const char* id, const char* net, bool eligible, std::int64_t rate_ppm = 200'000) {
    facts_.clear();
    using F = OrderField;
    set_s(EntityKind::kOrder, F::kId, id);
    set_s(EntityKind::kOrder, F::kMerchant, "m1");
    set_s(EntityKind::kOrder, F::kStreamer, "s1");
    facts_.set_i(EntityKind::kOrder, static_cast<int>(F::kNet), fen(net));
    facts_.set_i(EntityKind::kOrder, static_cast<int>(F::kRate), rate_ppm);  // default 20%
    facts_.set_i(EntityKind::kOrder, static_cast<int>(F::kConfirmed), 1);
    facts_.set_i(EntityKind::kOrder, static_cast<int>(F::kEligible), eligible);
    agency(true);
  }
  void agency(bool active) {
    facts_.set_s(EntityKind::kAgency, static_cast<int>(AgencyField::kId), "a1");
    facts_.set_i(EntityKind::kAgency, static_cast<int>(AgencyField::kActive), active);
    facts_.set_s(EntityKind::kStreamer, static_cast<int>(StreamerField::kId), "s1");
    facts_.set_s(EntityKind::kStreamer, static_cast<int>(StreamerField::kAgency), "a1");
  }
  template <class F>
  void set_s(EntityKind kind, F field, const char* value) {
    facts_.set_s(kind, static_cast<int>(field), value);
  }
  EvalResult run(EventType type, const char* id, const char* when,
                 std::vector<std::pair<std::string, FieldValue>> f = {}, TraceSink* trace = nullptr) {
    EvalOptions options;
    options.trace = trace;
    EvalResult r = evaluate(rs_, event(type, id, at(when), std::move(f)), facts_, options);
    if (r.ok) facts_.apply(r);
    return r;
  }
  FakeFacts& facts() { return facts_; }

 private:
  Ruleset rs_;
  FakeFacts facts_;
};

TEST_CASE("SPEC section 9 with the default policy") {
  Section9 s;
  const TimeUs nov20 = at("2026-11-20T00:00:00+08:00");

  // 1. o1: not eligible -> no postings, and the trace says why.
  s.order("o1", "199.00", false);
  Lines trace;
  EvalResult r1 =
      s.run(EventType::kOrderConfirmed, "c-o1", "2026-10-09T12:00:00+08:00", {{"order", str("o1")}}, &trace);
  check_postings(r1, {});
  CHECK(trace.has("rule cps (line 58): not fired: when true and false is false"));

  // 2. o2 confirmed 10-10: 59.80 -> 11.96 / 47.84, available 2026-11-20.
  s.order("o2", "299.00", true);
  Lines trace2;
  EvalResult r2 =
      s.run(EventType::kOrderConfirmed, "c-o2", "2026-10-10T12:00:00+08:00", {{"order", str("o2")}}, &trace2);
  check_postings(
      r2, {{"@merchant:m1:cps", "-59.80"}, {"@agency:a1:cps", "11.96"}, {"@streamer:s1:cps", "47.84"}});
  for (const auto& p : r2.postings) {
    CHECK(p.available_from_us == nov20);
    CHECK(p.rule == "cps");
    CHECK(p.target_key == "cps/o2");
  }
  CHECK(trace2.has("let commission = round(299.00 × 20%) = 59.80"));

  // 3. o3: 100.01 -> 20.002 -> 20.00 -> 4.00 / 16.00.
  s.order("o3", "100.01", true);
  Lines trace3;
  EvalResult r3 =
      s.run(EventType::kOrderConfirmed, "c-o3", "2026-10-12T12:00:00+08:00", {{"order", str("o3")}}, &trace3);
  CHECK(trace3.has("round: 20.002 -> 20.00 (rounded half away from zero)"));
  CHECK(trace3.has("let commission = round(100.01 × 20%) = 20.00"));
  CHECK(trace3.has("20% of 20.00 = 4.00 -> 4.00 to @agency:a1:cps"));
  CHECK(trace3.has("post @streamer:s1:cps +16.00 available 2026-11-20T00:00:00+08:00"));
  CHECK(
      trace3.has("target \"cps/o3\": previous (none); new @merchant:m1:cps -20.00, @agency:a1:cps 4.00, "
                 "@streamer:s1:cps 16.00"));
  check_postings(r3,
                 {{"@merchant:m1:cps", "-20.00"}, {"@agency:a1:cps", "4.00"}, {"@streamer:s1:cps", "16.00"}});

  // 5. s1 withdraws 40.00 from CPS at 11-21: available 63.84; fee 5.00; 35.00 paid out.
  s.facts().clear();
  s.set_s(EntityKind::kParty, PartyField::kKind, "streamer");
  s.set_s(EntityKind::kParty, PartyField::kId, "s1");
  s.facts().set_i(EntityKind::kParty, static_cast<int>(PartyField::kPayoutVerified), 1);
  CHECK(s.facts().available("@streamer:s1:cps", at("2026-11-21T10:00:00+08:00")) == fen("63.84"));
  const std::vector<std::pair<std::string, FieldValue>> w40 = {
      {"party", str("streamer:s1")}, {"source", str("cps")}, {"amount", num(fen("40.00"))}};
  EvalResult r5 = s.run(EventType::kWithdrawalRequested, "w1", "2026-11-21T10:00:00+08:00", w40);
  check_postings(r5, {{"@streamer:s1:cps", "-5.00"},
                      {"@platform:fees", "5.00"},
                      {"@streamer:s1:cps", "-35.00"},
                      {"@payout:streamer:s1", "35.00"}});
  // Too much, and an unverified account, are rejected with the rule's message.
  const std::vector<std::pair<std::string, FieldValue>> w30 = {
      {"party", str("streamer:s1")}, {"source", str("cps")}, {"amount", num(fen("30.00"))}};
  EvalResult too_much = s.run(EventType::kWithdrawalRequested, "w2", "2026-11-21T11:00:00+08:00", w30);
  CHECK_FALSE(too_much.ok);
  CHECK(too_much.failure.kind == EvalFailure::Kind::kRequire);
  CHECK(too_much.failure.message == "not enough available balance for this withdrawal");
  s.facts().set_i(EntityKind::kParty, static_cast<int>(PartyField::kPayoutVerified), 0);
  EvalResult unverified = s.run(EventType::kWithdrawalRequested, "w3", "2026-11-21T11:00:00+08:00", w40);
  CHECK_FALSE(unverified.ok);
  CHECK(unverified.failure.message == "withdrawal needs a verified Alipay account bound to the party");

  // 4. Refund of 100.00 on o2 at 11-25: net 199.00 -> 39.80 -> deltas -4.00 / -16.00, available 12-20.
  s.order("o2", "199.00", true);
  EvalResult r4 = s.run(EventType::kOrderRefunded, "r-o2", "2026-11-25T12:00:00+08:00",
                        {{"order", str("o2")}, {"amount", num(fen("100.00"))}, {"case", str("k1")}});
  check_postings(
      r4, {{"@merchant:m1:cps", "20.00"}, {"@agency:a1:cps", "-4.00"}, {"@streamer:s1:cps", "-16.00"}});
  for (const auto& p : r4.postings) CHECK(p.available_from_us == at("2026-12-20T00:00:00+08:00"));

  // 6. V-task t1 confirmed 11-11T10:00 inside double11: 2000.00 fee, 8000.00 to a1, 4000.00 on to s1.
  s.facts().clear();
  s.agency(true);
  s.set_s(EntityKind::kTask, TaskField::kId, "t1");
  s.set_s(EntityKind::kTask, TaskField::kMerchant, "m2");
  s.set_s(EntityKind::kTask, TaskField::kStreamer, "s1");
  s.facts().set_i(EntityKind::kTask, static_cast<int>(TaskField::kPrice), fen("10000.00"));
  EvalResult r6 = s.run(EventType::kVtaskConfirmed, "v1", "2026-11-11T10:00:00+08:00", {{"task", str("t1")}});
  check_postings(r6, {{"@merchant:m2:vtask", "-2000.00"},
                      {"@platform:fees", "2000.00"},
                      {"@merchant:m2:vtask", "-8000.00"},
                      {"@agency:a1:vtask", "8000.00"},
                      {"@agency:a1:vtask", "-4000.00"},
                      {"@streamer:s1:vtask", "4000.00"}});
  // Outside the campaign (its end is exclusive) no fee is charged.
  EvalResult r7 = s.run(EventType::kVtaskConfirmed, "v2", "2026-11-12T00:00:00+08:00", {{"task", str("t1")}});
  check_postings(r7, {{"@merchant:m2:vtask", "-10000.00"},
                      {"@agency:a1:vtask", "10000.00"},
                      {"@agency:a1:vtask", "-5000.00"},
                      {"@streamer:s1:vtask", "5000.00"}});
  // An unsigned streamer is paid directly.
  s.facts().set_s(EntityKind::kAgency, static_cast<int>(AgencyField::kId), "");
  EvalResult r8 = s.run(EventType::kVtaskConfirmed, "v3", "2026-11-13T00:00:00+08:00", {{"task", str("t1")}});
  check_postings(r8, {{"@merchant:m2:vtask", "-10000.00"}, {"@streamer:s1:vtask", "10000.00"}});
}

TEST_CASE("a commission that fits although net x rate numerator does not (issue 7)") {
  // 100000000000.01 at 99.9999%: exactly 9999990000000.999999 fen, whose reduced numerator
  // 9999990000000999999 passes int64; the commission round(...) = 9999990000001 fen fits easily.
  Section9 s;
  s.order("o1", "100000000000.01", true, 999'999);
  Lines trace;
  EvalResult r =
      s.run(EventType::kOrderConfirmed, "c-o1", "2026-10-10T12:00:00+08:00", {{"order", str("o1")}}, &trace);
  INFO(r.failure.text());
  REQUIRE(r.ok);
  CHECK(trace.has("round: 99999900000.00999999 -> 99999900000.01 (rounded half away from zero)"));
  CHECK(trace.has("let commission = round(100000000000.01 × 99.9999%) = 99999900000.01"));
  CHECK(trace.has("20% of 99999900000.01 = 19999980000.002 -> 19999980000.00 to @agency:a1:cps"));
  CHECK(
      trace.has("80% of 99999900000.01 = 79999920000.008 -> 79999920000.01 (got a leftover fen) to "
                "@streamer:s1:cps"));
  check_postings(r, {{"@merchant:m1:cps", "-99999900000.01"},
                     {"@agency:a1:cps", "19999980000.00"},
                     {"@streamer:s1:cps", "79999920000.01"}});

  // What really overflows is still refused: INT64_MAX fen at 150% is exact in 128 bits, but the rounded
  // commission does not fit in int64.
  Section9 big;
  big.order("o2", "92233720368547758.07", true, 1'500'000);
  EvalResult over =
      big.run(EventType::kOrderConfirmed, "c-o2", "2026-10-10T12:00:00+08:00", {{"order", str("o2")}});
  CHECK_FALSE(over.ok);
  CHECK(over.failure.text() == "rule cps (line 59): overflow in round(138350580552821637.105)");
  CHECK(over.postings.empty());
}

TEST_CASE("an inactive agency leaves all CPS commission to the streamer") {
  Section9 s;
  s.order("o9", "299.00", true);
  s.agency(false);
  EvalResult r =
      s.run(EventType::kOrderConfirmed, "c-o9", "2026-10-10T12:00:00+08:00", {{"order", str("o9")}});
  check_postings(r, {{"@merchant:m1:cps", "-59.80"}, {"@streamer:s1:cps", "59.80"}});
}

TEST_CASE("ruleset metadata") {
  const Ruleset rs = compile(read_file(std::string(FZ_SOURCE_DIR_DEFAULT) + "/rules/taobao-live.rules"));
  const RulesetInfo& info = rs.info();
  CHECK(info.name == "taobao_live");
  CHECK(info.version == 1);
  CHECK(info.effective_us == at("2026-01-01T00:00:00+08:00"));
  CHECK(info.timezone == 8 * 3600);
  CHECK(info.settlement_day == 20);
  CHECK(info.contract_lag_us == 14 * kUsPerDay);
  REQUIRE(info.campaigns.size() == 1);
  CHECK(info.campaigns[0].from_us == at("2026-10-20T20:00:00+08:00"));
  CHECK(info.campaigns[0].to_us == at("2026-11-12T00:00:00+08:00"));
  CHECK(info.rules.size() == 3);
  CHECK(rs.listens_to(EventType::kOrderConfirmed));
  CHECK_FALSE(rs.listens_to(EventType::kOrderPaid));
  CHECK(summary_line(info) == "ok: taobao_live v1, 3 rules, 1 table, 1 campaign");
}

TEST_CASE("timezone given after effective still makes local dates local") {
  const Ruleset rs = compile("ruleset t version 2 effective 2026-03-01\nset timezone = \"-05:00\"\n");
  CHECK(rs.info().effective_us == at("2026-03-01T00:00:00-05:00"));
  CHECK(summary_line(rs.info()) == "ok: t v2, 0 rules, 0 tables, 0 campaigns");
}

}  // namespace
}  // namespace fz::dsl
