// Ledger: the RocksDB database that holds one fenzhang ledger (layout in store/format.hpp).
//
// A Ledger opened for writing holds an exclusive advisory lock on DIR/fenzhang.lock for its whole life,
// so there is one writer per ledger directory; read-only Ledgers take no lock and see the state as of
// the moment they opened. Every change is written by commit(): one WriteBatch, synced, so a batch of
// events and the projection changes it causes become durable together or not at all; then the head
// witness (store/head_witness.hpp) is synced, so a log that later ends before it is refused at open.
//
// A new ledger is created only in a missing or empty directory (SPEC section 7). A directory that holds
// anything else and cannot be opened is refused with RocksDB's reason, never recreated.
//
// A Ledger is used from one thread at a time, with two exceptions: an Appender's writer thread commits
// while its owner reads, and the read-ahead calls (seqs_of_many, get_many, log_writes) and scan_stored (a
// rebuild decodes the log on a second thread) may run on any thread while the owner writes, as may a
// cursor made by the owner (each used by one thread at a time). Column family handles and the DB pointer
// are owned by the Ledger and valid until it is destroyed.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "model/event.hpp"
#include "store/format.hpp"
#include "store/head_witness.hpp"
#include "store/projection_store.hpp"

namespace fz {

enum class Cf : std::uint8_t { kEvents, kIds, kMeta, kPostings, kAccounts, kEntities, kTargets };
inline constexpr int kCfCount = 7;

struct StoredEvent {
  std::uint64_t seq = 0;
  std::string record;  // canonical bytes (store/format.hpp)
  format::Hash hash{};
  Event event;
};

// RocksDB counts every key comparison in a thread-local perf context unless told not to, which costs a
// TLS lookup per comparison in the shared library (a tenth of an append's time). Call once in every
// thread that writes or reads in bulk; Ledger::open calls it for the opening thread.
void disable_rocksdb_perf_counters();

class Ledger {
 public:
  // kScratch: a private ledger rebuilt on the side and deleted afterwards (what-if, replay --until,
  // verify, explain). Written like kWrite but without the WAL or fsync, and not flushed at close: no other
  // process ever opens it, and a crash loses nothing that the log does not still hold. Never use it for
  // a ledger that outlives the command.
  enum class Access { kRead, kWrite, kScratch };

  // Opens (for kWrite: creating if missing) the ledger in `dir`. `env` replaces RocksDB's file system
  // access (tests: an in-memory or fault-injecting Env); it must outlive the Ledger.
  static Result<std::unique_ptr<Ledger>> open(const std::string& dir, Access access,
                                              rocksdb::Env* env = nullptr);
  ~Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  const std::string& dir() const { return dir_; }
  bool writable() const { return access_ != Access::kRead; }
  // The head this Ledger answers for: the log's last event, or for a reader limited to a checkpoint
  // (limit_head_for_reading) the checkpoint's last event.
  std::uint64_t head_seq() const { return head_seq_; }
  const format::Hash& head_hash() const { return head_hash_; }
  // The log's last event, whatever the reader is limited to.
  std::uint64_t log_head_seq() const { return log_head_seq_; }
  // Read-only ledgers: answer as of event `seq` (an acknowledged prefix of the log), because the stored
  // projection is a checkpoint that covers only events 1..seq (SPEC 7: readers see the state as of an
  // acknowledged head). Events after it stay in the log for verify_log, but head_seq() ends at seq.
  [[nodiscard]] Status limit_head_for_reading(std::uint64_t seq);

  // The sequence number stored under an event id, if any.
  Result<std::optional<std::uint64_t>> seq_of(std::string_view id) const;
  // The raw stored value (record ‖ hash) of a sequence number, if any.
  Result<std::optional<std::string>> raw_event(std::uint64_t seq) const;
  // Reads and decodes one event.
  Result<StoredEvent> read(std::uint64_t seq) const;
  // Calls fn for events from `first_seq` up to `last_seq` (inclusive) in order; stops at the first error.
  Status scan(std::uint64_t first_seq, std::uint64_t last_seq,
              const std::function<Status(const StoredEvent&)>& fn) const;
  // As scan, undecoded: fn(seq, stored value) with the value valid only during the call (record ‖ hash;
  // split_stored_value). For a caller that decodes only some events.
  Status scan_stored(std::uint64_t first_seq, std::uint64_t last_seq,
                     const std::function<Status(std::uint64_t, std::string_view)>& fn) const;

  // The projection (store/projection_store.hpp). The value under `key` in `family`: true with *value
  // set, or false when there is none. A read failure is an I/O or corruption error giving the storage's
  // reason (callers add what they were reading: with_context).
  [[nodiscard]] Result<bool> get(Family family, std::string_view key, std::string* value) const;
  // A cursor over the family as it stands now.
  ProjectionCursor cursor(Family family) const;

  // Read-ahead (tools/append_job.cpp): many keys in one RocksDB MultiGet, which probes each table file's
  // filter and index once for the whole set rather than once a key. Safe on any thread. out[i] answers
  // ids[i] / keys[i]: the sequence number or stored value, or nullopt when there is none.
  [[nodiscard]] Status seqs_of_many(std::span<const std::string_view> ids,
                                    std::vector<std::optional<std::uint64_t>>* out) const;
  [[nodiscard]] Status get_many(Family family, std::span<const std::string_view> keys,
                                std::vector<std::optional<std::string>>* out) const;
  // How many writes of the log (commit) were made through this Ledger since it was opened. Safe on any
  // thread; the count moves only after its write is visible to readers, so a read-ahead that notes it
  // before reading the id index knows which batches its answers may predate (Appender::stage_encoded).
  std::uint64_t log_writes() const { return log_writes_.load(std::memory_order_acquire); }

  // Writes a projection batch (rebuilds, scratch ledgers), atomically with sync=true (kScratch: unsynced,
  // without the WAL).
  [[nodiscard]] Status write(ProjectionBatch& batch);
  // Writes a projection checkpoint (puts and deletes of the projection's column families and meta, never
  // the log's) atomically and durably, as table files ingested into the column families in one step
  // (RocksDB IngestExternalFiles): no WAL, no memtable, no flush, and a run of keys past every stored
  // one (the postings of new events) goes straight to the last level. A batch holding anything else
  // (a range deletion) is written as write() does. The batch must not change until this returns.
  [[nodiscard]] Status write_projection(ProjectionBatch& batch);
  // Flushes the memtables to table files once they hold `bytes` or more, so that a read-only open (which
  // replays the WAL not yet in table files) stays fast while a long-running writer appends. Best effort.
  void flush_memtables_over(std::uint64_t bytes);

  // The reader snapshot (SPEC 7: readers never fail while a writer rebuilds): before the projection is
  // rebuilt in place (`rules publish` recomputing, `replay`), the writer hard-links a RocksDB checkpoint
  // of the ledger as it stands, a consistent acknowledged state, into DIR/fenzhang.snapshot. Readers
  // that find the live projection behind the log answer from it instead (engine/reader.hpp). The writer
  // removes it once the projection covers the log again. No-ops on scratch ledgers and test Envs.
  [[nodiscard]] Status create_reader_snapshot();
  [[nodiscard]] Status remove_reader_snapshot();
  static std::string reader_snapshot_dir(const std::string& dir) {
    return dir + "/" + std::string(format::kSnapshotDir);
  }

 private:
  friend class Appender;         // writes the log
  friend class ProjectionBatch;  // names the families
  friend struct LedgerInternals;

  // Writes `batch` (an Appender's: events, ids and perhaps projection changes) atomically with sync=true
  // (kScratch: unsynced, without the WAL); afterwards the head is (new_head_seq, new_head_hash).
  [[nodiscard]] Status commit(ProjectionBatch& batch, std::uint64_t new_head_seq,
                              const format::Hash& new_head_hash);
  [[nodiscard]] Status write_raw(rocksdb::WriteBatch& batch);
  rocksdb::DB* db() const { return db_.get(); }
  rocksdb::ColumnFamilyHandle* cf(Cf which) const { return handles_[static_cast<std::size_t>(which)]; }
  rocksdb::ColumnFamilyHandle* cf(Family which) const;

  Ledger() = default;
  Status load_head();
  Status check_witness(const std::optional<WitnessedHead>& witnessed, bool fresh);
  Status init_new_ledger();
  rocksdb::WriteOptions write_options() const;
  void remove_ingest_leftovers();

  std::uint64_t ingest_files_ = 0;  // names the table files write_projection builds
  std::atomic<std::uint64_t> log_writes_{0};
  std::string dir_;
  Access access_ = Access::kRead;
  int lock_fd_ = -1;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::uint64_t head_seq_ = 0;
  format::Hash head_hash_{};
  std::uint64_t log_head_seq_ = 0;
  std::optional<HeadWitness> witness_;  // kWrite on a real directory only
};

// Raw RocksDB access, for the store's own checks (store/verify.cpp) and for tests that damage a ledger on
// purpose. Nothing above the store uses it: the engine goes through the projection seam.
struct LedgerInternals {
  static rocksdb::DB* db(const Ledger& ledger) { return ledger.db(); }
  static rocksdb::ColumnFamilyHandle* cf(const Ledger& ledger, Cf which) { return ledger.cf(which); }
};

// A RocksDB failure as an Error of the right kind (corruption, else I/O), prefixed with `what`.
Error rocks_error(const rocksdb::Status& s, std::string_view what);

// Splits a stored value into its record and hash; false if it is too short to hold a hash.
bool split_stored_value(std::string_view value, std::string_view* record, format::Hash* hash);
// Splits and decodes the stored value of event `seq` (as scan_stored passes it) into *out; a corruption
// error naming the event when it is malformed. Thread-safe.
[[nodiscard]] Status decode_stored(std::uint64_t seq, std::string_view value, StoredEvent* out);

}  // namespace fz
