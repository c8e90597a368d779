#include "engine/queries.hpp"

#include <fmt/format.h>
#include <fnmatch.h>

#include <memory>

#include "engine/book.hpp"
#include "engine/projection_format.hpp"

namespace fz::engine {
namespace {

std::string_view view(const rocksdb::Slice& s) {
  return std::string_view(s.data(), s.size());
}

// Sums an account's journal entries of events at or before `at`.
Status sum_journal(const Ledger& ledger, const std::string& account, TimeUs at, BalanceRow* row, bool* any) {
  const std::string prefix = pformat::journal_prefix(account);
  std::unique_ptr<rocksdb::Iterator> it(
      ledger.db()->NewIterator(rocksdb::ReadOptions(), ledger.cf(Cf::kAccounts)));
  for (it->Seek(prefix); it->Valid() && view(it->key()).starts_with(prefix); it->Next()) {
    bytes::ByteReader r(view(it->value()));
    Fen amount = 0;
    TimeUs available = 0, event_at = 0;
    if (!r.svar(&amount) || !r.svar(&available) || !r.svar(&event_at)) {
      return make_error(fmt::format("journal entry of {} is malformed; run 'fenzhang verify'", account));
    }
    if (event_at > at) continue;
    *any = true;
    row->total_fen += amount;
    if (available <= at) row->available_fen += amount;
  }
  if (!it->status().ok()) return make_error("cannot read the journal: " + it->status().ToString());
  return Status::Ok();
}

}  // namespace

bool glob_match(const std::string& pattern, const std::string& text) {
  if (pattern.empty()) return true;
  return ::fnmatch(pattern.c_str(), text.c_str(), 0) == 0;
}

Status check_projection_current(const Ledger& ledger) {
  std::string v;
  const rocksdb::Status s = ledger.db()->Get(rocksdb::ReadOptions(), ledger.cf(Cf::kMeta),
                                             std::string(pformat::kProjectionHead), &v);
  std::uint64_t head = 0;
  if (s.ok() && !format::parse_seq_key(v, &head)) return make_error("projection head is malformed");
  if (!s.ok() && !s.IsNotFound()) return make_error("cannot read the projection head: " + s.ToString());
  if (head != ledger.head_seq()) {
    return make_error(
        fmt::format("the projection covers events 1..{} of {}: a rebuild was interrupted; run "
                    "'fenzhang replay' to finish it",
                    head, ledger.head_seq()));
  }
  return Status::Ok();
}

Result<std::vector<BalanceRow>> balances(const Ledger& ledger, const std::string& pattern,
                                         std::optional<TimeUs> at, TimeUs now_us) {
  FZ_TRY(check_projection_current(ledger));
  std::vector<BalanceRow> rows;
  std::unique_ptr<rocksdb::Iterator> it(
      ledger.db()->NewIterator(rocksdb::ReadOptions(), ledger.cf(Cf::kAccounts)));
  const std::string prefix(1, pformat::kSummary);
  for (it->Seek(prefix); it->Valid() && view(it->key()).starts_with(prefix); it->Next()) {
    const std::string account(view(it->key()).substr(1));
    if (!glob_match(pattern, account)) continue;
    BalanceRow row{account, 0, 0};
    if (at) {
      bool any = false;
      FZ_TRY(sum_journal(ledger, account, *at, &row, &any));
      if (!any) continue;
    } else {
      AccountSummary s;
      if (!decode(view(it->value()), &s)) {
        return make_error(fmt::format("balance of {} is malformed; run 'fenzhang verify'", account));
      }
      row.total_fen = s.total_fen;
      row.available_fen = s.available_at(now_us);
    }
    rows.push_back(std::move(row));
  }
  if (!it->status().ok()) return make_error("cannot read balances: " + it->status().ToString());
  return rows;
}

}  // namespace fz::engine
