// `fenzhang export beancount` (SPEC section 10): the books as a beancount file. The account mapping
// and the decisions are in docs/exports.md.
#include <fmt/format.h>

#include <map>

#include "engine/queries.hpp"
#include "export/export.hpp"
#include "model/event.hpp"

namespace fz::exports {
namespace {

std::string_view root_of(std::string_view kind) {
  if (kind == "streamer" || kind == "agency") return "Liabilities";
  if (kind == "merchant") return "Assets";
  if (kind == "platform") return "Income";
  if (kind == "payout") return "Expenses";
  return "Equity";
}

// A beancount component: [A-Z0-9][A-Za-z0-9-]*.
std::string component(std::string_view segment) {
  std::string out;
  for (char c : segment) out += (c == '_' || c == '.') ? '-' : c;
  if (out.empty() || out[0] == '-') out.insert(0, "X");
  if (out[0] >= 'a' && out[0] <= 'z') out[0] = static_cast<char>(out[0] - 'a' + 'A');
  return out;
}

// A beancount string: backslash and double quote escaped.
std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string local_date(TimeUs t, OffsetSec offset) {
  return format_time(t, offset).substr(0, 10);
}

struct Transaction {
  std::uint64_t seq = 0;
  std::vector<engine::Posting> postings;
};

// Postings grouped by event, in log order; events after *at left out.
Result<std::vector<Transaction>> transactions(const Ledger& ledger, std::optional<TimeUs> at) {
  engine::JournalFilter filter;
  filter.to = at;
  auto postings = engine::journal(ledger, filter);
  if (!postings) return postings.error();
  std::vector<Transaction> out;
  for (engine::Posting& p : *postings) {
    if (out.empty() || out.back().seq != p.seq) out.push_back(Transaction{p.seq, {}});
    out.back().postings.push_back(std::move(p));
  }
  return out;
}

// Each beancount account with the date it opens (its first transaction's); an error when two fenzhang
// accounts map to one name.
Result<std::map<std::string, std::string>> open_dates(const std::vector<Transaction>& txns,
                                                      OffsetSec offset) {
  std::map<std::string, std::string> first_date, source;
  for (const Transaction& t : txns) {
    for (const engine::Posting& p : t.postings) {
      const std::string name = beancount_account(p.account);
      auto [it, fresh] = source.emplace(name, p.account);
      if (!fresh && it->second != p.account) {
        return make_error(fmt::format("accounts {} and {} both map to the beancount account {}", it->second,
                                      p.account, name));
      }
      const std::string date = local_date(p.event_at, offset);
      auto [d, added] = first_date.emplace(name, date);
      if (!added && date < d->second) d->second = date;
    }
  }
  return first_date;
}

void write_transaction(const Transaction& t, std::string_view type, OffsetSec offset, std::ostream& out) {
  const engine::Posting& first = t.postings.front();
  out << fmt::format("{} * {}\n", local_date(first.event_at, offset),
                     quoted(fmt::format("{} {}", type, first.event_id)));
  out << fmt::format("  event: {}\n  seq: {}\n  type: {}\n  at: {}\n", quoted(first.event_id), t.seq,
                     quoted(type), quoted(format_time(first.event_at, offset)));
  for (const engine::Posting& p : t.postings) {
    out << fmt::format("  {}  {} CNY\n", beancount_account(p.account), format_money(p.amount_fen));
    out << fmt::format("    rule: {}\n", quoted(p.rule));
    if (p.line != 0) out << fmt::format("    line: {}\n", p.line);
    out << fmt::format("    available: {}\n", quoted(format_time(p.available_at, offset)));
    if (!p.key.empty()) out << fmt::format("    key: {}\n", quoted(p.key));
  }
  out << '\n';
}

}  // namespace

std::string beancount_account(std::string_view account) {
  if (account.starts_with('@')) account.remove_prefix(1);
  std::string out(root_of(account.substr(0, account.find(':'))));
  for (std::size_t start = 0;;) {
    const std::size_t colon = account.find(':', start);
    out += ':';
    out += component(account.substr(start, colon == std::string_view::npos ? colon : colon - start));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  return out;
}

Status write_beancount(const Ledger& ledger, std::optional<TimeUs> at, OffsetSec offset, std::ostream& out) {
  auto txns = transactions(ledger, at);
  if (!txns) return txns.error();
  auto opens = open_dates(*txns, offset);
  if (!opens) return opens.error();
  out << fmt::format("; fenzhang export beancount: {} events with postings, head seq {}{}\n", txns->size(),
                     ledger.head_seq(), at ? ", at " + format_time(*at, offset) : "");
  out << "option \"title\" \"fenzhang ledger\"\noption \"operating_currency\" \"CNY\"\n\n";
  for (const auto& [name, date] : *opens) out << fmt::format("{} open {} CNY\n", date, name);
  out << '\n';
  for (const Transaction& t : *txns) {
    auto stored = ledger.read(t.seq);
    if (!stored) return stored.error();
    write_transaction(t, spec_of(stored->event.type).name, offset, out);
  }
  out.flush();
  if (!out) return make_error("cannot write the output");
  return {};
}

}  // namespace fz::exports
