// AccountBook: account balances and the per-account journal index, as the engine sees them while it
// applies events, and the changes it writes with each batch.
//
// Reads (find) see every posting booked so far, committed, in flight or pending. Postings are booked
// only after their event was accepted, so there is no per-event undo. flush() puts the current batch's
// changes into a WriteBatch; they are in flight until committed(). A failed write is answered by
// discard(), which forgets every account touched since the last commit so the next read comes from the
// database again.
//
// What one batch writes, however many postings it carries (see engine/projection_format.hpp):
//   - one total per account touched ('S'),
//   - one schedule entry per (account, available-from) touched ('V'),
//   - one journal bucket per (account, 4096 sequence numbers) touched ('J'),
// so a hot account (a merchant, the platform's fee account) costs a few keys per batch, not one per
// posting, and no value grows with the ledger's history. The stored result does not depend on how the
// events were batched.
//
// Memory: the cache of accounts (each with its latest journal bucket) is cleared of what is durable after
// a commit once it holds more than `cache_limit` accounts. Not thread-safe; owned by the Engine.
#pragma once

#include <boost/unordered/unordered_flat_map.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "engine/book.hpp"
#include "engine/projection_format.hpp"
#include "store/ledger.hpp"

namespace fz::engine {

class AccountBook {
 public:
  explicit AccountBook(std::size_t cache_limit = 1 << 16) : cache_limit_(cache_limit) {}

  // Reads what is not in memory from the ledger's accounts family (none: every account starts empty).
  void attach(const Ledger* ledger) { ledger_ = ledger; }
  // The hot window: how many accounts (and journal buckets) stay in memory once written.
  void set_cache_limit(std::size_t accounts) { cache_limit_ = std::max<std::size_t>(accounts, 1); }

  // The account's balance and schedule, or nullptr when nothing was ever posted to it (or it could
  // not be read: see take_io_error). Valid until the next non-const call.
  const AccountSummary* find(const std::string& account);

  // Whether post() also records the journal index (default). Off for evaluation-only replays.
  void set_journal(bool on) { journal_on_ = on; }
  // The column family holds no projection of an event after `seq` (the engine's last checkpoint, written
  // or being written): a journal bucket that starts after it cannot be stored yet, so it is not read.
  void set_stored_limit(std::uint64_t seq) { stored_limit_ = seq; }

  // Books an accepted posting: total, schedule and journal index.
  void post(const Posting& p, std::uint16_t index);

  void flush(ProjectionBatch& batch, KeyOrder order);
  void committed();
  void discard();

  // The first read failure since the last call, if any ("" when none).
  std::string take_io_error() { return std::exchange(io_error_, std::string()); }

  // Diagnostics: account reads and loads from the column family, journal bucket reads (RocksDB Gets).
  struct Counters {
    std::uint64_t finds = 0;
    std::uint64_t loads = 0;
    std::uint64_t bucket_gets = 0;
  };
  const Counters& counters() const { return counters_; }

 private:
  // Everything the book keeps of one account, under one key, so a posting costs one hash lookup.
  struct Entry {
    std::optional<AccountSummary> summary;  // nullopt: nothing was ever posted to it
    bool dirty = false;                     // changed by the current batch: listed in dirty_
    std::vector<TimeUs> dirty_times;        // the schedule times the current batch touched
    // The account's latest journal bucket (has_bucket), and whether the current batch changed it.
    bool has_bucket = false;
    bool bucket_dirty = false;
    std::uint64_t bucket = 0;
    std::string bucket_value;
  };
  using Map = boost::unordered_flat_map<std::string, Entry>;

  std::optional<AccountSummary> load(const std::string& account);
  Entry& entry(const std::string& account);
  void journal_post(Entry& e, const std::string& account, std::uint64_t bucket, const JournalEntry& entry);
  void fail(std::string message);

  std::size_t cache_limit_;
  bool journal_on_ = true;
  std::uint64_t stored_limit_ = UINT64_MAX;
  const Ledger* ledger_ = nullptr;
  std::string io_error_;
  Counters counters_;
  // A flat map: a value moves when the map grows, hence "valid until the next non-const call" above.
  Map accounts_;
  std::vector<std::string> dirty_;                                 // accounts changed by the current batch
  std::vector<std::string> inflight_;                              // accounts touched by the batch in flight
  std::vector<std::pair<std::string, std::string>> full_buckets_;  // (key, value) left behind by a newer one
};

// An account as stored (total and schedule), or nullopt when nothing was ever posted to it. Checks that
// the schedule sums to the total.
Result<std::optional<AccountSummary>> load_account(const Ledger& ledger, const std::string& account);

// Calls fn(entry) for every journal entry of `account`, in log order.
Status for_each_journal_entry(const Ledger& ledger, const std::string& account,
                              const std::function<Status(const JournalEntry&)>& fn);

}  // namespace fz::engine
