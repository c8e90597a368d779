// Appender: stages validated events and writes them, with the projection changes they cause, as one
// atomic synced batch (SPEC sections 3 and 7).
//
// stage() decides each event's fate in append order: a `duplicate` when the same id already holds the
// same canonical bytes (in the log, in the batch being written or earlier in this batch), a rejection
// for a `conflict` (same id, other bytes) or when the Projector refuses it, else it is given the next
// sequence number (the writer thread chains it onto the hash chain). commit() writes the staged events and
// Projector::flush()'s changes as one synced batch and returns when it is durable.
//
// Pipelining: start_commit() hands the staged batch to a writer thread and returns at once, so the
// caller stages the next batch while RocksDB inserts and syncs this one; at most one batch is in flight
// (start_commit() first waits for the previous one). A batch is acknowledged (durable) only when the
// next start_commit(), wait() or commit() returned ok. A failed write drops everything not durable:
// the batch in flight and everything staged after it, and the error is returned.
//
// The Appender borrows the Ledger (opened for writing) and the Projector; one caller thread at a time
// (the writer thread touches only the batch in flight and the Ledger's commit). The writer thread is
// started by the first start_commit() and kept until the Appender is destroyed.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "core/string_hash.hpp"
#include "model/event.hpp"
#include "store/ledger.hpp"

namespace fz {

// Read-ahead: the records of the stored projection that applying an event will read, read for a whole
// chunk of events at once on the parsing thread (Ledger::get_many) rather than one at a time while staging.
struct ReadAheadRecord {
  Family family = Family::kEntities;
  std::string key;
  std::optional<std::string> value;  // as read: nullopt when the key held nothing
};
// How a Projector reads ahead. Both functions run on the parsing thread while the Projector works on the
// staging thread, so they must hold their own immutable or atomic copies of what they read.
struct ReadAheadPlan {
  // Names the records applying `event` will read (appends to *out).
  std::function<void(const Event& event, std::vector<ReadAheadRecord>* out)> keys;
  // Read before the records are read and handed back with them (Projector::read_ahead): tells the
  // Projector whether what was read may since have gone stale.
  std::function<std::uint64_t()> epoch;
  explicit operator bool() const { return keys && epoch; }
};

// The read-ahead of a chunk of items (an append's input lines, a rebuild's events), made on the thread
// that produces the chunk: item i's records are records[ends[i-1] .. ends[i]), read at `epoch`.
struct ReadAheadChunk {
  std::vector<ReadAheadRecord> records;
  std::vector<std::uint32_t> ends;
  std::uint64_t epoch = 0;

  // Closes the current item: the records named since the last call are its (none is fine).
  void end_item() { ends.push_back(static_cast<std::uint32_t>(records.size())); }
  // Dates the records (plan.epoch(), taken before the read) and reads them all, one Ledger::get_many per
  // family (any thread may). On a failure keeps nothing: the Projector then reads for itself and
  // reports the failure.
  void read(const Ledger& ledger, const ReadAheadPlan& plan);
  // Item i's records, for Projector::read_ahead: empty when nothing was read ahead.
  std::span<const ReadAheadRecord> of(std::size_t item) const {
    if (item >= ends.size()) return {};
    const std::uint32_t begin = item == 0 ? 0 : ends[item - 1];
    return std::span(records).subspan(begin, ends[item] - begin);
  }
};

// The engine's side of an append. A Projector keeps pending state for staged events until
// committed() or discard().
class Projector {
 public:
  virtual ~Projector() = default;
  // Accepts or rejects a new event (seq is the number it will get). On error the projector must keep
  // no trace of the event.
  [[nodiscard]] virtual Status apply(const Event& event, std::uint64_t seq) = 0;
  // Adds the pending projection changes to the batch that also holds the events.
  [[nodiscard]] virtual Status flush(ProjectionBatch& batch) = 0;
  // The batch is durable: pending state becomes the projector's committed state.
  virtual void committed() = 0;
  // The batch will not be written: forget everything pending.
  virtual void discard() = 0;
  // A write-back projector (SPEC 7: the projection may be kept in memory and checkpointed) keeps the
  // changes of durable batches in memory between checkpoints, and its flush() adds nothing to most
  // batches. This asks that the next flush() write everything not yet written, with the head it covers;
  // false when there is nothing to write (then flush() need not be called).
  virtual bool request_checkpoint() { return false; }
  // True for a write-back projector: what flush() writes is a checkpoint of its own, written after the
  // batch's events are durable (Ledger::write_projection), not in the events' batch.
  virtual bool write_back() const { return false; }
  // Read-ahead (optional): how to name and date what apply() reads (empty: no read-ahead), and, just
  // before apply() of an event, the records the plan named for it as read at `epoch`. The projector takes
  // those still current in place of its own reads.
  virtual ReadAheadPlan read_ahead_plan() const { return {}; }
  virtual void read_ahead(std::span<const ReadAheadRecord> records, std::uint64_t epoch) {
    (void)records;
    (void)epoch;
  }
};

// kFailed: the ledger could not be read (an I/O error, corruption): not the event's fault. Nothing more
// may be staged; failure() says what happened and the caller stops without committing what is staged.
enum class Disposition { kAppended, kDuplicate, kRejected, kFailed };

class Appender {
 public:
  Appender(Ledger& ledger, Projector* projector);

  Disposition stage(Event event, std::string* reason);
  // Stages an already-encoded record (used by `rules publish`, which builds the event itself).
  // `absent_at`: a read-ahead found the id in no event of the log when Ledger::log_writes() was this
  // count (Ledger::seqs_of_many); the Appender then reads the id index only if a batch written since
  // may hold the id.
  Disposition stage_encoded(const Event& event, std::string record, std::string* reason,
                            std::optional<std::uint64_t> absent_at = std::nullopt);

  // What stage() would decide from the id alone, staging nothing: kAppended when the id is new,
  // kDuplicate, kRejected for a conflict (with *reason), kFailed when the ledger could not be read.
  // The Projector is not asked. Lets a caller stage a group of events only when none conflicts.
  Disposition probe(const Event& event, const std::string& record, std::string* reason,
                    std::optional<std::uint64_t> absent_at = std::nullopt);

  // How many read-ahead answers probe and stage_encoded took and how many they could not (each lookup
  // counts; diagnostics).
  struct ReadAheadCounters {
    std::uint64_t taken = 0;
    std::uint64_t stale = 0;
  };
  const ReadAheadCounters& read_ahead_counters() const { return read_ahead_counters_; }

  ~Appender();
  Appender(const Appender&) = delete;
  Appender& operator=(const Appender&) = delete;

  [[nodiscard]] Status commit();
  [[nodiscard]] Status start_commit();
  // Waits for the batch in flight, then writes the Projector's checkpoint (everything it holds that is
  // not yet written) as one synced batch of its own. Nothing may be staged. The events are durable
  // either way: a failed checkpoint leaves the stored projection at the previous one, which the next
  // writer brings up to date by replaying the log after it.
  [[nodiscard]] Status checkpoint();
  [[nodiscard]] Status wait();
  // Waits for the batch in flight, then drops what is staged (nothing of it is written). Returns the
  // write's failure, if it failed (then it was dropped too).
  [[nodiscard]] Status discard();

  std::size_t staged() const { return staged_.size(); }
  // The id of the i-th event staged since the last start_commit() (i < staged()).
  std::string_view staged_id(std::size_t i) const { return staged_[i].id; }
  // Set once stage() returned kFailed.
  const std::optional<Error>& failure() const { return failure_; }
  std::uint64_t staged_head_seq() const { return head_seq_; }
  // Events written and acknowledged by this Appender so far.
  std::uint64_t durable_events() const { return durable_events_; }

 private:
  // id -> index into the staged events; looked up by view, so a probe builds no string.
  using IdIndex = StringMap<std::size_t>;
  struct Staged {
    std::string id;
    std::string record;
  };
  struct Inflight {
    explicit Inflight(const Ledger& ledger) : batch(ledger), checkpoint(ledger) {}
    ProjectionBatch batch;        // the events, their ids and (not write-back) the projection's changes
    ProjectionBatch checkpoint;   // a write-back projector's checkpoint, written after the batch
    bool events_durable = false;  // the batch is written (its checkpoint may still have failed)
    std::vector<Staged> staged;
    IdIndex staged_ids;
    std::uint64_t head_seq = 0;
    format::Hash head_hash{};      // before the write: the chain's head before the batch; after: with it
    bool writing = false;          // handed to the writer thread and not yet waited for
    std::uint64_t log_writes = 0;  // Ledger::log_writes() once the batch is written
  };
  // The ids of the last batches written, so that a read-ahead older than them can still be checked.
  struct Written {
    std::uint64_t log_writes = 0;  // Ledger::log_writes() once the batch was written
    IdIndex ids;
  };
  class Writer;  // the writer thread (appender.cpp)

  // A read-ahead's "not in the log at `absent_at`" still holds: no batch written since holds the id.
  bool still_absent(std::string_view id, std::uint64_t absent_at) const;
  void remember_written();

  void discard_all();
  void add_events(Inflight& inflight);

  Ledger& ledger_;
  Projector* projector_;
  std::vector<Staged> staged_;
  IdIndex staged_ids_;
  std::uint64_t head_seq_;
  // The hash chain's head after the last batch written (staged events are chained on the writer thread).
  format::Hash head_hash_;
  ProjectionBatch batch_;
  ProjectionBatch checkpoint_;
  Inflight inflight_;
  std::unique_ptr<Writer> writer_;  // declared after what its thread reads, so it is joined first
  std::uint64_t durable_events_ = 0;
  std::optional<Error> failure_;
  // The batches written by this Appender, newest last; a read-ahead from before the oldest one kept (or
  // from before this Appender) is not used. Bounded by kWrittenKept: a read-ahead is a few chunks old.
  static constexpr std::size_t kWrittenKept = 16;
  std::deque<Written> written_;
  std::uint64_t written_floor_;
  ReadAheadCounters read_ahead_counters_;
};

}  // namespace fz
