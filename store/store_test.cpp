// Tests of the event store: validation messages, the codec, idempotency, --atomic, the lock,
// reopening, and verify's detection of damage written straight through RocksDB.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include <algorithm>
#include <sstream>

#include "model/event_json.hpp"
#include "store/appender.hpp"
#include "store/codec.hpp"
#include "store/ledger.hpp"
#include "store/verify.hpp"
#include "tests/test_util.hpp"
#include "tools/append_job.hpp"

using namespace fz;
using fz::test::TempDir;

namespace {

// One valid line of every type that may be appended.
const char* const kValidLines[] = {
    R"({"id":"e1","type":"agency.contracted","at":"2026-09-01T10:00:00+08:00","agency":"a1"})",
    R"({"id":"e2","type":"streamer.signed","at":"2026-09-02T10:00:00+08:00","streamer":"s1","agency":"a1"})",
    R"({"id":"e3","type":"streamer.released","at":"2026-12-02T10:00:00+08:00","streamer":"s1"})",
    R"({"id":"e4","type":"payout.bound","at":"2026-09-03T10:00:00+08:00","party":"streamer:s1","alipay":"s1@alipay","verified":true})",
    R"({"id":"e5","type":"plan.created","at":"2026-10-05T15:00:00+08:00","plan":"p1","merchant":"m1","kind":"directed","rate":"20%","approval":"manual"})",
    R"({"id":"e6","type":"plan.created","at":"2026-10-05T15:00:00+08:00","plan":"p2","merchant":"m1","kind":"general","rate":"4.125%"})",
    R"({"id":"e7","type":"plan.applied","at":"2026-10-05T16:00:00+08:00","plan":"p1","streamer":"s1"})",
    R"({"id":"e8","type":"plan.approved","at":"2026-10-05T18:00:00+08:00","plan":"p1","streamer":"s1"})",
    R"({"id":"e9","type":"plan.rejected","at":"2026-10-05T18:00:00+08:00","plan":"p1","streamer":"s2"})",
    R"({"id":"e10","type":"order.paid","at":"2026-10-06T09:00:00+08:00","order":"o2","merchant":"m1","streamer":"s1","plan":"p1","amount":"299.00","via_link":true,"meta":{"channel":"live","room":"r9"}})",
    R"({"id":"e11","type":"order.confirmed","at":"2026-10-10T09:00:00+08:00","order":"o2"})",
    R"({"id":"e12","type":"order.refunded","at":"2026-11-25T09:00:00+08:00","order":"o2","amount":"100","case":"c1"})",
    R"({"id":"e13","type":"vtask.created","at":"2026-11-01T09:00:00+08:00","task":"t1","merchant":"m2","streamer":"s1","kind":"showcase","price":"10000.00"})",
    R"({"id":"e14","type":"vtask.confirmed","at":"2026-11-11T10:00:00+08:00","task":"t1"})",
    R"({"id":"e15","type":"vtask.cancelled","at":"2026-11-11T10:00:00+08:00","task":"t2"})",
    R"({"id":"e16","type":"withdrawal.requested","at":"2026-11-21T10:00:00+08:00","party":"streamer:s1","source":"cps","amount":"40.00"})",
    R"({"id":"e17","type":"adjustment","at":"2026-11-21T10:00:00+08:00","from":"@platform:fees","to":"@agency:a1:cps","amount":"1.50","reason":"goodwill"})",
};

std::string rejection_of(std::string_view line) {
  LineResult r = parse_event_line(line);
  REQUIRE_FALSE(r.event.has_value());
  return r.id + ": " + r.reason;
}

AppendReport append_text(Ledger& ledger, const std::string& text,
                         std::vector<LineRejection>* rejections = nullptr, bool atomic = false) {
  std::istringstream in(text);
  AppendOptions opts;
  opts.atomic = atomic;
  auto r = run_append(ledger, nullptr, {{"in.jsonl", &in}}, opts, [&](const LineRejection& lr) {
    if (rejections != nullptr) rejections->push_back(lr);
  });
  REQUIRE(r.ok());
  return *r;
}

std::string all_valid() {
  std::string s;
  for (const char* l : kValidLines) s += std::string(l) + "\n";
  return s;
}

}  // namespace

TEST_CASE("every valid line decodes, and encode/decode/encode is byte-identical") {
  for (const char* line : kValidLines) {
    CAPTURE(line);
    LineResult r = parse_event_line(line);
    REQUIRE_MESSAGE(r.event.has_value(), r.reason);
    const std::string bytes = encode_event(*r.event);
    auto back = decode_event(bytes);
    REQUIRE(back.ok());
    CHECK(*back == *r.event);
    CHECK(encode_event(*back) == bytes);
    // The canonical JSON parses back to the same event.
    LineResult again = parse_event_line(event_to_json(*r.event));
    REQUIRE(again.event.has_value());
    CHECK(encode_event(*again.event) == bytes);
  }
  // rules.published cannot come from a line, but must round-trip through the codec.
  Event pub;
  pub.id = "rules/taobao_live/v1";
  pub.type = EventType::kRulesPublished;
  pub.at_us = 1;
  pub.fields = {FieldValue{true, 0, "taobao_live"}, FieldValue{true, 1, ""}, FieldValue{true, -5, ""},
                FieldValue{true, 0, std::string(64, 'a')}, FieldValue{true, 0, "ruleset x version 1"}};
  const std::string bytes = encode_event(pub);
  CHECK(encode_event(decode_event(bytes).value()) == bytes);
}

TEST_CASE("an event built in code is taken as a line only when the line parser would give it back") {
  // accepted_as_line is how an import skips the JSON round trip: whenever it says yes, parsing the
  // event's line must accept it and return that very event; where it cannot be sure it says no.
  auto round_trips = [](const Event& e) {
    LineResult r = parse_event_line(event_to_json(e));
    return r.event.has_value() && *r.event == e;
  };
  std::size_t taken = 0;
  for (const char* line : kValidLines) {
    CAPTURE(line);
    LineResult r = parse_event_line(line);
    REQUIRE(r.event.has_value());
    if (accepted_as_line(*r.event)) {
      ++taken;
      CHECK(round_trips(*r.event));
    }
  }
  CHECK(taken > 5);
  Event paid =
      parse_event_line(
          R"({"id":"p1","type":"order.paid","at":"2026-10-06T09:00:00+08:00","order":"o1","merchant":"m1",)"
          R"("streamer":"s1","plan":"g1","amount":"199.00","via_link":true,"meta":{"item":"x"}})")
          .event.value();
  REQUIRE(accepted_as_line(paid));
  auto refused = [&](const std::function<void(Event&)>& change) {
    Event e = paid;
    change(e);
    return !accepted_as_line(e);
  };
  // What the line parser refuses, or would not give back unchanged.
  CHECK(refused([](Event& e) { e.id = "has space"; }));
  CHECK(refused([](Event& e) { e.fields[fields::kOrder.index].s = std::string(129, 'o'); }));
  CHECK(refused([](Event& e) { e.fields[fields::order_paid::kAmount.index].i = 0; }));
  CHECK(refused([](Event& e) { e.fields[fields::order_paid::kViaLink.index].i = 2; }));
  CHECK(refused([](Event& e) { e.fields[fields::order_paid::kViaLink.index].s = "x"; }));
  CHECK(refused([](Event& e) { e.fields[fields::order_paid::kMerchant.index].present = false; }));
  CHECK(refused([](Event& e) { e.fields.pop_back(); }));
  CHECK(refused([](Event& e) { e.at_us = -70'000'000'000'000'000; }));
  CHECK(refused([](Event& e) { e.meta = {{"z", "1"}, {"a", "2"}}; }));  // not sorted
  CHECK(refused([](Event& e) { e.meta = {{"a", "1"}, {"a", "2"}}; }));  // a repeated key
  CHECK(refused([](Event& e) { e.meta = {{"a", "\xff"}}; }));           // not UTF-8
  // Past the line limit once each control byte is written as \u0001.
  Event long_meta = paid;
  long_meta.meta = {{"item", std::string(12000, '\x01')}};
  CHECK_FALSE(parse_event_line(event_to_json(long_meta)).event.has_value());
  CHECK_FALSE(accepted_as_line(long_meta));
  // Control characters that fit are taken, and come back from the line unchanged.
  Event controls = paid;
  controls.meta = {{"item", "tab\tnewline\nbell\x07"}};
  CHECK(accepted_as_line(controls));
  CHECK(round_trips(controls));
}

TEST_CASE("decode refuses damaged or non-canonical records") {
  LineResult r = parse_event_line(kValidLines[9]);
  const std::string bytes = encode_event(*r.event);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::string bad = bytes;
    bad[i] = static_cast<char>(bad[i] ^ 0x20);
    CHECK_FALSE(decode_event(bad).ok());
  }
  CHECK(decode_event(bytes.substr(0, bytes.size() - 1)).message() == "record checksum mismatch");
  CHECK_FALSE(decode_event("").ok());
}

TEST_CASE("money, percent, time and ids keep their canonical value whatever the spelling") {
  auto a = parse_event_line(
      R"({"id":"x","type":"order.paid","at":"2026-10-06T09:00:00+08:00","order":"o","merchant":"m","streamer":"s","plan":"p","amount":"299","via_link":false})");
  auto b = parse_event_line(
      R"({ "via_link" : false, "amount":"299.00","plan":"p","streamer":"s","merchant":"m","order":"o","at":"2026-10-06T01:00:00Z","type":"order.paid","id":"x" })");
  REQUIRE(a.event.has_value());
  REQUIRE(b.event.has_value());
  CHECK(encode_event(*a.event) == encode_event(*b.event));
}

TEST_CASE("malformed lines are rejected with a reason naming the field") {
  const std::string paid =
      R"("type":"order.paid","at":"2026-10-06T09:00:00+08:00","order":"o2","merchant":"m1","streamer":"s1","plan":"p1","via_link":true)";
  struct Case {
    std::string line;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"not json", "-: not valid JSON: syntax error at byte 1"},
      {"[1,2]", "-: not a JSON object"},
      {R"({"id":"x","type":"agency.contracted","at":"2026-09-01T10:00:00+08:00","agency":"a1")",
       "-: not valid JSON: incomplete JSON at byte 84"},
      {R"({"type":"agency.contracted","at":"2026-09-01T10:00:00+08:00","agency":"a1"})", "-: id: missing"},
      {R"({"id":7,"type":"agency.contracted","at":"2026-09-01T10:00:00+08:00","agency":"a1"})",
       "-: id: expected a string, got a number"},
      {R"({"id":"a b","type":"agency.contracted","at":"2026-09-01T10:00:00+08:00","agency":"a1"})",
       "-: id: contains a space at position 2; identifiers are printable ASCII without spaces"},
      {R"({"id":"a:b","type":"agency.contracted","at":"2026-09-01T10:00:00+08:00","agency":"a1"})",
       "-: id: \"a:b\" contains ':', which identifiers may not"},
      {R"({"id":"","type":"agency.contracted","at":"2026-09-01T10:00:00+08:00","agency":"a1"})",
       "-: id: is empty; identifiers have 1-128 characters"},
      {R"({"id":"x\u0001","type":"agency.contracted","at":"2026-09-01T10:00:00+08:00","agency":"a1"})",
       "-: id: contains byte 0x01 at position 2; identifiers are printable ASCII without spaces"},
      {R"({"id":"x","at":"2026-09-01T10:00:00+08:00","agency":"a1"})", "x: type: missing"},
      {R"({"id":"x","type":"agency.hired","at":"2026-09-01T10:00:00+08:00","agency":"a1"})",
       "x: type: unknown event type \"agency.hired\""},
      {R"({"id":"x","type":"rules.published","at":"2026-09-01T10:00:00+08:00"})",
       "x: type: rules.published events are written only by 'fenzhang rules publish'"},
      {R"({"id":"x","type":"agency.contracted","agency":"a1"})", "x: at: missing"},
      {R"({"id":"x","type":"agency.contracted","at":"2026-09-01T10:00:00","agency":"a1"})",
       "x: at: \"2026-09-01T10:00:00\" is not an RFC 3339 time with offset such as "
       "\"2026-10-05T15:00:00+08:00\" "
       "(missing UTC offset)"},
      {R"({"id":"x","type":"agency.contracted","at":"2026-02-30T10:00:00Z","agency":"a1"})",
       "x: at: \"2026-02-30T10:00:00Z\" is not an RFC 3339 time with offset such as "
       "\"2026-10-05T15:00:00+08:00\" "
       "(a date or time field is out of range)"},
      {R"({"id":"x","type":"agency.contracted","at":1790000000,"agency":"a1"})",
       "x: at: expected a string, got a number"},
      {R"({"id":"x","type":"agency.contracted","at":"2026-09-01T10:00:00+08:00"})", "x: agency: missing"},
      {R"({"id":"x","type":"agency.contracted","at":"2026-09-01T10:00:00+08:00","agency":"a1","colour":"red"})",
       "x: colour: unknown field for agency.contracted"},
      {R"({"id":"x","type":"agency.contracted","at":"2026-09-01T10:00:00+08:00","agency":"a1","agency":"a2"})",
       "x: agency: appears twice"},
      {R"({"id":"x","type":"agency.contracted","at":"2026-09-01T10:00:00+08:00","agency":"a1","meta":["a"]})",
       "x: meta: expected an object of strings, got an array"},
      {R"({"id":"x","type":"agency.contracted","at":"2026-09-01T10:00:00+08:00","agency":"a1","meta":{"n":1}})",
       "x: meta.n: expected a string, got a number"},
      {R"({"id":"x","type":"agency.contracted","at":"2026-09-01T10:00:00+08:00","agency":"a1","meta":{"n":"1","n":"2"}})",
       "x: meta.n: appears twice"},
      {R"({"id":"x",)" + paid + R"(,"amount":"12.345"})", "x: amount: \"12.345\" has 3 decimals; at most 2"},
      {R"({"id":"x",)" + paid + R"(,"amount":299.0})",
       "x: amount: expected a string such as \"199.00\", got a number"},
      {R"({"id":"x",)" + paid + R"(,"amount":"1e3"})",
       "x: amount: \"1e3\" is not an amount such as \"199.00\""},
      {R"({"id":"x",)" + paid + R"(,"amount":"99999999999999999999"})",
       "x: amount: \"99999999999999999999\" is out of range"},
      {R"({"id":"x",)" + paid + R"(,"amount":"0.00"})", "x: amount: must be greater than 0, got \"0.00\""},
      {R"({"id":"x",)" + paid + R"(,"amount":"-5"})", "x: amount: must be greater than 0, got \"-5.00\""},
      {R"({"id":"x","type":"order.paid","at":"2026-10-06T09:00:00+08:00","order":"o2","merchant":"m1","streamer":"s1","plan":"p1","amount":"1","via_link":"yes"})",
       "x: via_link: expected true or false, got a string"},
      {R"({"id":"x","type":"plan.created","at":"2026-10-05T15:00:00+08:00","plan":"p1","merchant":"m1","kind":"special","rate":"20%"})",
       "x: kind: \"special\" is not one of general, directed"},
      {R"({"id":"x","type":"plan.created","at":"2026-10-05T15:00:00+08:00","plan":"p1","merchant":"m1","kind":"general","rate":"20"})",
       "x: rate: \"20\" is not a percentage such as \"20%\""},
      {R"({"id":"x","type":"plan.created","at":"2026-10-05T15:00:00+08:00","plan":"p1","merchant":"m1","kind":"general","rate":"1.23456%"})",
       "x: rate: \"1.23456%\" has 5 decimals; at most 4"},
      {R"({"id":"x","type":"plan.created","at":"2026-10-05T15:00:00+08:00","plan":"p1","merchant":"m1","kind":"general","rate":"20%","approval":"auto"})",
       "x: approval: must be absent for general plans"},
      {R"({"id":"x","type":"plan.created","at":"2026-10-05T15:00:00+08:00","plan":"p1","merchant":"m1","kind":"directed","rate":"20%"})",
       "x: approval: missing (directed plans need \"auto\" or \"manual\")"},
      {R"({"id":"x","type":"payout.bound","at":"2026-09-03T10:00:00+08:00","party":"merchant:m1","alipay":"a","verified":true})",
       "x: party: \"merchant:m1\" is not a party such as \"streamer:s1\" or \"agency:a1\""},
      {R"({"id":"x","type":"adjustment","at":"2026-11-21T10:00:00+08:00","from":"platform:fees","to":"@agency:a1","amount":"1","reason":"r"})",
       "x: from: \"platform:fees\" is not an account such as \"@agency:a1:cps\""},
      {R"({"id":"x","type":"adjustment","at":"2026-11-21T10:00:00+08:00","from":"@a:b","to":"@a:b","amount":"1","reason":"r"})",
       "x: to: must differ from from (both @a:b)"},
      {R"({"id":"x","type":"adjustment","at":"2026-11-21T10:00:00+08:00","from":"@a:b","to":"@a:c","amount":"1","reason":""})",
       "x: reason: is empty"},
      {R"({"id":"x","type":"withdrawal.requested","at":"2026-11-21T10:00:00+08:00","party":"streamer:s1","source":"bank","amount":"1"})",
       "x: source: \"bank\" is not one of cps, vtask"},
      {std::string(kMaxEventLineBytes + 1, ' '), "-: line is 65537 bytes; an event line has at most 65536"},
      {"{\"id\":\"x\xff\",\"type\":\"agency.contracted\"}", "-: not valid UTF-8 at byte 9 (0xff)"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.line);
    CHECK(rejection_of(c.line) == c.expected);
  }
}

TEST_CASE("a rejected line leaves the ledger's head unchanged") {
  TempDir dir;
  auto ledger = Ledger::open(dir / "db", Ledger::Access::kWrite);
  REQUIRE(ledger.ok());
  append_text(**ledger, all_valid());
  const auto head = (*ledger)->head_hash();
  const auto seq = (*ledger)->head_seq();
  std::vector<LineRejection> rej;
  auto rep =
      append_text(**ledger,
                  "{\"id\":\"bad\",\"type\":\"order.paid\"}\n{\"id\":\"e1\",\"type\":\"agency.contracted\","
                  "\"at\":\"2026-09-01T10:00:00+08:00\",\"agency\":\"zz\"}\n",
                  &rej);
  CHECK(rep.appended == 0);
  CHECK(rep.rejected == 2);
  REQUIRE(rej.size() == 2);
  CHECK(rej[0].line == 1);
  CHECK(rej[0].reason == "at: missing");
  CHECK(rej[1].line == 2);
  CHECK(rej[1].reason == "conflict: id e1 already holds a different event (seq 1)");
  CHECK((*ledger)->head_hash() == head);
  CHECK((*ledger)->head_seq() == seq);
}

TEST_CASE("the same id: identical body with reordered keys is a duplicate, another body a conflict") {
  TempDir dir;
  auto ledger = Ledger::open(dir / "db", Ledger::Access::kWrite);
  REQUIRE(ledger.ok());
  auto first = append_text(**ledger, all_valid());
  CHECK(first.appended == std::size(kValidLines));
  CHECK(first.duplicates == 0);
  std::vector<LineRejection> rej;
  auto again = append_text(
      **ledger,
      R"({ "amount":"299","via_link":true,"plan":"p1","streamer":"s1","merchant":"m1","order":"o2","meta":{"room":"r9","channel":"live"},"at":"2026-10-06T01:00:00Z","type":"order.paid","id":"e10"})"
      "\n"
      R"({"id":"e10","type":"order.paid","at":"2026-10-06T09:00:00+08:00","order":"o2","merchant":"m1","streamer":"s1","plan":"p1","amount":"299.01","via_link":true,"meta":{"channel":"live","room":"r9"}})"
      "\n",
      &rej);
  CHECK(again.appended == 0);
  CHECK(again.duplicates == 1);
  CHECK(again.rejected == 1);
  REQUIRE(rej.size() == 1);
  CHECK(rej[0].reason == "conflict: id e10 already holds a different event (seq 10)");
}

TEST_CASE("--atomic appends a file all or nothing") {
  TempDir dir;
  auto ledger = Ledger::open(dir / "db", Ledger::Access::kWrite);
  REQUIRE(ledger.ok());
  const std::string bad = all_valid() + "{\"id\":\"broken\"}\n";
  auto rep = append_text(**ledger, bad, nullptr, /*atomic=*/true);
  CHECK(rep.appended == 0);
  CHECK(rep.rejected == 1);
  REQUIRE(rep.notes.size() == 1);
  CHECK(rep.notes[0] == "in.jsonl: nothing appended (--atomic): 1 line rejected");
  CHECK((*ledger)->head_seq() == 0);
  auto good = append_text(**ledger, all_valid(), nullptr, /*atomic=*/true);
  CHECK(good.appended == std::size(kValidLines));
  CHECK((*ledger)->head_seq() == std::size(kValidLines));
}

TEST_CASE("one writer: a second writer is refused, readers may open alongside") {
  TempDir dir;
  auto writer = Ledger::open(dir / "db", Ledger::Access::kWrite);
  REQUIRE(writer.ok());
  append_text(**writer, all_valid());
  auto second = Ledger::open(dir / "db", Ledger::Access::kWrite);
  REQUIRE_FALSE(second.ok());
  CHECK(second.message() ==
        fmt::format("ledger {} is locked by another fenzhang process (pid {})", dir / "db", ::getpid()));
  auto reader = Ledger::open(dir / "db", Ledger::Access::kRead);
  REQUIRE(reader.ok());
  CHECK((*reader)->head_seq() == std::size(kValidLines));
  CHECK((*reader)->head_hash() == (*writer)->head_hash());
  auto missing = Ledger::open(dir / "nothing-here", Ledger::Access::kRead);
  CHECK(missing.message() ==
        fmt::format("no ledger at {} (append events or publish rules to create one)", dir / "nothing-here"));
}

TEST_CASE("a reopened ledger keeps its events, index and head") {
  TempDir dir;
  format::Hash head{};
  {
    auto ledger = Ledger::open(dir / "db", Ledger::Access::kWrite);
    REQUIRE(ledger.ok());
    append_text(**ledger, all_valid());
    head = (*ledger)->head_hash();
  }
  auto ledger = Ledger::open(dir / "db", Ledger::Access::kWrite);
  REQUIRE(ledger.ok());
  CHECK((*ledger)->head_seq() == std::size(kValidLines));
  CHECK((*ledger)->head_hash() == head);
  auto seq = (*ledger)->seq_of("e10");
  REQUIRE(seq.ok());
  CHECK(seq->value() == 10);
  auto ev = (*ledger)->read(10);
  REQUIRE(ev.ok());
  CHECK(ev->event.id == "e10");
  auto report = verify_log(**ledger);
  REQUIRE(report.ok());
  CHECK(report->events == std::size(kValidLines));
  CHECK(report->head == head);
  // Appending continues the chain.
  auto more = append_text(
      **ledger, R"({"id":"e99","type":"agency.contracted","at":"2026-09-01T10:00:00+08:00","agency":"a9"})"
                "\n");
  CHECK(more.appended == 1);
  CHECK(verify_log(**ledger).ok());
}

namespace {

// Builds a ledger of the valid lines, lets `damage` change it through RocksDB, returns verify's message.
template <class F>
std::string verify_after(F damage) {
  TempDir dir;
  auto ledger = Ledger::open(dir / "db", Ledger::Access::kWrite);
  REQUIRE(ledger.ok());
  append_text(**ledger, all_valid());
  REQUIRE(verify_log(**ledger).ok());
  damage(**ledger);
  auto r = verify_log(**ledger);
  REQUIRE_FALSE(r.ok());
  return r.message();
}

void put_raw(Ledger& l, Cf cf, const std::string& key, const std::string& value) {
  rocksdb::WriteOptions wo;
  wo.sync = true;
  REQUIRE(fz::LedgerInternals::db(l)->Put(wo, fz::LedgerInternals::cf(l, cf), key, value).ok());
}

}  // namespace

TEST_CASE("verify reports the first bad sequence number after damage") {
  SUBCASE("a flipped byte in any position of a stored event") {
    for (std::size_t pos : {0, 1, 5, 20, 40}) {
      CAPTURE(pos);
      const std::string msg = verify_after([pos](Ledger& l) {
        std::string v = l.raw_event(7).value().value();
        v[pos % v.size()] = static_cast<char>(v[pos % v.size()] ^ 0x01);
        put_raw(l, Cf::kEvents, format::seq_key(7), v);
      });
      CHECK(msg.rfind("seq 7: ", 0) == 0);
    }
  }
  SUBCASE("a flipped byte in the stored hash") {
    const std::string msg = verify_after([](Ledger& l) {
      std::string v = l.raw_event(5).value().value();
      v.back() = static_cast<char>(v.back() ^ 0x80);
      put_raw(l, Cf::kEvents, format::seq_key(5), v);
    });
    CHECK(msg.rfind("seq 5: hash chain broken", 0) == 0);
  }
  SUBCASE("a deleted event") {
    const std::string msg = verify_after([](Ledger& l) {
      rocksdb::WriteOptions wo;
      REQUIRE(fz::LedgerInternals::db(l)
                  ->Delete(wo, fz::LedgerInternals::cf(l, Cf::kEvents), format::seq_key(4))
                  .ok());
    });
    CHECK(msg == "seq 4: missing: the log jumps from seq 3 to seq 5");
  }
  SUBCASE("the last event deleted") {
    const std::string msg = verify_after([](Ledger& l) {
      rocksdb::WriteOptions wo;
      REQUIRE(fz::LedgerInternals::db(l)
                  ->Delete(wo, fz::LedgerInternals::cf(l, Cf::kEvents), format::seq_key(17))
                  .ok());
    });
    CHECK(msg == "seq 17: the id index maps e17 to this seq, which holds no event");
  }
  SUBCASE("a swapped pair") {
    const std::string msg = verify_after([](Ledger& l) {
      const std::string a = l.raw_event(8).value().value();
      const std::string b = l.raw_event(9).value().value();
      put_raw(l, Cf::kEvents, format::seq_key(8), b);
      put_raw(l, Cf::kEvents, format::seq_key(9), a);
    });
    CHECK(msg.rfind("seq 8: hash chain broken", 0) == 0);
  }
  SUBCASE("an id index entry pointing elsewhere") {
    const std::string msg = verify_after([](Ledger& l) { put_raw(l, Cf::kIds, "e3", format::seq_key(2)); });
    CHECK(msg == "seq 3: the id index maps e3 to seq 2, not to this event");
  }
  SUBCASE("an extra id index entry") {
    const std::string msg =
        verify_after([](Ledger& l) { put_raw(l, Cf::kIds, "ghost", format::seq_key(6)); });
    CHECK(msg == "seq 6: the id index maps ghost to this seq, which holds e6");
  }
}

TEST_CASE("an input that repeats itself across chunks and batches appends each event once") {
  TempDir dir;
  auto ledger = Ledger::open(dir / "db", Ledger::Access::kWrite);
  REQUIRE(ledger.ok());
  std::string once;
  for (int n = 0; n < 6000; ++n) {
    once +=
        fmt::format(
            R"({{"id":"c{}","type":"agency.contracted","at":"2026-09-01T10:00:00+08:00","agency":"a{}"}})", n,
            n) +
        "\n";
  }
  // 18,000 lines: more than four parsing chunks and several synced batches, so each later copy of an
  // event meets the earlier one staged, in flight or durable.
  std::istringstream in(once + once + once);
  AppendOptions opts;
  opts.batch_events = 500;
  auto r = run_append(**ledger, nullptr, {{"in.jsonl", &in}}, opts, [](const LineRejection&) {});
  REQUIRE(r.ok());
  CHECK(r->appended == 6000);
  CHECK(r->duplicates == 12000);
  CHECK((*ledger)->head_seq() == 6000);
}

// The projection seam (store/projection_store.hpp): what the engine writes lands in the family it names,
// reads back through get and cursors in key order, and a batch made for one ledger never writes another.
TEST_CASE("a projection batch writes its families atomically and only into the ledger it was made for") {
  TempDir dir;
  auto a = Ledger::open(dir / "a", Ledger::Access::kScratch);
  auto b = Ledger::open(dir / "b", Ledger::Access::kScratch);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  ProjectionBatch batch(**a);
  batch.put(Family::kAccounts, "Sy", "2");  // keys as the engine's: a kind byte, then the name
  batch.put(Family::kAccounts, "Sx", "1");
  batch.put(Family::kTargets, "Sx", "target");
  batch.erase(Family::kAccounts, "Sy");
  CHECK(batch.count() == 4);

  const Status wrong = (*b)->write(batch);
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.message().find("another") != std::string::npos);
  std::string value;
  CHECK_FALSE((*b)->get(Family::kAccounts, "Sx", &value).value());

  REQUIRE((*a)->write(batch).ok());
  CHECK((*a)->get(Family::kAccounts, "Sx", &value).value());
  CHECK(value == "1");
  CHECK_FALSE((*a)->get(Family::kAccounts, "Sy", &value).value());  // put, then erased in the same batch
  CHECK((*a)->get(Family::kTargets, "Sx", &value).value());
  CHECK(value == "target");
  CHECK_FALSE((*a)->get(Family::kEntities, "Sx", &value).value());

  // A checkpoint (ingested table files), then a rebuild's start: every key of a family gone, and a range
  // of meta keys.
  ProjectionBatch more(**a);
  more.put(Family::kAccounts, "Sa", "0");
  more.put(Family::kAccounts, "Sz", "9");
  more.put(Family::kMeta, "version/1", "");
  more.put(Family::kMeta, "version/2", "");
  more.put(Family::kMeta, "w", "kept");
  REQUIRE((*a)->write_projection(more).ok());
  auto keys = [&](Family family) {
    std::vector<std::string> out;
    ProjectionCursor it = (*a)->cursor(family);
    for (it.seek_to_first(); it.valid(); it.next()) out.emplace_back(it.key());
    REQUIRE(it.status("reading the projection").ok());
    return out;
  };
  CHECK(keys(Family::kAccounts) == std::vector<std::string>{"Sa", "Sx", "Sz"});
  ProjectionBatch clear(**a);
  clear.erase_all(Family::kAccounts);
  clear.erase_meta_range("version/", "version0");
  REQUIRE((*a)->write(clear).ok());
  CHECK(keys(Family::kAccounts).empty());
  CHECK(keys(Family::kTargets) == std::vector<std::string>{"Sx"});
  const std::vector<std::string> meta = keys(Family::kMeta);
  CHECK(std::find(meta.begin(), meta.end(), "w") != meta.end());
  CHECK(
      std::none_of(meta.begin(), meta.end(), [](const std::string& k) { return k.starts_with("version/"); }));
}

TEST_CASE("read-ahead lookups answer each key in the caller's order, duplicates and misses included") {
  fz::test::TempDir dir;
  auto ledger = Ledger::open(dir / "db", Ledger::Access::kWrite);
  REQUIRE(ledger.ok());
  const std::uint64_t before = (*ledger)->log_writes();
  append_text(**ledger, all_valid());
  CHECK((*ledger)->log_writes() > before);  // the batch moved the count
  const std::vector<std::string_view> ids = {"e3", "nope", "e1", "e3", "", "e17"};
  std::vector<std::optional<std::uint64_t>> seqs;
  REQUIRE((*ledger)->seqs_of_many(ids, &seqs).ok());
  REQUIRE(seqs.size() == ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    CAPTURE(ids[i]);
    const auto one = (*ledger)->seq_of(ids[i]);
    REQUIRE(one.ok());
    CHECK(seqs[i] == *one);
  }
  CHECK(seqs[0].has_value());
  CHECK(!seqs[1].has_value());
  CHECK(seqs[0] == seqs[3]);

  ProjectionBatch batch(**ledger);
  batch.put(Family::kEntities, "ob", "2");
  batch.put(Family::kEntities, "oa", "1");
  REQUIRE((*ledger)->write(batch).ok());
  const std::vector<std::string_view> keys = {"oz", "ob", "oa", "ob"};
  std::vector<std::optional<std::string>> values;
  REQUIRE((*ledger)->get_many(Family::kEntities, keys, &values).ok());
  REQUIRE(values.size() == 4);
  CHECK(!values[0].has_value());
  CHECK(values[1] == std::optional<std::string>("2"));
  CHECK(values[2] == std::optional<std::string>("1"));
  CHECK(values[3] == std::optional<std::string>("2"));
}
