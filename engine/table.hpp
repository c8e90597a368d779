// Table<T>: one kind of entity (orders, plans, ...) as seen by the engine while it applies events.
//
// Reads look through four layers: changes of the event being applied, changes of the current batch,
// changes of the batch being written (at most one: the appender writes one batch while it stages the
// next), then the committed state (a bounded cache in front of the column family). An event that is
// rejected drops its layer, so it leaves no trace; a write that fails drops everything not committed.
// Memory is bounded by two batches and the cache limit, not by the ledger's history.
// Not thread-safe; owned by the Engine.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace fz::engine {

template <class T>
class Table {
 public:
  // `prefix` is this kind's first key byte in the entities column family.
  explicit Table(char prefix, std::size_t cache_limit = 1 << 16)
      : prefix_(prefix), cache_limit_(cache_limit) {}

  void attach(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf) {
    db_ = db;
    cf_ = cf;
  }

  // The entity's current value, or nullptr. The pointer is valid until the next call on this table.
  const T* find(const std::string& id) {
    ++counters_.finds;
    if (auto it = event_.find(id); it != event_.end()) return &it->second;
    if (auto it = batch_.find(id); it != batch_.end()) return &it->second;
    if (auto it = inflight_.find(id); it != inflight_.end()) return &it->second;
    if (auto it = cache_.find(id); it != cache_.end()) return it->second ? &*it->second : nullptr;
    ++counters_.loads;
    std::optional<T> loaded = load(id);
    if (loaded) ++counters_.loads_found;
    if (cache_.size() >= cache_limit_) cache_.clear();
    auto [it, _] = cache_.emplace(id, std::move(loaded));
    return it->second ? &*it->second : nullptr;
  }

  // Sets the entity's value as a change of the event being applied.
  void put(const std::string& id, T value) { event_[id] = std::move(value); }

  void accept_event() {
    for (auto& [id, v] : event_) batch_[id] = std::move(v);
    event_.clear();
  }
  void reject_event() { event_.clear(); }

  // Writes the batch's changes in key order (RocksDB's memtable inserts a run of ascending keys much
  // faster than the same keys in hash order); they are in flight until committed() or discard().
  void flush(rocksdb::WriteBatch& batch) {
    assert(inflight_.empty());
    std::vector<const std::pair<const std::string, T>*> sorted;
    sorted.reserve(batch_.size());
    for (const auto& kv : batch_) sorted.push_back(&kv);
    std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
    std::string key(1, prefix_);
    for (const auto* kv : sorted) {
      key.resize(1);
      key += kv->first;
      batch.Put(cf_, key, encode(kv->second));
    }
    inflight_.swap(batch_);
  }
  // The batch in flight is durable.
  void committed() {
    for (auto& [id, v] : inflight_) {
      if (cache_.size() >= cache_limit_) cache_.clear();
      cache_[id] = std::move(v);
    }
    inflight_.clear();
  }
  // Nothing pending or in flight will be written.
  void discard() {
    event_.clear();
    batch_.clear();
    inflight_.clear();
  }
  // Forget the committed cache (the column family was rewritten underneath).
  void reset() {
    discard();
    cache_.clear();
  }
  // The first read failure since the last call, if any ("" when none).
  std::string take_io_error() { return std::exchange(io_error_, std::string()); }

  // How many reads the table answered and how many of them went to the column family (diagnostics).
  struct Counters {
    std::uint64_t finds = 0;        // find() calls
    std::uint64_t loads = 0;        // of which not in memory: a RocksDB Get
    std::uint64_t loads_found = 0;  // of which the entity exists (the others: a new id)
  };
  const Counters& counters() const { return counters_; }

  // Every committed entity, for verify; calls fn(id, value).
  template <class F>
  Status for_each(F fn) const {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf_));
    const std::string p(1, prefix_);
    for (it->Seek(p); it->Valid() && it->key().starts_with(p); it->Next()) {
      T v;
      if (!decode(std::string_view(it->value().data(), it->value().size()), &v)) {
        return make_error("entity record " + it->key().ToString().substr(1) + " is malformed");
      }
      fn(it->key().ToString().substr(1), v);
    }
    if (!it->status().ok()) return make_error("cannot read entities: " + it->status().ToString());
    return Status::Ok();
  }

 private:
  std::optional<T> load(const std::string& id) const {
    if (db_ == nullptr) return std::nullopt;
    std::string raw;
    const rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf_, prefix_ + id, &raw);
    if (s.IsNotFound()) return std::nullopt;
    if (!s.ok()) {
      // Never treat an unreadable entity as absent: the engine refuses the event and reports this.
      if (io_error_.empty()) io_error_ = "cannot read the projection: " + s.ToString();
      return std::nullopt;
    }
    T v;
    if (!decode(raw, &v)) {
      if (io_error_.empty()) io_error_ = "projection record " + id + " is malformed; run 'fenzhang verify'";
      return std::nullopt;
    }
    return v;
  }

  char prefix_;
  std::size_t cache_limit_;
  rocksdb::DB* db_ = nullptr;
  rocksdb::ColumnFamilyHandle* cf_ = nullptr;
  mutable std::string io_error_;
  Counters counters_;
  std::unordered_map<std::string, T> event_;
  std::unordered_map<std::string, T> batch_;
  std::unordered_map<std::string, T> inflight_;
  std::unordered_map<std::string, std::optional<T>> cache_;
};

}  // namespace fz::engine
