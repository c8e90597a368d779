// The work of `fenzhang append`: read JSON Lines inputs, validate them on a second thread, stage and
// commit them through an Appender in synced batches, and report every rejected line.
#pragma once

#include <cstdint>
#include <functional>
#include <istream>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/result.hpp"
#include "model/event.hpp"
#include "model/event_json.hpp"
#include "store/appender.hpp"
#include "store/ledger.hpp"

namespace fz {

// One record of an input: a JSON line (one event), or a row of a report mapped to its events
// (fenzhang import). The events of a record are staged together: when one of them conflicts with an
// event already in the ledger or in this run (same id, other body), none is staged and the record is
// rejected; a record whose events are all duplicates is a duplicate.
struct InputRecord {
  std::uint64_t line = 0;
  std::string id = "-";       // shown in a rejection
  std::string reason;         // non-empty: rejected, `events` is empty
  bool skipped = false;       // neither appended nor rejected (counted in AppendReport::skipped)
  std::vector<Event> events;  // in append order
  // The canonical records of `events` (encode_event), one each, when the parsing thread made them, but
  // "" for the `shared` ones; empty: they are made when staged.
  std::vector<std::string> encoded;
  // The first `shared` events are definitions several records repeat (an import's implicit plan):
  // each is staged at most once per run, and its later repetitions are not counted at all.
  std::size_t shared = 0;
  // Set when the record is an exported rules.published line (model/event_json.hpp): it is published
  // through AppendOptions::publish_exported, never staged like other events.
  std::optional<ExportedChain> chain;
  // Read-ahead (run_append's parsing thread): bit k is set when events[k]'s id was in no event of the log
  // when Ledger::log_writes() was `ahead_log_writes` (Appender::stage_encoded's absent_at).
  std::uint64_t ahead_absent = 0;
  std::uint64_t ahead_log_writes = 0;
};

// Produces the records of one input, in order. Used on the parsing thread, one at a time.
class RecordSource {
 public:
  virtual ~RecordSource() = default;
  // false at the end; an error when the input cannot be read (the append stops, as for a read error).
  [[nodiscard]] virtual Result<bool> next(InputRecord* out) = 0;
};

struct AppendInput {
  std::string name;                 // shown in rejections ("-" for standard input)
  std::istream* in = nullptr;       // borrowed: JSON Lines
  RecordSource* records = nullptr;  // borrowed: used instead of `in` when set
};

struct LineRejection {
  std::string file;
  std::uint64_t line = 0;
  std::string id;
  std::string reason;
};

struct AppendReport {
  std::uint64_t appended = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t rejected = 0;
  std::uint64_t skipped = 0;         // records a RecordSource marked skipped
  std::uint64_t ids_read_ahead = 0;  // id lookups the read-ahead spared (last Appender; diagnostics)
  std::vector<std::string> notes;    // e.g. an --atomic file that was not appended
};

// What publishing an exported rules.published record did; the Projector to use from then on (the
// publish rebuilds the projection, so the one the append started with is stale).
struct ExportedRulesOutcome {
  Disposition disposition = Disposition::kRejected;  // kAppended, kDuplicate or kRejected
  std::string reason;
  Projector* projector = nullptr;
};
using PublishExported = std::function<Result<ExportedRulesOutcome>(const Event&, const ExportedChain&)>;

struct AppendOptions {
  bool atomic = false;  // each input all-or-nothing
  // Events per synced WriteBatch. Each batch costs two fdatasyncs (the WAL, then the head witness) and
  // the writer's fixed work, and the staging thread waits when the one batch in flight is not done: at
  // 1M generated events 16,384 took 10-15% less time than 4,096 for ~20 MB more peak RSS (32,768 and
  // 65,536: a little faster still, +70 and +150 MB; docs/performance.md, seventh session). A crash loses
  // at most the batches not yet acknowledged, which a re-run of the same input appends again.
  std::size_t batch_events = 16384;
  // For the caller that makes the engine (append_inputs): events between projection checkpoints, 0 for
  // the projection with every batch; nullopt for Engine::kDefaultCheckpointEvents. run_append itself
  // only asks the Projector for its last checkpoint at the end.
  std::optional<std::uint64_t> checkpoint_events;
  // For append_inputs too: the engine's hot window (Engine::set_hot_entries); nullopt for the default.
  std::optional<std::size_t> hot_entries;
  // Publishes exported rules.published records (`fenzhang append` sets it); without it they are rejected.
  PublishExported publish_exported;
  // The parsing thread reads ahead, for each chunk of lines at once, whether their ids are in the log and
  // the projection records the Projector names (Projector::read_ahead_plan); the staging thread then
  // reads only what may have changed since. kWhenAhead: the parsing thread reads ahead only while it
  // runs ahead of staging (chunks are waiting), so that it never slows the slower side (an import's rows
  // cost more to parse than to stage); a chunk handed over without it is read ahead, with the same
  // batched lookups, by the staging thread when it takes the chunk. kNever: the staging thread reads
  // everything itself, one lookup at a time (tests compare them).
  enum class ReadAhead { kWhenAhead, kAlways, kNever };
  ReadAhead read_ahead = ReadAhead::kWhenAhead;
};

// Splits JSON Lines read from `in` into records as run_append does: one per line that is not blank, the
// event parsed (with an exported rules.published line's chain) or the line refused with its reason (a
// line over the 64 KiB limit is refused without holding it). fn gets each record and its line's length.
// An error when `in` could not be read; *last_line is the number of the last line read.
[[nodiscard]] Status read_jsonl_records(std::istream& in,
                                        const std::function<void(InputRecord&&, std::size_t)>& fn,
                                        std::uint64_t* last_line);

// Stages a record's events through `appender` as run_append does: kAppended when at least one was
// staged and none rejected, kDuplicate when all were duplicates (counted in *duplicates), kRejected
// (with *reason) when its events could not all be taken, kFailed when the ledger could not be read.
// `shared_seen`: the ids of shared definitions (InputRecord::shared) staged so far in this run.
Disposition stage_record(Appender& appender, InputRecord& rec, std::unordered_set<std::string>& shared_seen,
                         std::string* reason, std::uint64_t* duplicates);

// Rejections are reported through on_reject as they happen. An error result means the ledger could
// not be written (events acknowledged before it are durable and counted in nothing: see the log).
Result<AppendReport> run_append(Ledger& ledger, Projector* projector, const std::vector<AppendInput>& inputs,
                                const AppendOptions& options,
                                const std::function<void(const LineRejection&)>& on_reject);

}  // namespace fz
