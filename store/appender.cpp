#include "store/appender.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>

#include "store/codec.hpp"

namespace fz {

// One thread that writes the batches in flight, one job at a time, kept for the Appender's life: the
// server commits hundreds of small batches a second, and a thread per batch (std::async) cost a clone,
// an 8 MiB stack mapping and its page faults each time.
class Appender::Writer {
 public:
  Writer() : thread_([this] { run(); }) {}
  ~Writer() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Hands over the next job; the previous one must have been waited for.
  void start(std::function<Status()> job) {
    {
      std::lock_guard lock(mu_);
      assert(!job_ && !finished_);
      job_ = std::move(job);
    }
    cv_.notify_all();
  }
  // Blocks until the job handed over has run, and returns its status.
  Status wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return finished_; });
    finished_ = false;
    return std::move(result_);
  }

 private:
  void run() {
    disable_rocksdb_perf_counters();
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return job_ || stop_; });
      if (!job_) return;  // stopping, nothing handed over
      std::function<Status()> job = std::move(job_);
      job_ = nullptr;
      lock.unlock();
      Status s = job();
      lock.lock();
      result_ = std::move(s);
      finished_ = true;
      cv_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::function<Status()> job_;
  bool finished_ = false;
  bool stop_ = false;
  Status result_ = Status::Ok();
  std::thread thread_;  // last: started once the members above exist
};

namespace {

Status read_values(const Ledger& ledger, std::vector<ReadAheadRecord>* records) {
  std::vector<std::string_view> wanted;
  std::vector<std::size_t> where;
  std::vector<std::optional<std::string>> values;
  for (const Family family : kAllFamilies) {
    wanted.clear();
    where.clear();
    for (std::size_t i = 0; i < records->size(); ++i) {
      if ((*records)[i].family != family) continue;
      wanted.push_back((*records)[i].key);
      where.push_back(i);
    }
    if (wanted.empty()) continue;
    FZ_TRY(ledger.get_many(family, wanted, &values));
    for (std::size_t j = 0; j < where.size(); ++j) (*records)[where[j]].value = std::move(values[j]);
  }
  return Status::Ok();
}

}  // namespace

void ReadAheadChunk::read(const Ledger& ledger, const ReadAheadPlan& plan) {
  epoch = plan.epoch();  // before the read: what is read is at least this fresh
  if (!read_values(ledger, &records).ok()) {
    records.clear();
    ends.clear();
  }
}

Appender::Appender(Ledger& ledger, Projector* projector)
    : ledger_(ledger),
      projector_(projector),
      head_seq_(ledger.head_seq()),
      head_hash_(ledger.head_hash()),
      batch_(ledger),
      checkpoint_(ledger),
      inflight_(ledger),
      written_floor_(ledger.log_writes()) {}

bool Appender::still_absent(std::string_view id, std::uint64_t absent_at) const {
  // Batches written up to `absent_at` were visible to the read-ahead; those after it may hold the id.
  if (absent_at < written_floor_) return false;
  for (auto w = written_.rbegin(); w != written_.rend() && w->log_writes > absent_at; ++w) {
    if (w->ids.contains(id)) return false;
  }
  return true;
}

void Appender::remember_written() {
  // Keeps the written batch's ids (moved, not copied); the oldest batch kept gives its map back.
  IdIndex recycled;
  if (written_.size() == kWrittenKept) {
    written_floor_ = written_.front().log_writes;
    recycled = std::move(written_.front().ids);
    written_.pop_front();
    recycled.clear();
  }
  written_.push_back(Written{inflight_.log_writes, std::move(inflight_.staged_ids)});
  inflight_.staged_ids = std::move(recycled);
}

Disposition Appender::stage(Event event, std::string* reason) {
  std::string record = encode_event(event);
  return stage_encoded(event, std::move(record), reason);
}

Disposition Appender::probe(const Event& event, const std::string& record, std::string* reason,
                            std::optional<std::uint64_t> absent_at) {
  if (failure_) {
    *reason = failure_->message;
    return Disposition::kFailed;
  }
  auto fatal = [&](Error e) {
    *reason = e.message;
    failure_ = std::move(e);
    return Disposition::kFailed;
  };
  // Same id earlier in this batch, or in the batch being written?
  for (const auto* ids : {&staged_ids_, &inflight_.staged_ids}) {
    if (auto it = ids->find(event.id); it != ids->end()) {
      const auto& records = ids == &staged_ids_ ? staged_ : inflight_.staged;
      if (records[it->second].record == record) return Disposition::kDuplicate;
      *reason = fmt::format("conflict: id {} was given to a different event earlier in this input", event.id);
      return Disposition::kRejected;
    }
  }
  // Same id in the log? A read-ahead may already know it is not.
  if (absent_at) {
    if (still_absent(event.id, *absent_at)) {
      ++read_ahead_counters_.taken;
      return Disposition::kAppended;
    }
    ++read_ahead_counters_.stale;
  }
  auto seq = ledger_.seq_of(event.id);
  if (!seq) {
    if (seq.error().fatal()) return fatal(seq.error());
    *reason = seq.message();
    return Disposition::kRejected;
  }
  if (seq->has_value()) {
    auto raw = ledger_.raw_event(**seq);
    std::string_view stored;
    format::Hash ignored{};
    if (!raw) return fatal(raw.error());
    if (!raw->has_value() || !split_stored_value(**raw, &stored, &ignored)) {
      return fatal(make_corruption_error(
          fmt::format("id {} is indexed at seq {} but that event cannot be read; run 'fenzhang verify'",
                      event.id, **seq)));
    }
    if (stored == record) return Disposition::kDuplicate;
    *reason = fmt::format("conflict: id {} already holds a different event (seq {})", event.id, **seq);
    return Disposition::kRejected;
  }
  return Disposition::kAppended;
}

Disposition Appender::stage_encoded(const Event& event, std::string record, std::string* reason,
                                    std::optional<std::uint64_t> absent_at) {
  if (const Disposition d = probe(event, record, reason, absent_at); d != Disposition::kAppended) return d;
  auto fatal = [&](Error e) {
    *reason = e.message;
    failure_ = std::move(e);
    return Disposition::kFailed;
  };
  const std::uint64_t next = head_seq_ + 1;
  if (projector_ != nullptr) {
    if (Status s = projector_->apply(event, next); !s.ok()) {
      if (s.fatal()) return fatal(s.error());
      *reason = s.message();
      return Disposition::kRejected;
    }
  }
  // The hash chain and the batch's keys are built on the writer thread (start_commit): only the
  // decision and the engine's work stay on the caller's.
  staged_ids_.emplace(event.id, staged_.size());
  staged_.push_back(Staged{event.id, std::move(record)});
  head_seq_ = next;
  return Disposition::kAppended;
}

Appender::~Appender() {
  // A write still in flight finishes (or fails) before the batch it reads from goes away.
  if (inflight_.writing) (void)writer_->wait();
}

Status Appender::commit() {
  FZ_TRY(start_commit());
  return wait();
}

Status Appender::start_commit() {
  FZ_TRY(wait());
  if (staged_.empty()) return Status::Ok();
  if (projector_ != nullptr) {
    if (Status s = projector_->flush(projector_->write_back() ? checkpoint_ : batch_); !s.ok()) {
      discard_all();
      return s;
    }
  }
  // The staged batch is now in flight: later events may still name its ids (duplicates, conflicts).
  inflight_.batch.clear();
  swap(inflight_.batch, batch_);
  inflight_.checkpoint.clear();
  swap(inflight_.checkpoint, checkpoint_);
  inflight_.events_durable = false;
  inflight_.staged.clear();
  inflight_.staged_ids.clear();
  std::swap(inflight_.staged, staged_);
  std::swap(inflight_.staged_ids, staged_ids_);
  inflight_.head_seq = head_seq_;
  inflight_.head_hash = head_hash_;  // the chain's head before this batch; the writer moves it on
  if (!writer_) writer_ = std::make_unique<Writer>();
  inflight_.writing = true;
  writer_->start([this]() -> Status {
    add_events(inflight_);
    FZ_TRY(ledger_.commit(inflight_.batch, inflight_.head_seq, inflight_.head_hash));
    inflight_.log_writes = ledger_.log_writes();  // only this thread writes the log meanwhile
    inflight_.events_durable = true;
    return ledger_.write_projection(inflight_.checkpoint);
  });
  return Status::Ok();
}

void Appender::add_events(Inflight& inflight) {
  // Runs on the writer thread: chains each record onto the hash chain and puts it, with the id index in
  // key order (RocksDB's memtable inserts ascending keys much faster than ids in arrival order).
  std::uint64_t seq = inflight.head_seq - inflight.staged.size();
  auto* events_cf = ledger_.cf(Cf::kEvents);
  std::vector<std::pair<std::string_view, std::string>> ids;
  ids.reserve(inflight.staged.size());
  for (const Staged& s : inflight.staged) {
    inflight.head_hash = chain_hash(inflight.head_hash, s.record);
    std::string key = format::seq_key(++seq);
    const rocksdb::Slice key_part(key);
    const rocksdb::Slice value_parts[2] = {
        rocksdb::Slice(s.record),
        rocksdb::Slice(reinterpret_cast<const char*>(inflight.head_hash.data()), inflight.head_hash.size())};
    inflight.batch.batch_.Put(events_cf, rocksdb::SliceParts(&key_part, 1),
                              rocksdb::SliceParts(value_parts, 2));
    ids.emplace_back(s.id, std::move(key));
  }
  assert(seq == inflight.head_seq);
  std::sort(ids.begin(), ids.end());
  auto* ids_cf = ledger_.cf(Cf::kIds);
  for (const auto& [id, key] : ids)
    inflight.batch.batch_.Put(ids_cf, rocksdb::Slice(id.data(), id.size()), key);
}

Status Appender::wait() {
  if (!inflight_.writing) return Status::Ok();
  inflight_.writing = false;
  Status s = writer_->wait();
  if (!s.ok() && inflight_.events_durable) {
    // The events are in the log; only the checkpoint after them failed. The stored projection stays at
    // the previous checkpoint, which the next writer brings up to date by replaying the log after it.
    durable_events_ += inflight_.staged.size();
    s = Error{fmt::format("{} (the events before it are durable; the next append or 'fenzhang replay' "
                          "brings the projection up to date)",
                          s.message()),
              s.error().kind};
  }
  if (!s.ok()) {
    discard_all();
    return s;
  }
  durable_events_ += inflight_.staged.size();
  head_hash_ = inflight_.head_hash;
  if (projector_ != nullptr) projector_->committed();
  inflight_.batch.clear();
  inflight_.staged.clear();
  remember_written();
  return Status::Ok();
}

Status Appender::checkpoint() {
  FZ_TRY(wait());
  assert(staged_.empty());
  if (projector_ == nullptr || !staged_.empty() || !projector_->request_checkpoint()) return Status::Ok();
  ProjectionBatch batch(ledger_);
  Status s = projector_->flush(batch);
  if (s.ok()) s = ledger_.write_projection(batch);
  if (!s.ok()) {
    discard_all();
    return s;
  }
  projector_->committed();
  return Status::Ok();
}

Status Appender::discard() {
  Status s = wait();
  discard_all();
  return s;
}

void Appender::discard_all() {
  if (inflight_.writing) {
    inflight_.writing = false;
    (void)writer_->wait();
  }
  if (projector_ != nullptr) projector_->discard();
  batch_.clear();
  checkpoint_.clear();
  staged_.clear();
  staged_ids_.clear();
  inflight_.batch.clear();
  inflight_.checkpoint.clear();
  inflight_.events_durable = false;
  inflight_.staged.clear();
  inflight_.staged_ids.clear();
  // The ids of a batch that was written (or may have been) are no longer held: no read-ahead from before
  // now can be checked against them.
  written_floor_ = ledger_.log_writes();
  head_seq_ = ledger_.head_seq();
  head_hash_ = ledger_.head_hash();
}

}  // namespace fz
