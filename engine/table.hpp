// Table<T>: one kind of entity (orders, plans, ...) as seen by the engine while it applies events.
//
// One flat hash map per kind holds every entity the engine has read or changed since it last evicted:
// its current value (or "known not to exist"), and whether that value is a change of the current batch
// (pending: the next flush writes it) or of the batch being written (in flight: at most one, the
// appender writes one batch while it stages the next). A change of the event being applied goes
// straight into the map; an undo log keeps what it replaced, so an event that is rejected is rolled
// back and leaves no trace. A write that fails (discard) forgets every entity that is not durable, so
// the next read comes from the column family again, which holds the committed state.
//
// Memory: pending and in-flight entities stay (bounded by the engine's checkpoint interval); clean
// ones are evicted once there are more than `cache_limit` of them, except those the latest commit made
// clean (see evict_clean), so at most `cache_limit` plus one commit's entities are clean.
// Not thread-safe; owned by the Engine.
#pragma once

#include <boost/unordered/unordered_flat_map.hpp>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "core/string_hash.hpp"
#include "engine/projection_format.hpp"
#include "store/ledger.hpp"

namespace fz::engine {

template <class T>
class Table {
 public:
  // `prefix` is this kind's first key byte in the entities column family.
  explicit Table(char prefix, std::size_t cache_limit = 1 << 16)
      : prefix_(prefix), cache_limit_(cache_limit) {}

  // Reads what is not in memory from `family` of the ledger (none: every entity is new), and writes there.
  void attach(const Ledger* ledger, Family family) {
    ledger_ = ledger;
    family_ = family;
  }
  // The hot window: how many clean entities stay in memory (Engine::set_hot_entities).
  void set_cache_limit(std::size_t entities) {
    cache_limit_ = std::max<std::size_t>(entities, 1);
    if (clean_count() > cache_limit_) evict_clean();
  }

  // Moves whenever an entity is added, dropped or changed (not by a find() that finds it in memory):
  // while it has not moved, a pointer find() returned still points at the entity's current value.
  std::uint64_t layout() const { return layout_; }

  // The entity's current value, or nullptr. The pointer is valid until the next call on this table
  // (or, stronger, while layout() has not moved).
  const T* find(std::string_view id) {
    ++counters_.finds;
    if (auto it = map_.find(id); it != map_.end()) return it->second.value ? &*it->second.value : nullptr;
    ++counters_.loads;
    std::optional<T> loaded = load(id);
    if (loaded) ++counters_.loads_found;
    if (clean_count() >= cache_limit_ + spared_) evict_clean();
    ++layout_;
    auto [it, _] = map_.emplace(std::string(id), Slot{std::move(loaded), false, false});
    return it->second.value ? &*it->second.value : nullptr;
  }

  // The table's generation, which a read-ahead dates its reads by (Engine::read_ahead): bumped when a
  // commit made entities of this table durable, and when entities were dropped unwritten (discard,
  // reset). Not owned; read by the parsing thread, written here. Without one, nothing is read ahead.
  void set_generation_counter(std::atomic<std::uint64_t>* generation) { generation_ = generation; }

  // Whether what a read-ahead read at generation `read_at` (the low 32 bits of generation() taken
  // before the read) still holds for every entity not in memory now. An entity not in memory either
  // never was since the read (then nothing of this engine wrote it since, and the store holds what was
  // read), or was evicted clean: then the store holds its evicted value, which the read saw if the
  // commit that made it durable bumped the generation before the read took it. So: fresh unless an
  // evicted entity carried a later commit, or entities were dropped unwritten after the read (both
  // recorded in evicted_through_).
  bool read_ahead_fresh(std::uint32_t read_at) const {
    if (generation_ == nullptr) return false;
    const std::uint64_t now = generation();
    // Generations move slowly (a commit of this table's entities); the read was taken less than 2^32 of
    // them ago, so its full value is `now` less the 32-bit distance.
    const std::uint64_t read_gen =
        now - static_cast<std::uint32_t>(static_cast<std::uint32_t>(now) - read_at);
    return evicted_through_ <= read_gen;
  }

  // A read-ahead's answer for `id` (its stored record, or none), kept as find() would keep what it loads
  // now, so find() need not read. The caller has checked read_ahead_fresh() for the answer. Ignored when
  // the entity is in memory (memory is newer). Not during an event (its undo log must not meet slots it
  // did not make).
  void seed(std::string_view id, const std::optional<std::string>& raw) {
    assert(undo_.empty());
    if (map_.contains(id)) return;
    std::optional<T> value;
    if (raw) {
      T decoded;
      if (!decode(*raw, &decoded)) return;  // find() reads it again and reports it
      value = std::move(decoded);
    }
    ++counters_.seeded;
    if (clean_count() >= cache_limit_ + spared_) evict_clean();
    ++layout_;
    map_.emplace(std::string(id), Slot{std::move(value), false, false});
  }

  // Sets the entity's value as a change of the event being applied.
  void put(const std::string& id, T value) {
    ++layout_;
    auto [it, inserted] = map_.try_emplace(id);
    if (std::none_of(undo_.begin(), undo_.end(), [&](const auto& u) { return u.first == id; })) {
      // The slot as it was before the event (moved: its value is replaced right below).
      undo_.emplace_back(id, inserted ? std::nullopt : std::optional<Slot>(std::move(it->second)));
    }
    it->second.value = std::move(value);
    if (!it->second.pending) {
      it->second.pending = true;
      pending_.push_back(id);
    }
  }

  void accept_event() {
    undo_.clear();
    event_mark_ = pending_.size();
  }
  void reject_event() {
    ++layout_;
    for (auto u = undo_.rbegin(); u != undo_.rend(); ++u) {
      if (u->second) {
        map_.insert_or_assign(u->first, std::move(*u->second));
      } else {
        map_.erase(u->first);
      }
    }
    undo_.clear();
    pending_.resize(event_mark_);  // the ids this event made pending are at the end
  }

  // Writes the batch's changes (in key order when asked: KeyOrder); they are in flight until committed()
  // or discard().
  void flush(ProjectionBatch& batch, KeyOrder order) {
    assert(inflight_.empty() && undo_.empty());
    if (order == KeyOrder::kSorted) std::sort(pending_.begin(), pending_.end());
    std::string key(1, prefix_), value;
    for (const std::string& id : pending_) {
      Slot& s = map_.find(id)->second;
      assert(s.pending && s.value);
      key.resize(1);
      key += id;
      encode(*s.value, &value);  // one buffer for the whole flush, not a string per entity
      batch.put(family_, key, value);
      s.pending = false;
      s.inflight = true;
    }
    inflight_.swap(pending_);
    pending_.clear();
    event_mark_ = 0;
  }
  // The batch in flight is durable.
  void committed() {
    // With a generation counter, a commit that made entities durable starts a new generation, which
    // they carry (0: no counter, nothing is read ahead and evictions spare nothing).
    std::uint64_t gen = 0;
    if (!inflight_.empty() && generation_ != nullptr) {
      gen = generation_->fetch_add(1, std::memory_order_release) + 1;
      spared_ = 0;  // those the previous commit made clean may go now
    }
    for (const std::string& id : inflight_) {
      if (auto it = map_.find(id); it != map_.end()) {
        it->second.inflight = false;
        it->second.committed_gen = gen;
      }
    }
    inflight_.clear();
    if (clean_count() > cache_limit_) evict_clean();
  }
  // Nothing pending or in flight will be written.
  void discard() {
    ++layout_;
    forgot();
    for (const std::string& id : pending_) map_.erase(id);
    for (const std::string& id : inflight_) map_.erase(id);
    pending_.clear();
    inflight_.clear();
    undo_.clear();
    event_mark_ = 0;
  }
  // Forget the committed cache (the column family was rewritten underneath).
  void reset() {
    discard();  // a new generation: earlier read-aheads are stale
    map_.clear();
  }
  // Clears this table's read failure, moving it into *first unless that already holds one (an engine
  // reports the first failure of all its tables). Cheap when there is none: it runs for every event.
  void take_io_error_into(std::string* first) {
    if (io_error_.empty()) return;
    if (first->empty()) *first = std::move(io_error_);
    io_error_.clear();
  }
  // The first read failure since the last call, if any ("" when none).
  std::string take_io_error() {
    return io_error_.empty() ? std::string() : std::exchange(io_error_, std::string());
  }

  // How many reads the table answered and how many of them went to the column family (diagnostics).
  struct Counters {
    std::uint64_t finds = 0;        // find() calls
    std::uint64_t loads = 0;        // of which not in memory: a RocksDB Get
    std::uint64_t loads_found = 0;  // of which the entity exists (the others: a new id)
    std::uint64_t seeded = 0;       // read-ahead answers taken (seed)
  };
  const Counters& counters() const { return counters_; }

  // Every committed entity, for verify; calls fn(id, value).
  template <class F>
  Status for_each(F fn) const {
    ProjectionCursor it = ledger_->cursor(family_);
    const std::string p(1, prefix_);
    for (it.seek(p); it.valid_in(p); it.next()) {
      T v;
      if (!decode(it.value(), &v)) {
        return make_error("entity record " + std::string(it.key().substr(1)) + " is malformed");
      }
      fn(std::string(it.key().substr(1)), v);
    }
    FZ_TRY(it.status("cannot read entities"));
    return Status::Ok();
  }

 private:
  struct Slot {
    std::optional<T> value;  // nullopt: the entity does not exist
    bool pending = false;    // changed by the current batch: the next flush writes it
    bool inflight = false;   // written by the batch in flight, not yet durable
    // The generation of the commit that made this value durable; 0 when this engine did not write it
    // (read, read ahead, or new and not yet committed).
    std::uint64_t committed_gen = 0;
  };

  // Entities neither pending nor in flight (an upper bound on them is enough for eviction).
  std::size_t clean_count() const {
    const std::size_t dirty = pending_.size() + inflight_.size();
    return map_.size() > dirty ? map_.size() - dirty : 0;
  }
  std::uint64_t generation() const {
    return generation_ != nullptr ? generation_->load(std::memory_order_acquire) : 0;
  }

  // Drops the entities that the column family holds as they are here, but for those the latest commit
  // made durable: the parsing thread reads ahead a few chunks before they are staged, and an eviction of
  // an entity committed after such a read would make the whole read stale (read_ahead_fresh), costing
  // the staging thread a point lookup for every entity of those chunks (at 1M events, a third of its
  // reads before this). Never during an event with changes: its undo log restores slots, which must not
  // come back after their eviction.
  void evict_clean() {
    if (!undo_.empty()) return;
    ++layout_;
    const std::uint64_t latest = generation_ != nullptr ? generation() : 0;
    std::size_t spared = 0;
    boost::unordered::erase_if(map_, [&](const auto& kv) {
      const Slot& s = kv.second;
      if (s.pending || s.inflight) return false;
      if (s.committed_gen != 0 && s.committed_gen == latest) {
        ++spared;
        return false;
      }
      evicted_through_ = std::max(evicted_through_, s.committed_gen);
      return true;
    });
    spared_ = spared;
  }

  // Entities were dropped without being written: no earlier read-ahead may be trusted.
  void forgot() {
    if (generation_ == nullptr) return;
    evicted_through_ = generation_->fetch_add(1, std::memory_order_release) + 1;
    spared_ = 0;
  }

  std::optional<T> load(std::string_view id) const {
    if (ledger_ == nullptr) return std::nullopt;
    std::string key;
    key.reserve(1 + id.size());
    key.push_back(prefix_);
    key.append(id);
    std::string raw;
    const Result<bool> found = ledger_->get(family_, key, &raw);
    if (!found) {
      // Never treat an unreadable entity as absent: the engine refuses the event and reports this.
      if (io_error_.empty()) io_error_ = "cannot read the projection: " + found.message();
      return std::nullopt;
    }
    if (!*found) return std::nullopt;
    T v;
    if (!decode(raw, &v)) {
      if (io_error_.empty())
        io_error_ = "projection record " + std::string(id) + " is malformed; run 'fenzhang verify'";
      return std::nullopt;
    }
    return v;
  }

  char prefix_;
  std::size_t cache_limit_;
  const Ledger* ledger_ = nullptr;
  std::atomic<std::uint64_t>* generation_ = nullptr;
  // Read-aheads taken at an earlier generation than this are stale (read_ahead_fresh); staging thread
  // only.
  std::uint64_t evicted_through_ = 0;
  std::size_t spared_ = 0;    // clean entities the last eviction kept (evict_clean)
  std::uint64_t layout_ = 0;  // see layout()
  Family family_ = Family::kEntities;
  mutable std::string io_error_;
  Counters counters_;
  StringMap<Slot> map_;
  std::vector<std::string> pending_;   // ids changed by the current batch, each once
  std::vector<std::string> inflight_;  // ids written by the batch in flight
  // The event being applied: (id, its slot before the event's first change, nullopt if it had none).
  std::vector<std::pair<std::string, std::optional<Slot>>> undo_;
  std::size_t event_mark_ = 0;  // pending_.size() when the event began
};

}  // namespace fz::engine
