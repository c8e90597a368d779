// The projection's storage seam: how the engine reads and writes its derived state (balances, entities,
// keyed targets, postings, the projection's meta keys) without touching RocksDB.
//
// What it is: the projection lives in five families of a Ledger (store/ledger.hpp); which keys they hold
// is engine/projection_format.hpp's business, how they are stored is the store's. The engine reads with
// Ledger::get and Ledger::cursor, and writes by filling a ProjectionBatch that the store writes atomically
// (with the events of an append, as a checkpoint, or on its own). The event log and the id index are not
// projection families: the engine reads events through Ledger::read/scan and never writes them.
//
// Ownership and threads: a ProjectionBatch and a ProjectionCursor belong to the Ledger they were made
// for and must not outlive it. A cursor sees the family as it was when it was made (a consistent
// view) and is used from one thread at a time; so is a batch. Neither is thread-safe.
#pragma once

#include <rocksdb/iterator.h>
#include <rocksdb/write_batch.h>

#include <cstdint>
#include <memory>
#include <string_view>

#include "core/result.hpp"

namespace fz {

class Ledger;
class Appender;

// The projection's families (engine/projection_format.hpp says what each holds).
enum class Family : std::uint8_t { kMeta, kPostings, kAccounts, kEntities, kTargets };
inline constexpr Family kAllFamilies[] = {Family::kEntities, Family::kAccounts, Family::kPostings,
                                          Family::kTargets, Family::kMeta};
// The family's name in messages ("entities", "accounts", ...).
std::string_view family_name(Family family);

// Puts and deletes of projection keys, written together by Ledger::write, Ledger::write_projection or
// an Appender (with the events they follow from).
class ProjectionBatch {
 public:
  explicit ProjectionBatch(const Ledger& ledger) : ledger_(&ledger) {}

  void put(Family family, std::string_view key, std::string_view value);
  void erase(Family family, std::string_view key);
  // Deletes every key of the family (a projection rebuilt from nothing).
  void erase_all(Family family);
  // Deletes the meta keys k with begin <= k < end. Meta only: the other families insert with RocksDB's
  // memtable hints (store/ledger.cpp), which a range deletion starting inside their keys trips over.
  void erase_meta_range(std::string_view begin, std::string_view end);

  // Operations held.
  std::uint32_t count() const { return batch_.Count(); }
  bool empty() const { return count() == 0; }
  void clear() { batch_.Clear(); }
  friend void swap(ProjectionBatch& a, ProjectionBatch& b) noexcept {
    std::swap(a.ledger_, b.ledger_);
    std::swap(a.batch_, b.batch_);
  }

 private:
  friend class Ledger;
  friend class Appender;  // adds the events and their ids to the same atomic write
  const Ledger* ledger_;
  rocksdb::WriteBatch batch_;
};

// Walks one family in key order.
class ProjectionCursor {
 public:
  ProjectionCursor(ProjectionCursor&&) noexcept = default;
  ProjectionCursor& operator=(ProjectionCursor&&) noexcept = default;

  void seek(std::string_view key) { it_->Seek(rocksdb::Slice(key.data(), key.size())); }
  void seek_to_first() { it_->SeekToFirst(); }
  void next() { it_->Next(); }
  bool valid() const { return it_->Valid(); }
  // valid() and the key begins with `prefix`.
  bool valid_in(std::string_view prefix) const { return valid() && key().starts_with(prefix); }
  // Valid until the cursor moves.
  std::string_view key() const { return std::string_view(it_->key().data(), it_->key().size()); }
  std::string_view value() const { return std::string_view(it_->value().data(), it_->value().size()); }
  // False when the walk ended early on a read error (then status() says which).
  bool ok() const { return it_->status().ok(); }
  // Ok, or why the walk ended early (an I/O or corruption error whose message starts with `what`):
  // check it once valid() turns false.
  [[nodiscard]] Status status(std::string_view what) const;

 private:
  friend class Ledger;
  explicit ProjectionCursor(std::unique_ptr<rocksdb::Iterator> it) : it_(std::move(it)) {}
  std::unique_ptr<rocksdb::Iterator> it_;
};

}  // namespace fz
