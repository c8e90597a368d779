// verify_log(): the auditor's check of the event log (SPEC section 7): sequence continuity from 1,
// record checksums and canonical decoding, the SHA-256 hash chain, and the id index both ways.
// Reports the first bad sequence number. Reads only; safe alongside a writer.
#pragma once

#include <cstdint>
#include <optional>

#include "core/result.hpp"
#include "store/ledger.hpp"

namespace fz {

struct LogReport {
  std::uint64_t events = 0;
  format::Hash head{};
  // With an expected head: the sequence number whose hash it is (0 for the empty chain's zero hash);
  // empty when the chain never reaches it.
  std::optional<std::uint64_t> expected_head_seq;
};

// `expect_head`: a head hash an auditor wrote down earlier; the report says where the chain reaches it.
Result<LogReport> verify_log(const Ledger& ledger, const format::Hash* expect_head = nullptr);

}  // namespace fz
