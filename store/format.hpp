// On-disk format of a fenzhang ledger. DO NOT CHANGE the meaning of anything here: ledgers written by
// one build must open, verify and replay under every later build. Extend only by appending (new column
// families, new event types at the end of EventType, a new kFormatVersion with a decoder for the old).
// docs/storage.md describes the same layout for auditors.
//
// Column families (one RocksDB database):
//   events  key: seq, 8 bytes big-endian (first event is 1)    value: record ‖ hash (32 bytes)
//   ids     key: event id bytes                                 value: seq, 8 bytes big-endian
//   meta    key: ASCII name                                     value: per key (see kMeta* below)
//   postings, accounts, entities, targets: the engine's projection (engine/projection_format.hpp)
//
// record (the canonical event bytes; identity of two events is byte equality of their records):
//   u8      format version (kFormatVersion)
//   u8      event type (EventType)
//   str     id
//   svar    at, UTC microseconds
//   uvar    meta count, then that many (str key, str value), keys strictly ascending
//   fields  in the order of spec_of(type).fields, each:
//             optional fields first carry u8 presence (0 absent, 1 present); an `appended`
//             optional field (added later at the end of its type, e.g. payout.bound `name`) has no
//             byte at all when absent and u8 1 then its value when present
//             kIdent kParty kAccount kText kSha256: str
//             kEnum: u8 index into FieldSpec::values
//             kBool: u8 0 or 1
//             kMoney kTime: svar        kPercent kInt: uvar
//   u32     CRC-32C (Castagnoli) of all preceding record bytes, little-endian
// where uvar is LEB128 (minimal length), svar is zigzag then uvar, str is uvar length then bytes.
//
// hash = SHA-256(previous hash ‖ record); the first event's previous hash is 32 zero bytes.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace fz::format {

inline constexpr std::uint8_t kFormatVersion = 1;
inline constexpr std::size_t kHashBytes = 32;
inline constexpr std::size_t kSeqBytes = 8;

inline constexpr std::string_view kCfEvents = "events";
inline constexpr std::string_view kCfIds = "ids";
inline constexpr std::string_view kCfMeta = "meta";
inline constexpr std::string_view kCfPostings = "postings";
inline constexpr std::string_view kCfAccounts = "accounts";
inline constexpr std::string_view kCfEntities = "entities";
inline constexpr std::string_view kCfTargets = "targets";

// meta keys
inline constexpr std::string_view kMetaFormat = "format";  // value: "fenzhang-ledger-1"
inline constexpr std::string_view kMetaFormatValue = "fenzhang-ledger-1";
// Present (value "1") once the ledger keeps a head witness file: from then on a missing witness file is
// an error, not a ledger from before witnesses.
inline constexpr std::string_view kMetaWitness = "witness";

// Files beside RocksDB's in the ledger directory.
inline constexpr std::string_view kLockFile = "fenzhang.lock";  // the writer's flock; holds its pid
// The head witness (store/head_witness.hpp): two 64-byte slots.
inline constexpr std::string_view kWitnessFile = "fenzhang.head";
inline constexpr std::string_view kWitnessMagic = "FZHEAD01";
inline constexpr std::size_t kWitnessSlotBytes = 64;
// Present while a writer creates a new ledger; a directory holding it (and no acknowledged event) is
// an interrupted creation, which the next writer may start again.
inline constexpr std::string_view kCreatingFile = "fenzhang.creating";
// Table files being built for a projection checkpoint (Ledger::write_projection): NAME-<n>.sst, moved
// into RocksDB by the ingestion; one left by a crash is deleted by the next writer.
inline constexpr std::string_view kIngestFilePrefix = "fenzhang.ingest-";
// The reader snapshot (a RocksDB checkpoint with its own witness) kept while the projection is rebuilt.
inline constexpr std::string_view kSnapshotDir = "fenzhang.snapshot";

using Hash = std::array<std::uint8_t, kHashBytes>;

inline std::string seq_key(std::uint64_t seq) {
  std::string k(kSeqBytes, '\0');
  for (std::size_t i = 0; i < kSeqBytes; ++i)
    k[i] = static_cast<char>((seq >> (8 * (kSeqBytes - 1 - i))) & 0xff);
  return k;
}

inline bool parse_seq_key(std::string_view k, std::uint64_t* seq) {
  if (k.size() != kSeqBytes) return false;
  std::uint64_t v = 0;
  for (char c : k) v = (v << 8) | static_cast<std::uint8_t>(c);
  *seq = v;
  return true;
}

}  // namespace fz::format
