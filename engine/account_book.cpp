#include "engine/account_book.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <memory>

#include "core/rational.hpp"
#include "engine/projection_format.hpp"
#include "store/ledger.hpp"

namespace fz::engine {
Result<std::optional<AccountSummary>> load_account(const Ledger& ledger, const std::string& account) {
  std::string raw;
  auto found = ledger.get(Family::kAccounts, pformat::summary_key(account), &raw);
  if (!found) return with_context(found.error(), fmt::format("cannot read the balance of {}", account));
  if (!*found) return std::optional<AccountSummary>();
  AccountSummary summary;
  if (!decode_fen_value(raw, &summary.total_fen)) {
    return make_corruption_error(fmt::format("balance of {} is malformed; run 'fenzhang verify'", account));
  }
  const std::string prefix = pformat::schedule_prefix(account);
  ProjectionCursor it = ledger.cursor(Family::kAccounts);
  Int128 sum = 0;
  for (it.seek(prefix); it.valid_in(prefix); it.next()) {
    TimeUs at = 0;
    Fen amount = 0;
    if (!pformat::parse_time_key(it.key().substr(prefix.size()), &at) ||
        !decode_fen_value(it.value(), &amount)) {
      return make_corruption_error(
          fmt::format("availability schedule of {} is malformed; run 'fenzhang verify'", account));
    }
    summary.schedule.emplace_hint(summary.schedule.end(), at, amount);
    summary.magnitude += amount < 0 ? -Int128{amount} : Int128{amount};
    sum += amount;
  }
  if (!it.ok()) return it.status(fmt::format("cannot read the schedule of {}", account)).error();
  if (sum != summary.total_fen) {
    return make_corruption_error(
        fmt::format("the availability schedule of {} does not sum to its balance; run "
                    "'fenzhang verify'",
                    account));
  }
  return std::optional<AccountSummary>(std::move(summary));
}

Status for_each_journal_entry(const Ledger& ledger, const std::string& account,
                              const std::function<Status(const JournalEntry&)>& fn) {
  const std::string prefix = pformat::journal_prefix(account);
  ProjectionCursor it = ledger.cursor(Family::kAccounts);
  std::vector<JournalEntry> entries;
  for (it.seek(prefix); it.valid_in(prefix); it.next()) {
    std::uint64_t bucket = 0;
    if (!format::parse_seq_key(it.key().substr(prefix.size()), &bucket) ||
        bucket > UINT64_MAX / pformat::kJournalBucketSeqs ||
        !decode_journal_bucket(it.value(), bucket * pformat::kJournalBucketSeqs, &entries)) {
      return make_corruption_error(
          fmt::format("journal index of {} is malformed; run 'fenzhang verify'", account));
    }
    for (const JournalEntry& e : entries) FZ_TRY(fn(e));
  }
  if (!it.ok()) return it.status(fmt::format("cannot read the journal of {}", account));
  return Status::Ok();
}

void AccountBook::fail(std::string message) {
  if (io_error_.empty()) io_error_ = std::move(message);
}

std::optional<AccountSummary> AccountBook::load(const std::string& account) {
  if (ledger_ == nullptr) return std::nullopt;
  auto loaded = load_account(*ledger_, account);
  if (!loaded) {
    // Never treat an unreadable account as empty: the engine refuses the event and reports this.
    fail(loaded.message());
    return std::nullopt;
  }
  return std::move(*loaded);
}

AccountBook::Entry& AccountBook::entry(const std::string& account) {
  ++counters_.finds;
  auto it = accounts_.find(account);
  if (it == accounts_.end()) {
    ++counters_.loads;
    Entry e;
    e.summary = load(account);
    it = accounts_.emplace(account, std::move(e)).first;
  }
  return it->second;
}

const AccountSummary* AccountBook::find(const std::string& account) {
  Entry& e = entry(account);
  return e.summary ? &*e.summary : nullptr;
}

void AccountBook::journal_post(Entry& e, const std::string& account, std::uint64_t bucket,
                               const JournalEntry& entry) {
  if (!e.has_bucket || e.bucket != bucket) {
    // Sequence numbers only grow, so a newer bucket replaces the cached one for good.
    assert(!e.has_bucket || e.bucket < bucket);
    if (e.has_bucket && e.bucket_dirty) {
      full_buckets_.emplace_back(pformat::journal_bucket_key(account, e.bucket), std::move(e.bucket_value));
    }
    e.has_bucket = true;
    e.bucket_dirty = false;
    e.bucket = bucket;
    e.bucket_value.clear();
    if (ledger_ != nullptr && bucket * pformat::kJournalBucketSeqs <= stored_limit_) {
      ++counters_.bucket_gets;
      // The bucket may have been started by an earlier batch (a batch boundary inside 4096 events).
      auto found =
          ledger_->get(Family::kAccounts, pformat::journal_bucket_key(account, bucket), &e.bucket_value);
      if (!found) fail(fmt::format("cannot read the journal of {}: {}", account, found.message()));
      if (!found || !*found) e.bucket_value.clear();
    }
    if (e.bucket_value.empty()) e.bucket_value = empty_journal_bucket();
  }
  append_journal_entry(&e.bucket_value, bucket * pformat::kJournalBucketSeqs, entry);
  e.bucket_dirty = true;
}

void AccountBook::post(const Posting& p, std::uint16_t index) {
  Entry& e = entry(p.account);
  if (!e.summary) e.summary.emplace();
  e.summary->add(p.available_at, p.amount_fen);  // the engine checked it fits before accepting the event
  if (!e.dirty) {
    e.dirty = true;
    dirty_.push_back(p.account);
  }
  e.dirty_times.push_back(p.available_at);
  if (!journal_on_) return;
  journal_post(e, p.account, pformat::journal_bucket_of(p.seq),
               JournalEntry{p.seq, index, p.amount_fen, p.available_at, p.event_at});
}

void AccountBook::flush(ProjectionBatch& batch, KeyOrder order) {
  assert(inflight_.empty());
  // Collected and written in key order when the batch goes to a memtable (KeyOrder).
  std::vector<std::pair<std::string, std::string>> puts;
  puts.reserve(full_buckets_.size() + 4 * dirty_.size());
  for (const std::string& account : dirty_) {
    Entry& e = accounts_.find(account)->second;
    assert(e.dirty && e.summary);
    const AccountSummary& s = *e.summary;
    puts.emplace_back(pformat::summary_key(account), encode_fen_value(s.total_fen));
    std::sort(e.dirty_times.begin(), e.dirty_times.end());
    e.dirty_times.erase(std::unique(e.dirty_times.begin(), e.dirty_times.end()), e.dirty_times.end());
    for (TimeUs t : e.dirty_times)
      puts.emplace_back(pformat::schedule_key(account, t), encode_fen_value(s.schedule.at(t)));
    if (e.bucket_dirty) {
      puts.emplace_back(pformat::journal_bucket_key(account, e.bucket), e.bucket_value);
      e.bucket_dirty = false;  // written; the account is in flight
    }
    e.dirty = false;
    e.dirty_times.clear();
  }
  for (auto& [key, value] : full_buckets_) puts.emplace_back(std::move(key), std::move(value));
  if (order == KeyOrder::kSorted)
    std::sort(puts.begin(), puts.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  for (const auto& [key, value] : puts) batch.put(Family::kAccounts, key, value);
  inflight_.swap(dirty_);
  dirty_.clear();
  full_buckets_.clear();
}

void AccountBook::committed() {
  inflight_.clear();
  // Evict only what is durable: the current batch's changes live in this cache too.
  if (accounts_.size() > cache_limit_)
    boost::unordered::erase_if(accounts_, [](const auto& kv) { return !kv.second.dirty; });
}

void AccountBook::discard() {
  for (const std::string& account : dirty_) accounts_.erase(account);
  for (const std::string& account : inflight_) accounts_.erase(account);
  dirty_.clear();
  inflight_.clear();
  full_buckets_.clear();
}

}  // namespace fz::engine
