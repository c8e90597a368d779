// Rebuilding, digesting and comparing the projection (SPEC section 7, `replay` and `verify`).
//
// The projection (entities, balances, postings, targets) is a pure function of the event log.
// rebuild_projection() recomputes it from the events of `source` into `target`'s projection column
// families (target may be source itself, or a scratch ledger for comparisons). It first clears the
// target's projection and marks it as covering no events, then applies events in synced batches, each
// advancing the projection head: a crash leaves a projection that says how far it got, and queries
// refuse a partial projection instead of answering from it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include <utility>
#include <vector>

#include "core/result.hpp"
#include "engine/engine.hpp"
#include "engine/versions.hpp"
#include "store/format.hpp"
#include "store/ledger.hpp"

namespace fz::engine {

// How a rebuild's engine holds the projection in memory (docs/storage.md): its hot window
// (Engine::set_hot_entries) and how many events it applies between checkpoints.
struct RebuildTuning {
  std::size_t hot_entries = Engine::kDefaultHotEntries;
  std::uint64_t checkpoint_events = Engine::kDefaultCheckpointEvents;
};

struct RebuildReport {
  std::uint64_t events = 0;         // the projection now reflects events 1..events
  std::uint64_t postings = 0;       // postings made by the events applied in this call
  std::vector<ReplayIssue> issues;  // what append would now refuse (the first Engine::kMaxIssuesKept)
  std::uint64_t issue_count = 0;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> governed;  // (version seq, events it evaluated)
  std::uint64_t read_ahead_taken = 0;  // records the decoding thread read that the engine took (diagnostics)
};

// Empties target's projection and marks it as covering no events (one synced batch): the next
// catch_up_projection rebuilds it from the first event.
Status clear_projection(Ledger& target);

// progress(seq) is called after each batch (every 4096 events), seq being the last event applied.
// `extra` versions (a what-if) are added to those published in the log. `mode` kEvaluate keeps only
// balances, entities and targets (see Engine::Mode): for a scratch ledger whose balances alone are read.
// The log is decoded on a second thread, which also reads ahead the records applying the events will
// read (Engine::read_ahead_plan).
Result<RebuildReport> rebuild_projection(const Ledger& source, Ledger& target, std::uint64_t until_seq,
                                         const std::function<void(std::uint64_t)>& progress = {},
                                         const std::vector<PublishedVersion>* extra = nullptr,
                                         Engine::Mode mode = Engine::Mode::kReplay,
                                         const RebuildTuning& tuning = {});

// Applies the events after target's projection head (up to until_seq) to it: finishes an interrupted
// rebuild. Writers call it before appending so they never build on a partial projection.
Result<RebuildReport> catch_up_projection(const Ledger& source, Ledger& target, std::uint64_t until_seq,
                                          const std::function<void(std::uint64_t)>& progress = {},
                                          const std::vector<PublishedVersion>* extra = nullptr,
                                          Engine::Mode mode = Engine::Mode::kReplay,
                                          const RebuildTuning& tuning = {});

// Builds the projection of source's events 1..until_seq in a scratch ledger in a temporary directory
// and calls fn with it; the scratch ledger is deleted afterwards. Nothing of `source` changes.
// progress(seq) is called after each batch of the replay; `mode` as for rebuild_projection.
Status with_scratch_replay(const Ledger& source, std::uint64_t until_seq,
                           const std::function<Status(Ledger& scratch, const RebuildReport&)>& fn,
                           const std::vector<PublishedVersion>* extra = nullptr,
                           const std::function<void(std::uint64_t)>& progress = {},
                           Engine::Mode mode = Engine::Mode::kReplay);

// SHA-256 over every projection key and value in a fixed order: equal projections, equal digests.
Result<format::Hash> projection_digest(const Ledger& ledger);
// The same digest of the projection as it stands now, computed when the returned function is called
// (once), which may be on another thread while the ledger is written: a cursor per family is made here
// and holds that state (`replay` digests the projection it replaces while it rebuilds).
std::function<Result<format::Hash>()> projection_digest_now(const Ledger& ledger);

// The book's own invariants: every event's postings sum to zero, so does the whole ledger, and each
// account's balance and availability schedule equal the sum of its journal entries.
Status check_book(const Ledger& ledger);

// Ok when both projections hold exactly the same keys and values; else names the first difference.
Status compare_projections(const Ledger& stored, const Ledger& rebuilt);

}  // namespace fz::engine
