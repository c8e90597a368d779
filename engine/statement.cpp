#include "engine/statement.hpp"

#include <fmt/format.h>

#include <map>

#include "engine/queries.hpp"
#include "engine/versions.hpp"

namespace fz::engine {
namespace {

constexpr const char* kKinds[] = {"commission", "clawback",   "vtask", "fee",
                                  "withdrawal", "adjustment", "other"};

// What a posting to the party's account is, from its event and the other side of its statement.
std::string classify(const Posting& p, const Event& e, const std::vector<Posting>& same_event) {
  if (p.rule == "adjustment") return "adjustment";
  if (p.amount_fen < 0) {
    for (const Posting& q : same_event) {
      if (q.line != p.line || q.amount_fen <= 0) continue;
      if (q.account.starts_with("@platform:")) return "fee";
      if (q.account.starts_with("@payout:")) return "withdrawal";
    }
  }
  switch (e.type) {
    case EventType::kOrderConfirmed:
      return p.amount_fen >= 0 ? "commission" : "clawback";
    case EventType::kOrderRefunded:
      return "clawback";
    case EventType::kVtaskConfirmed:
    case EventType::kVtaskCancelled:
    case EventType::kVtaskCreated:
      return "vtask";
    case EventType::kWithdrawalRequested:
      return "withdrawal";
    default:
      return "other";
  }
}

std::string reference(const Event& e) {
  switch (e.type) {
    case EventType::kOrderPaid:
    case EventType::kOrderConfirmed:
      return e.text(fields::kOrder);
    case EventType::kOrderRefunded:
      return e.text(fields::kOrder) + "/" + e.text(fields::order_refunded::kCase);
    case EventType::kVtaskCreated:
    case EventType::kVtaskConfirmed:
    case EventType::kVtaskCancelled:
      return e.text(fields::kTask);
    default:
      return e.id;
  }
}

}  // namespace

Result<Statement> statement(const Ledger& ledger, const std::string& party, const std::string& month) {
  FZ_TRY(check_projection_current(ledger));
  const auto colon = party.find(':');
  if (colon == std::string::npos ||
      (party.compare(0, colon, "streamer") != 0 && party.compare(0, colon, "agency") != 0)) {
    return make_error(fmt::format("\"{}\" is not a party such as streamer:s1 or agency:a1", party));
  }
  Statement st;
  st.party = party;
  st.month = month;
  auto versions = load_versions(ledger, ledger.head_seq());
  if (!versions) return versions.error();
  int settlement_day = 20;
  if (!versions->empty()) {
    const auto& latest = versions->all().back().rules.info();
    st.timezone = latest.timezone;
    if (latest.settlement_day > 0) settlement_day = latest.settlement_day;
  }
  auto range = month_range(month, st.timezone);
  if (!range) return range.error();
  st.from_us = range->first;
  st.to_us = range->second;
  st.settlement_day_of_month = settlement_day;
  st.settlement_day = settlement_day_after(st.from_us, settlement_day, st.timezone);
  if (!in_supported_range(st.settlement_day)) {
    return make_error(fmt::format("month {} has no settlement day within the supported times ({})", month,
                                  kSupportedRange));
  }

  JournalFilter f;
  f.account_pattern = party_accounts_glob(party);
  auto postings = journal(ledger, f);
  if (!postings) return postings.error();
  std::map<std::string, Fen> totals;
  std::uint64_t loaded_seq = 0;
  Event loaded;
  std::vector<Posting> same_event;
  for (const Posting& p : *postings) {
    if (p.event_at < st.from_us) {
      st.opening_fen += p.amount_fen;
      continue;
    }
    if (p.event_at >= st.to_us) continue;
    if (p.seq != loaded_seq) {
      auto e = ledger.read(p.seq);
      if (!e) return e.error();
      loaded = e->event;
      JournalFilter ef;
      ef.event = loaded.id;
      auto all = journal(ledger, ef);
      if (!all) return all.error();
      same_event = std::move(*all);
      loaded_seq = p.seq;
    }
    StatementLine line{
        p.seq,     p.event_id,   p.event_at,    classify(p, loaded, same_event), reference(loaded),
        p.account, p.amount_fen, p.available_at};
    totals[line.kind] += p.amount_fen;
    st.lines.push_back(std::move(line));
  }
  st.closing_fen = st.opening_fen;
  for (const char* k : kKinds) {
    const Fen v = totals.count(k) ? totals[k] : 0;
    st.totals.emplace_back(k, v);
    st.closing_fen += v;
  }
  // Of everything up to the month's end, what is available on the settlement day.
  for (const Posting& p : *postings) {
    if (p.event_at < st.to_us && p.available_at <= st.settlement_day)
      st.available_on_settlement_day_fen += p.amount_fen;
  }
  return st;
}

}  // namespace fz::engine
