// open_for_queries(): the read-only ledger a query answers from (SPEC 7: readers never fail because a
// writer is appending, checkpointing, publishing or rebuilding; they see an acknowledged head).
//
// Normally the ledger itself. While a writer rebuilds the projection in place (`rules publish`
// recomputing, `replay`), the live projection is behind its log; the reader then opens the writer's
// reader snapshot (Ledger::create_reader_snapshot: the ledger as it stood before the rebuild, a
// consistent acknowledged state). The snapshot can vanish between two looks (the rebuild finished), so
// both are tried a few times before giving up. Otherwise a projection behind its log is a checkpoint (an
// append writes the projection only every Engine::kDefaultCheckpointEvents events and at its end): the
// ledger is then limited to the checkpoint's head (Ledger::limit_head_for_reading), and every query
// answers as of that acknowledged head. The returned Ledger is read-only and owned by the caller.
#pragma once

#include <memory>
#include <string>

#include "core/result.hpp"
#include "store/ledger.hpp"

namespace fz::engine {

Result<std::unique_ptr<Ledger>> open_for_queries(const std::string& dir);

}  // namespace fz::engine
