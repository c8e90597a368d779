// verify_log(): the auditor's check of the event log (SPEC section 7): sequence continuity from 1,
// record checksums and canonical decoding, the SHA-256 hash chain, and the id index both ways.
// Reports the first bad sequence number. Reads only; safe alongside a writer.
#pragma once

#include <cstdint>

#include "core/result.hpp"
#include "store/ledger.hpp"

namespace fz {

struct LogReport {
  std::uint64_t events = 0;
  format::Hash head{};
};

Result<LogReport> verify_log(const Ledger& ledger);

}  // namespace fz
