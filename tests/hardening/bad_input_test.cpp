// Hostile input (issue 7): the bad event corpus in tests/data/bad_events.jsonl, and the cases that cannot
// be a committed line (10 MB lines, raw NUL bytes, broken UTF-8), go through the real append path
// (run_append with the engine attached) into a ledger that already holds events. Every line must be
// rejected with exactly the reason in tests/data/bad_events.expected, and nothing about the ledger may
// change: head, stored events, projection, verify.
#include <doctest/doctest.h>

#include "engine/queries.hpp"
#include "model/event_json.hpp"
#include "tests/hardening/hardening.hpp"

using namespace fz;
using namespace fz::hardening;
using fz::test::TempDir;

namespace {

std::vector<std::string> rendered(const std::vector<LineRejection>& rejections) {
  std::vector<std::string> out;
  for (const LineRejection& r : rejections) out.push_back(fmt::format("{}: {}: {}", r.line, r.id, r.reason));
  return out;
}

// Feeds `text` to a ledger holding the base events; checks the rejections against `expected` (one
// "LINE: ID: reason" per line) and that the ledger is exactly as before.
void check_all_rejected(const std::string& text, const std::vector<std::string>& expected) {
  TempDir dir;
  auto ledger = Ledger::open(dir / "db", Ledger::Access::kWrite);
  REQUIRE(ledger.ok());
  append_ok(**ledger, base_text());
  const Snapshot before = snapshot(**ledger);
  REQUIRE(before.head_seq == std::size(kBaseEvents));

  AppendOutcome o = append(**ledger, text, "bad_events.jsonl");
  REQUIRE_MESSAGE(o.report.ok(), o.report.message());
  CHECK(o.report->appended == 0);
  CHECK(o.report->duplicates == 0);
  CHECK(o.report->rejected == expected.size());
  const std::vector<std::string> got = rendered(o.rejections);
  for (std::size_t i = 0; i < std::max(got.size(), expected.size()); ++i) {
    CAPTURE(i);
    REQUIRE(i < got.size());
    REQUIRE(i < expected.size());
    CHECK(got[i] == expected[i]);
  }
  CHECK(snapshot(**ledger) == before);
  Status s = verify_all(**ledger);
  CHECK_MESSAGE(s.ok(), s.message());

  // And after a reopen, as the next `fenzhang` process would see it.
  ledger = make_error("closed");
  auto again = Ledger::open(dir / "db", Ledger::Access::kRead);
  REQUIRE(again.ok());
  CHECK(snapshot(**again) == before);
}

}  // namespace

TEST_CASE("the bad event corpus: every line rejected with its exact reason, the ledger unchanged") {
  const std::string data = fz::test::source_dir() + "/tests/data/";
  const std::string corpus = read_file(data + "bad_events.jsonl");
  const std::vector<std::string> expected = split_lines(read_file(data + "bad_events.expected"));
  const std::vector<std::string> lines = split_lines(corpus);
  REQUIRE(lines.size() >= 200);
  REQUIRE(expected.size() == lines.size());  // one case per line, none blank
  for (std::size_t i = 0; i < expected.size(); ++i) {
    REQUIRE(expected[i].starts_with(fmt::format("{}: ", i + 1)));
  }
  check_all_rejected(corpus, expected);
  MESSAGE("bad event corpus: " << lines.size() << " lines");
}

TEST_CASE("each corpus line alone is rejected by parse_event_line or by the store with the same reason") {
  // The same reasons without the append machinery: a line that parses must be one of the conflicts
  // with the base events, which only the store can see.
  const std::string data = fz::test::source_dir() + "/tests/data/";
  const std::vector<std::string> lines = split_lines(read_file(data + "bad_events.jsonl"));
  const std::vector<std::string> expected = split_lines(read_file(data + "bad_events.expected"));
  REQUIRE(lines.size() == expected.size());
  std::size_t conflicts = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    CAPTURE(i + 1);
    LineResult r = parse_event_line(lines[i]);
    if (r.event.has_value()) {
      CHECK(expected[i].find(": conflict: id base-") != std::string::npos);
      ++conflicts;
      continue;
    }
    CHECK(fmt::format("{}: {}: {}", i + 1, r.id, r.reason) == expected[i]);
  }
  CHECK(conflicts == 4);
}

TEST_CASE("lines that cannot be committed as text: 10 MB, NUL bytes, broken UTF-8") {
  const std::string head =
      R"({"id":"g","type":"agency.contracted","at":"2026-09-01T10:00:00+08:00","agency":"a1")";
  std::string nul_in_string = head + R"(,"meta":{"k":"a)" + std::string(1, '\0') + R"(b"}})";
  std::string nul_between = R"({"id":"g",)" + std::string(1, '\0') + R"("type":"agency.contracted"})";
  const std::string ten_mb_meta = head + R"(,"meta":{"pad":")" + std::string(10 << 20, 'x') + R"("}})";
  struct Case {
    std::string line;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {ten_mb_meta, fmt::format("-: line is {} bytes; an event line has at most 65536", ten_mb_meta.size())},
      {std::string(10 << 20, '{'), "-: line is 10485760 bytes; an event line has at most 65536"},
      {nul_in_string, "-: not valid JSON: control character 0x00 at byte 99 (write it as \\u0000)"},
      {nul_between, "-: not valid JSON: control character 0x00 at byte 11 (write it as \\u0000)"},
      {std::string(1, '\0'), "-: not valid JSON: control character 0x00 at byte 1 (write it as \\u0000)"},
      {std::string(3, '\0') + "{}",
       "-: not valid JSON: control character 0x00 at byte 1 (write it as \\u0000)"},
      {head + R"(,"meta":{"k":")"
              "\x1b"
              R"([2J"}})",
       "-: not valid JSON: control character 0x1b at byte 98 (write it as \\u001b)"},
      // Broken UTF-8: a stray continuation byte, bytes that never occur, an overlong '/', a UTF-16
      // surrogate, a code point above U+10FFFF, a character cut short inside a string and at the end.
      {R"({"id":"g)"
       "\x80"
       R"("})",
       "-: not valid UTF-8 at byte 9 (0x80)"},
      {R"({"id":"g)"
       "\xff"
       R"("})",
       "-: not valid UTF-8 at byte 9 (0xff)"},
      {R"({"id":"g)"
       "\xf5\x80\x80\x80"
       R"("})",
       "-: not valid UTF-8 at byte 9 (0xf5)"},
      {R"({"id":"g)"
       "\xc0\xaf"
       R"("})",
       "-: not valid UTF-8 at byte 9 (0xc0)"},
      {R"({"id":"g)"
       "\xe0\x80\xaf"
       R"("})",
       "-: not valid UTF-8 at byte 9 (0xe0)"},
      {R"({"id":"g)"
       "\xed\xa0\x80"
       R"("})",
       "-: not valid UTF-8 at byte 9 (0xed)"},
      {R"({"id":"g)"
       "\xf4\x90\x80\x80"
       R"("})",
       "-: not valid UTF-8 at byte 9 (0xf4)"},
      {head + R"(,"meta":{"k":")"
              "\xe4\xb8"
              R"("}})",
       "-: not valid UTF-8 at byte 98 (0xe4)"},
      {head + R"(,"meta":{"k":")"
              "\xe4",
       "-: not valid UTF-8 at byte 98 (0xe4)"},
      {head + R"(,"meta":{"k":"ok )"
              "\xe4\xb8\xad"
              R"("},"x":")"
              "\xc3",
       "-: not valid UTF-8 at byte 112 (0xc3)"},
      // One byte over the line limit is refused before anything else looks at the line.
      {std::string(kMaxEventLineBytes, ' ') + "x", "-: line is 65537 bytes; an event line has at most 65536"},
  };
  std::string text;
  std::vector<std::string> expected;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    text += cases[i].line + "\n";
    expected.push_back(fmt::format("{}: {}", i + 1, cases[i].reason));
  }
  check_all_rejected(text, expected);
}

TEST_CASE("values at the limits are accepted exactly, one past them is not") {
  TempDir dir;
  auto ledger = Ledger::open(dir / "db", Ledger::Access::kWrite);
  REQUIRE(ledger.ok());
  append_ok(**ledger, base_text());
  const std::string id128(128, 'i');
  // An event line of exactly 64 KiB.
  std::string line64k =
      R"({"id":"pad","type":"agency.contracted","at":"2026-09-04T10:00:00+08:00","agency":"a2","meta":{"pad":")";
  const std::string tail = R"("}})";
  line64k += std::string(kMaxEventLineBytes - line64k.size() - tail.size(), 'p') + tail;
  REQUIRE(line64k.size() == kMaxEventLineBytes);
  const std::string account256 = "@x:" + std::string(kMaxAccountBytes - 3, 'a');
  append_ok(
      **ledger,
      fmt::format(
          R"({{"id":"{}","type":"order.paid","at":"2026-10-06T09:00:00.999999+08:00","order":"{}","merchant":"m1","streamer":"s1","plan":"p1","amount":"92233720368547758.07","via_link":false}})"
          "\n"
          R"({{"id":"lim-2","type":"adjustment","at":"0001-01-02T00:00:00+00:00","from":"{}","to":"@y:b","amount":"92233720368547758.07","reason":"at the limit"}})"
          "\n{}\n",
          id128, id128, account256, line64k));
  CHECK((*ledger)->head_seq() == std::size(kBaseEvents) + 3);
  auto paid = (*ledger)->read((*ledger)->head_seq() - 2);
  REQUIRE(paid.ok());
  CHECK(paid->event.id == id128);
  CHECK(paid->event.number(fields::order_paid::kAmount) == INT64_MAX);
  // The same account again would overflow its balance: the engine refuses, nothing changes.
  const Snapshot before = snapshot(**ledger);
  AppendOutcome o = append(
      **ledger,
      R"({"id":"lim-3","type":"adjustment","at":"2026-10-06T09:00:00+08:00","from":"@z:c","to":"@y:b","amount":"0.01","reason":"one fen too many"})"
      "\n");
  REQUIRE(o.report.ok());
  REQUIRE(o.rejections.size() == 1);
  CHECK(o.rejections[0].reason == "account @y:b would overflow");
  CHECK(snapshot(**ledger) == before);
  Status s = verify_all(**ledger);
  CHECK_MESSAGE(s.ok(), s.message());
}

TEST_CASE("times at the edges of the accepted range print and parse back in every offset") {
  const TimeUs first = parse_rfc3339("0001-01-02T00:00:00Z").value();
  const TimeUs last = parse_rfc3339("9999-12-30T23:59:59.999999Z").value();
  for (TimeUs t : {first, last}) {
    for (OffsetSec offset : {-(23 * 3600 + 59 * 60), 0, 8 * 3600, 23 * 3600 + 59 * 60}) {
      const std::string shown = format_time(t, offset);
      CAPTURE(shown);
      auto back = parse_rfc3339(shown);
      REQUIRE(back.ok());
      CHECK(*back == t);
    }
  }
  // One microsecond outside, in either direction, is refused.
  CHECK(parse_rfc3339("0001-01-01T23:59:59.999999Z").message() ==
        "\"0001-01-01T23:59:59.999999Z\" is not an RFC 3339 time with offset such as "
        "\"2026-10-05T15:00:00+08:00\" "
        "(outside 0001-01-02 to 9999-12-30 UTC)");
  CHECK_FALSE(parse_rfc3339("9999-12-31T00:00:00Z").ok());
}
