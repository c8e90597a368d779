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

const AccountSummary* AccountBook::find(const std::string& account) {
  ++counters_.finds;
  auto it = accounts_.find(account);
  if (it == accounts_.end()) {
    ++counters_.loads;
    it = accounts_.emplace(account, load(account)).first;
  }
  return it->second ? &*it->second : nullptr;
}

AccountBook::Bucket& AccountBook::journal_bucket(const std::string& account, std::uint64_t bucket) {
  auto [it, inserted] = journal_.try_emplace(account);
  Bucket& b = it->second;
  if (!inserted && b.bucket == bucket) return b;
  // Sequence numbers only grow, so a newer bucket replaces the cached one for good.
  assert(inserted || b.bucket < bucket);
  if (!inserted && b.dirty) {
    full_buckets_.emplace_back(pformat::journal_bucket_key(account, b.bucket), std::move(b.value));
  }
  b = Bucket{bucket, {}, false};
  if (ledger_ != nullptr && bucket * pformat::kJournalBucketSeqs <= stored_limit_) {
    ++counters_.bucket_gets;
    // The bucket may have been started by an earlier batch (a batch boundary inside 4096 events).
    auto found = ledger_->get(Family::kAccounts, pformat::journal_bucket_key(account, bucket), &b.value);
    if (!found) fail(fmt::format("cannot read the journal of {}: {}", account, found.message()));
    if (!found || !*found) b.value.clear();
  }
  if (b.value.empty()) b.value = empty_journal_bucket();
  return b;
}

void AccountBook::post(const Posting& p, std::uint16_t index) {
  ++counters_.finds;
  auto it = accounts_.find(p.account);
  if (it == accounts_.end()) {
    ++counters_.loads;
    it = accounts_.emplace(p.account, load(p.account)).first;
  }
  if (!it->second) it->second.emplace();
  it->second->add(p.available_at, p.amount_fen);  // the engine checked it fits before accepting the event
  dirty_[p.account].push_back(p.available_at);
  if (!journal_on_) return;

  const std::uint64_t bucket = pformat::journal_bucket_of(p.seq);
  Bucket& b = journal_bucket(p.account, bucket);
  append_journal_entry(&b.value, bucket * pformat::kJournalBucketSeqs,
                       JournalEntry{p.seq, index, p.amount_fen, p.available_at, p.event_at});
  b.dirty = true;
}

void AccountBook::flush(ProjectionBatch& batch, KeyOrder order) {
  assert(inflight_.empty());
  // Collected and written in key order when the batch goes to a memtable (KeyOrder).
  std::vector<std::pair<std::string, std::string>> puts;
  puts.reserve(full_buckets_.size() + 3 * dirty_.size());
  for (auto& [account, times] : dirty_) {
    const AccountSummary& s = *accounts_.at(account);
    puts.emplace_back(pformat::summary_key(account), encode_fen_value(s.total_fen));
    std::sort(times.begin(), times.end());
    times.erase(std::unique(times.begin(), times.end()), times.end());
    for (TimeUs t : times)
      puts.emplace_back(pformat::schedule_key(account, t), encode_fen_value(s.schedule.at(t)));
    inflight_.push_back(account);
  }
  for (auto& [key, value] : full_buckets_) puts.emplace_back(std::move(key), std::move(value));
  for (auto& [account, b] : journal_) {
    if (!b.dirty) continue;
    puts.emplace_back(pformat::journal_bucket_key(account, b.bucket), b.value);
    b.dirty = false;  // written; the account is in flight
  }
  if (order == KeyOrder::kSorted)
    std::sort(puts.begin(), puts.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
  for (const auto& [key, value] : puts) batch.put(Family::kAccounts, key, value);
  dirty_.clear();
  full_buckets_.clear();
}

void AccountBook::committed() {
  inflight_.clear();
  // Evict only what is durable: the current batch's changes live in these caches too.
  if (accounts_.size() > cache_limit_)
    boost::unordered::erase_if(accounts_, [&](const auto& kv) { return !dirty_.contains(kv.first); });
  if (journal_.size() > cache_limit_)
    boost::unordered::erase_if(journal_, [](const auto& kv) { return !kv.second.dirty; });
}

void AccountBook::discard() {
  for (const auto& [account, _] : dirty_) {
    accounts_.erase(account);
    journal_.erase(account);
  }
  for (const std::string& account : inflight_) {
    accounts_.erase(account);
    journal_.erase(account);
  }
  dirty_.clear();
  inflight_.clear();
  full_buckets_.clear();
  boost::unordered::erase_if(journal_, [](const auto& kv) { return kv.second.dirty; });
}

}  // namespace fz::engine
