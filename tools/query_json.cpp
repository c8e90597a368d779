#include "tools/query_json.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/money.hpp"
#include "engine/rebuild.hpp"
#include "engine/versions.hpp"
#include "model/event_json.hpp"
#include "store/codec.hpp"
#include "store/verify.hpp"
#include "tools/cli.hpp"
#include "tools/posting_json.hpp"

namespace fz::cli {

Result<TimeUs> parse_query_time(const std::string& text) {
  int y = 0, m = 0, d = 0;
  char tail = 0;
  if (text.size() == 10 && std::sscanf(text.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3) {
    TimeUs t = 0;
    if (civil_to_us(y, m, d, 0, 0, 0, 0, kDefaultOffsetSec, &t)) return t;
    return make_error(fmt::format("\"{}\" is not a valid date", text));
  }
  return parse_rfc3339(text);
}

OffsetSec display_offset(const Ledger& ledger) {
  // The latest published version's timezone; until rules are published, the default +08:00.
  auto versions = engine::load_versions(ledger, ledger.head_seq());
  if (!versions || versions->empty()) return kDefaultOffsetSec;
  return versions->all().back().rules.info().timezone;
}

boost::json::object balance_json(const Ledger& ledger, const std::vector<engine::BalanceRow>& rows,
                                 std::optional<TimeUs> at) {
  boost::json::array accounts;
  for (const auto& r : rows) {
    accounts.push_back(boost::json::object{{"account", r.account},
                                           {"total", format_money(r.total_fen)},
                                           {"available", format_money(r.available_fen)},
                                           {"pending", format_money(r.pending_fen())}});
  }
  return boost::json::object{
      {"head", boost::json::object{{"seq", ledger.head_seq()}, {"hash", hash_hex(ledger.head_hash())}}},
      {"at", at ? boost::json::value(format_time(*at)) : boost::json::value(nullptr)},
      {"accounts", std::move(accounts)}};
}

std::string journal_jsonl(const std::vector<engine::Posting>& rows, OffsetSec tz) {
  std::string out;
  for (const engine::Posting& p : rows) {
    out += boost::json::serialize(posting_json(p, tz));
    out += '\n';
  }
  return out;
}

std::vector<TargetRow> target_rows(const engine::TargetChange& c) {
  std::vector<TargetRow> rows;
  for (const auto* a : {&c.previous, &c.next}) {
    for (const auto& [account, _] : a->parts) {
      if (std::any_of(rows.begin(), rows.end(), [&](const TargetRow& r) { return r.account == account; }))
        continue;
      const Fen before = c.previous.get(account), after = c.next.get(account);
      // The engine refuses an event whose target delta does not fit (dsl/eval.cpp), so this cannot throw.
      rows.push_back(TargetRow{account, before, after, sub_fen(after, before).value()});
    }
  }
  return rows;
}

namespace {

boost::json::array target_json(const engine::TargetChange& c) {
  boost::json::array accounts;
  for (const TargetRow& r : target_rows(c)) {
    accounts.push_back(boost::json::object{{"account", r.account},
                                           {"previous", format_money(r.previous_fen)},
                                           {"new", format_money(r.new_fen)},
                                           {"delta", format_money(r.delta_fen)}});
  }
  return accounts;
}

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

boost::json::object explain_json(const engine::Explanation& x) {
  const OffsetSec tz = x.timezone;
  boost::json::object o;
  o["seq"] = x.seq;
  o["hash"] = x.hash_hex;
  o["event"] = boost::json::parse(event_to_json(x.event, tz));
  o["terms_time"] = format_time(x.terms_time, tz);
  o["terms_time_from"] = x.terms_reason;
  if (x.version_seq) {
    o["version"] = boost::json::object{{"ruleset", x.version_name},
                                       {"version", x.version},
                                       {"effective", format_time(x.version_effective, tz)},
                                       {"published_seq", *x.version_seq},
                                       {"why", x.version_reason}};
  } else {
    o["version"] = nullptr;
    o["version_why"] = x.version_reason;
  }
  boost::json::array others;
  for (const auto& s : x.other_versions) others.push_back(boost::json::string(s));
  o["other_versions"] = std::move(others);
  if (x.eligible) {
    o["eligible"] = *x.eligible;
    o["why_ineligible"] =
        x.eligible.value() ? boost::json::value(nullptr) : boost::json::value(x.why_ineligible);
  }
  boost::json::array trace;
  for (const auto& t : x.trace) trace.push_back(boost::json::object{{"depth", t.depth}, {"text", t.text}});
  o["trace"] = std::move(trace);
  boost::json::array targets;
  for (const auto& c : x.targets) {
    targets.push_back(boost::json::object{
        {"key", c.key}, {"new_key", c.previous.parts.empty()}, {"accounts", target_json(c)}});
  }
  o["targets"] = std::move(targets);
  boost::json::array postings;
  for (const auto& p : x.postings) postings.push_back(posting_json(p, tz));
  o["postings"] = std::move(postings);
  return o;
}

boost::json::object statement_json(const engine::Statement& st) {
  const OffsetSec tz = st.timezone;
  boost::json::array lines;
  for (const auto& l : st.lines) {
    lines.push_back(boost::json::object{{"seq", l.seq},
                                        {"event", l.event_id},
                                        {"at", format_time(l.event_at, tz)},
                                        {"kind", l.kind},
                                        {"ref", l.ref},
                                        {"account", l.account},
                                        {"amount", format_money(l.amount_fen)},
                                        {"available_at", format_time(l.available_at, tz)}});
  }
  boost::json::object totals;
  for (const auto& [k, v] : st.totals) totals[k] = format_money(v);
  return boost::json::object{
      {"party", st.party},
      {"month", st.month},
      {"opening", format_money(st.opening_fen)},
      {"lines", std::move(lines)},
      {"totals", std::move(totals)},
      {"closing", format_money(st.closing_fen)},
      {"settlement_day", format_time(st.settlement_day, tz)},
      {"available_on_settlement_day", format_money(st.available_on_settlement_day_fen)}};
}

boost::json::object publish_json(const engine::PublishReport& r) {
  boost::json::array issues, diffs;
  for (const auto& i : r.issues) {
    issues.push_back(boost::json::object{{"seq", i.seq}, {"event", i.event_id}, {"message", i.message}});
  }
  for (const auto& d : r.differences) {
    diffs.push_back(boost::json::object{{"account", d.account},
                                        {"total", format_money(d.total_fen)},
                                        {"new_total", format_money(d.whatif_total_fen)},
                                        {"available", format_money(d.available_fen)},
                                        {"new_available", format_money(d.whatif_available_fen)}});
  }
  return boost::json::object{
      {"ruleset", r.name},
      {"version", r.version},
      {"effective", format_time(r.effective_us, r.timezone)},
      {"seq", r.written || r.duplicate ? boost::json::value(r.seq) : boost::json::value()},
      {"sha256", r.sha256},
      {"duplicate", r.duplicate},
      {"written", r.written},
      {"refused", r.refused},
      {"reevaluated", r.reevaluated},
      {"differences", std::move(diffs)},
      {"would_fail", std::move(issues)},
      {"would_fail_count", r.issue_count}};
}

boost::json::object rejection_json(const LineRejection& r) {
  return boost::json::object{{"file", r.file}, {"line", r.line}, {"id", r.id}, {"reason", r.reason}};
}

boost::json::object append_json(const AppendReport& report, boost::json::array rejections,
                                const std::vector<std::string>& notes, bool show_skipped) {
  boost::json::array n;
  for (auto& s : notes) n.push_back(boost::json::string(s));
  boost::json::object o{{"appended", report.appended},
                        {"duplicates", report.duplicates},
                        {"rejected", report.rejected},
                        {"rejections", std::move(rejections)},
                        {"notes", std::move(n)}};
  if (show_skipped) o["skipped"] = report.skipped;
  return o;
}

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

boost::json::object verify_json(const Ledger& ledger, const std::optional<format::Hash>& expected,
                                const std::string& expected_text, bool* ok) {
  auto report = verify_log(ledger, expected ? &*expected : nullptr);
  if (report && expected && !report->expected_head_seq) {
    report = make_corruption_error(fmt::format(
        "the hash chain never reaches the expected head {} (its {} events end at {}): an event at or before "
        "that head was changed, removed or reordered, or the hash belongs to another ledger",
        expected_text, report->events, hash_hex(report->head)));
  }
  format::Hash digest{};
  if (report) {
    if (Status s = verify_projection(ledger, &digest); !s.ok()) report = s.error();
  }
  *ok = static_cast<bool>(report);
  if (!report) return boost::json::object{{"ok", false}, {"error", report.message()}};
  boost::json::object o{{"ok", true},
                        {"events", report->events},
                        {"head", hash_hex(report->head)},
                        {"projection", hash_hex(digest)}};
  if (expected) o["expected_head_seq"] = *report->expected_head_seq;
  // Only when it differs: a checkpoint behind the log (the usual output keeps its keys).
  if (ledger.head_seq() < report->events) o["projection_seq"] = ledger.head_seq();
  return o;
}

}  // namespace fz::cli
