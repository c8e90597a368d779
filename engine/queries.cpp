#include "engine/queries.hpp"

#include <fmt/format.h>
#include <fnmatch.h>

#include <algorithm>
#include <memory>

#include "core/rational.hpp"
#include "engine/account_book.hpp"
#include "engine/book.hpp"
#include "engine/projection_format.hpp"

namespace fz::engine {
namespace {

// Sums an account's journal entries of events at or before `at`.
Status sum_journal(const Ledger& ledger, const std::string& account, TimeUs at, BalanceRow* row, bool* any) {
  return for_each_journal_entry(ledger, account, [&](const JournalEntry& e) -> Status {
    if (e.event_at > at) return Status::Ok();
    *any = true;
    row->total_fen += e.amount_fen;
    if (e.available_at <= at) row->available_fen += e.amount_fen;
    return Status::Ok();
  });
}

// What is available now: the total less the schedule entries later than now (read from the end of the
// schedule, so only the pending entries are read).
Status available_now(ProjectionCursor& it, const std::string& account, TimeUs now_us, BalanceRow* row) {
  const std::string prefix = pformat::schedule_prefix(account);
  Int128 later = 0;
  if (now_us == INT64_MAX) {
    row->available_fen = row->total_fen;
    return Status::Ok();
  }
  for (it.seek(pformat::schedule_key(account, now_us + 1)); it.valid_in(prefix); it.next()) {
    Fen v = 0;
    if (!decode_fen_value(it.value(), &v)) {
      return make_error(
          fmt::format("availability schedule of {} is malformed; run 'fenzhang verify'", account));
    }
    later += v;
  }
  FZ_TRY(it.status("cannot read balances"));
  row->available_fen = static_cast<Fen>(Int128{row->total_fen} - later);
  return Status::Ok();
}

}  // namespace

namespace {

bool has_glob(const std::string& p) {
  return p.find_first_of("*?[") != std::string::npos;
}

Status read_postings(const Ledger& ledger, std::uint64_t seq, std::vector<Posting>* out) {
  std::string v;
  auto found = ledger.get(Family::kPostings, format::seq_key(seq), &v);
  out->clear();
  if (!found) return with_context(found.error(), fmt::format("cannot read the postings of seq {}", seq));
  if (!*found) return Status::Ok();
  if (!decode_postings(v, out))
    return make_error(fmt::format("postings of seq {} are malformed; run 'fenzhang verify'", seq));
  return Status::Ok();
}

// (seq, index) of every posting to the accounts matching the pattern, in log order.
Result<std::vector<std::pair<std::uint64_t, std::uint16_t>>> indexed_postings(const Ledger& ledger,
                                                                              const std::string& pattern) {
  std::vector<std::string> accounts;
  if (!has_glob(pattern)) {
    accounts.push_back(pattern);
  } else {
    ProjectionCursor it = ledger.cursor(Family::kAccounts);
    const std::string prefix(1, pformat::kSummary);
    for (it.seek(prefix); it.valid_in(prefix); it.next()) {
      std::string account(it.key().substr(1));
      if (glob_match(pattern, account)) accounts.push_back(std::move(account));
    }
    FZ_TRY(it.status("cannot read accounts"));
  }
  std::vector<std::pair<std::uint64_t, std::uint16_t>> refs;
  for (const std::string& account : accounts) {
    FZ_TRY(for_each_journal_entry(ledger, account, [&](const JournalEntry& e) -> Status {
      refs.emplace_back(e.seq, e.index);
      return Status::Ok();
    }));
  }
  std::sort(refs.begin(), refs.end());
  return refs;
}

bool keep(const Posting& p, const JournalFilter& f) {
  if (f.from && p.event_at < *f.from) return false;
  if (f.to && p.event_at > *f.to) return false;
  if (f.rule && p.rule != *f.rule) return false;
  if (!f.account_pattern.empty() && !glob_match(f.account_pattern, p.account)) return false;
  return true;
}

}  // namespace

Result<std::vector<Posting>> journal(const Ledger& ledger, const JournalFilter& f) {
  FZ_TRY(check_projection_current(ledger));
  std::vector<Posting> out, ps;
  if (f.event) {
    auto seq = ledger.seq_of(*f.event);
    if (!seq) return seq.error();
    if (!seq->has_value()) return make_error(fmt::format("no event {} in the ledger", *f.event));
    FZ_TRY(read_postings(ledger, **seq, &ps));
    for (Posting& p : ps) {
      if (keep(p, f)) out.push_back(std::move(p));
    }
    return out;
  }
  if (!f.account_pattern.empty()) {
    auto refs = indexed_postings(ledger, f.account_pattern);
    if (!refs) return refs.error();
    std::uint64_t loaded = 0;
    for (const auto& [seq, index] : *refs) {
      if (seq != loaded) {
        FZ_TRY(read_postings(ledger, seq, &ps));
        loaded = seq;
      }
      if (index < ps.size() && keep(ps[index], f)) out.push_back(ps[index]);
    }
    return out;
  }
  ProjectionCursor it = ledger.cursor(Family::kPostings);
  for (it.seek_to_first(); it.valid(); it.next()) {
    if (!decode_postings(it.value(), &ps))
      return make_error("stored postings are malformed; run 'fenzhang verify'");
    for (Posting& p : ps) {
      if (keep(p, f)) out.push_back(std::move(p));
    }
  }
  FZ_TRY(it.status("cannot read postings"));
  return out;
}

bool glob_match(const std::string& pattern, const std::string& text) {
  if (pattern.empty()) return true;
  return ::fnmatch(pattern.c_str(), text.c_str(), 0) == 0;
}

std::string glob_literal(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '*' || c == '?' || c == '[' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string party_accounts_glob(std::string_view party) {
  return "@" + glob_literal(party) + ":*";
}

Result<std::uint64_t> read_projection_head(const Ledger& ledger) {
  std::string v;
  auto found = ledger.get(Family::kMeta, pformat::kProjectionHead, &v);
  if (!found) return with_context(found.error(), "cannot read the projection head");
  if (!*found) return std::uint64_t{0};
  std::uint64_t head = 0;
  if (!format::parse_seq_key(v, &head))
    return make_error("the projection head is malformed; run 'fenzhang verify'");
  return head;
}

Status check_projection_current(const Ledger& ledger) {
  auto read = read_projection_head(ledger);
  if (!read) return read.error();
  const std::uint64_t head = *read;
  if (head != ledger.head_seq()) {
    return make_error(
        fmt::format("the projection covers events 1..{} of {}: a rebuild was interrupted; run "
                    "'fenzhang replay' to finish it",
                    head, ledger.head_seq()));
  }
  return Status::Ok();
}

Result<std::vector<BalanceRow>> balances(const Ledger& ledger, const std::string& pattern,
                                         std::optional<TimeUs> at, TimeUs now_us, bool scratch) {
  if (!scratch) FZ_TRY(check_projection_current(ledger));
  std::vector<BalanceRow> rows;
  ProjectionCursor it = ledger.cursor(Family::kAccounts);
  ProjectionCursor schedule = ledger.cursor(Family::kAccounts);
  const std::string prefix(1, pformat::kSummary);
  // One account without a glob: a point lookup, not a walk over every account.
  const bool exact = !has_glob(pattern) && !pattern.empty();
  for (it.seek(exact ? pformat::summary_key(pattern) : prefix); it.valid_in(prefix); it.next()) {
    const std::string account(it.key().substr(1));
    if (exact && account != pattern) break;
    if (!glob_match(pattern, account)) continue;
    BalanceRow row{account, 0, 0};
    if (at) {
      bool any = false;
      FZ_TRY(sum_journal(ledger, account, *at, &row, &any));
      if (!any) continue;
    } else {
      if (!decode_fen_value(it.value(), &row.total_fen)) {
        return make_error(fmt::format("balance of {} is malformed; run 'fenzhang verify'", account));
      }
      FZ_TRY(available_now(schedule, account, now_us, &row));
    }
    rows.push_back(std::move(row));
    if (exact) break;
  }
  FZ_TRY(it.status("cannot read balances"));
  return rows;
}

}  // namespace fz::engine
