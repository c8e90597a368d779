// Keys of the engine's projection. DO NOT CHANGE: part of the on-disk format (see store/format.hpp and
// docs/storage.md). The projection is derived data: `fenzhang replay` rebuilds it from the event log.
// Every key prefix of the projection is here; the engine reads and writes these keys only through the
// store's seam (store/projection_store.hpp), in the family named on the left.
//
//   entities CF  'a'+agency  's'+streamer  'p'+party  'P'+plan  'A'+plan+'\0'+streamer  'o'+order  't'+task
//                -> engine/entities.hpp encodings
//   accounts CF  'S'+account                      -> the account's total: u8 1, svar fen
//                'V'+account+'\0'+time(8)          -> u8 1, svar fen: the sum of the account's postings that
//                                                    become available at that time (kept when it is zero)
//                'J'+account+'\0'+bucket(8)        -> JournalBucket: the account's postings of the events
//                                                    with seq in [bucket*4096, bucket*4096+4095], log order
//   postings CF  seq(8)                            -> all postings of that event (engine/book.hpp)
//   targets CF   'T'+key                           -> Allocation of a `per KEY` target
//   meta CF      "projection_head"                 -> seq(8): the projection reflects events 1..seq
//                "version/"+seq(8)                 -> "" : the event at seq is a rules.published
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/bytes.hpp"
#include "store/format.hpp"

namespace fz::engine::pformat {

// Entities family: one prefix byte per kind, then the entity's id (engine/entities.hpp encodes values).
inline constexpr char kAgency = 'a';
inline constexpr char kStreamer = 's';
inline constexpr char kPayout = 'p';
inline constexpr char kPlan = 'P';
inline constexpr char kApplication = 'A';  // id: plan '\0' streamer
inline constexpr char kOrder = 'o';
inline constexpr char kTask = 't';
// Accounts family.
inline constexpr char kSummary = 'S';
inline constexpr char kJournal = 'J';
inline constexpr char kSchedule = 'V';
// Targets family.
inline constexpr char kTarget = 'T';
// Events per journal bucket: an account's postings are indexed in one value per 4096 sequence numbers, so
// a batch rewrites a few values per account instead of adding a key per posting.
inline constexpr std::uint64_t kJournalBucketSeqs = 4096;
inline constexpr std::string_view kProjectionHead = "projection_head";
inline constexpr std::string_view kVersionPrefix = "version/";

inline std::string journal_prefix(std::string_view account) {
  std::string k(1, kJournal);
  k.append(account);
  k.push_back('\0');
  return k;
}

inline std::uint64_t journal_bucket_of(std::uint64_t seq) {
  return seq / kJournalBucketSeqs;
}

inline std::string journal_bucket_key(std::string_view account, std::uint64_t bucket) {
  return journal_prefix(account) + format::seq_key(bucket);
}

inline std::string summary_key(std::string_view account) {
  std::string k(1, kSummary);
  k.append(account);
  return k;
}

inline std::string schedule_prefix(std::string_view account) {
  std::string k(1, kSchedule);
  k.append(account);
  k.push_back('\0');
  return k;
}

// A time as 8 bytes whose byte order is the time order (sign bit flipped, big-endian).
inline std::string time_key(std::int64_t t_us) {
  return format::seq_key(static_cast<std::uint64_t>(t_us) ^ (std::uint64_t{1} << 63));
}

inline bool parse_time_key(std::string_view k, std::int64_t* t_us) {
  std::uint64_t u = 0;
  if (!format::parse_seq_key(k, &u)) return false;
  *t_us = static_cast<std::int64_t>(u ^ (std::uint64_t{1} << 63));
  return true;
}

inline std::string schedule_key(std::string_view account, std::int64_t available_at_us) {
  return schedule_prefix(account) + time_key(available_at_us);
}

}  // namespace fz::engine::pformat

namespace fz::engine {

// How a flush orders the keys it puts in a batch. A batch written through a memtable wants them sorted
// (RocksDB inserts a run of ascending keys much faster than the same keys in hash order); a checkpoint
// (Ledger::write_projection) sorts them itself on the writer thread, so the staging thread need not.
enum class KeyOrder { kSorted, kAny };

}  // namespace fz::engine
