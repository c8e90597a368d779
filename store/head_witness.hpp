// HeadWitness: the last acknowledged head of a ledger (sequence number and hash), kept in a small file
// beside RocksDB's own files, DIR/fenzhang.head (SPEC section 7).
//
// Why: RocksDB's files alone cannot tell a complete log from one whose write-ahead log was truncated or
// deleted, or from an older copy restored in place: each opens as a shorter, valid log. The writer syncs
// the witness after every synced batch, so a log that ends before the witness lost acknowledged events,
// and the open is refused with the missing range instead of rolling back silently.
//
// Format (store/format.hpp has the constants; DO NOT CHANGE): two 64-byte slots written alternately, so
// a write torn by a crash leaves the other, older slot intact. Each slot: magic "FZHEAD01", generation
// u64 LE, seq u64 LE, hash (32 bytes), then the first 8 bytes of SHA-256 of the 56 bytes before. The
// valid slot with the higher generation is the witness.
//
// A HeadWitness is owned by one Ledger and used from one thread at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/result.hpp"
#include "store/format.hpp"

namespace fz {

struct WitnessedHead {
  std::uint64_t seq = 0;
  format::Hash hash{};
};

class HeadWitness {
 public:
  // The witness in `dir`, if the file exists; an unreadable file or one with no valid slot is an error.
  static Result<std::optional<WitnessedHead>> read(const std::string& dir);
  // Opens (creating if missing) the witness file of `dir` for writing.
  static Result<HeadWitness> open_for_write(const std::string& dir);

  HeadWitness(HeadWitness&& other) noexcept;
  HeadWitness& operator=(HeadWitness&& other) noexcept;
  HeadWitness(const HeadWitness&) = delete;
  HeadWitness& operator=(const HeadWitness&) = delete;
  ~HeadWitness();

  // Writes `head` into the older slot and syncs it (fdatasync) before returning.
  [[nodiscard]] Status write(const WitnessedHead& head);

  static std::string path_in(const std::string& dir) { return dir + "/" + std::string(format::kWitnessFile); }

 private:
  HeadWitness(int fd, std::string path, std::uint64_t generation)
      : fd_(fd), path_(std::move(path)), generation_(generation) {}
  int fd_ = -1;
  std::string path_;
  std::uint64_t generation_ = 0;  // of the newest valid slot; the next write uses generation_ + 1
};

}  // namespace fz
