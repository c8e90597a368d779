// Engine: the settlement engine. It is the Projector the Appender calls for every new event: it checks
// the engine preconditions (SPEC 3), updates entity state (SPEC 4), runs the governing ruleset version's
// rules (SPEC 5) and records postings and balances (SPEC 6), all as pending changes that flush() puts
// into the same atomic WriteBatch as the events.
//
// Invariants checked in the code, not only in tests: the postings of every statement (and so of every
// event and batch) sum to zero.
//
// The Engine borrows the Ledger; one thread at a time.
#pragma once

#include <atomic>
#include <memory>
#include <optional>

#include <string>
#include <vector>
#include "dsl/eval.hpp"

#include "core/result.hpp"
#include "engine/account_book.hpp"
#include "engine/book.hpp"
#include "engine/facts.hpp"
#include "engine/projection_format.hpp"
#include "engine/state.hpp"
#include "engine/table.hpp"
#include "engine/versions.hpp"
#include "store/appender.hpp"
#include "store/ledger.hpp"

namespace fz::engine {

// What replay found that append would have refused (SPEC 5: "replay never rejects; it reports what
// would now fail").
struct ReplayIssue {
  std::uint64_t seq = 0;
  std::string event_id;
  std::string message;  // "rule withdraw_cps (line 52): insufficient available balance"
};

class Engine final : public Projector {
 public:
  enum class Mode {
    kAppend,  // `require` failures and evaluation errors reject the event
    kReplay,  // nothing is rejected; what would now fail is collected in issues()
    // As kReplay, but only what later evaluations read is kept: entities, targets and account balances
    // with their schedules. The postings and the per-account journal index are not written, so the
    // projection is incomplete (journal, explain and verify cannot use it). For what-ifs, which report
    // balances only.
    kEvaluate,
  };
  static constexpr std::size_t kMaxIssuesKept = 1000;
  static constexpr std::size_t kMaxPostingsPerEvent = 4096;

  // Attaches to the projection stored in `ledger` (for a rebuild, a ledger whose projection is being
  // rewritten), evaluating events with `versions` (every ruleset version in the log).
  // projection_head() tells which events the stored projection reflects.
  Engine(Ledger& ledger, Versions versions, Mode mode = Mode::kAppend);
  // With FZ_ENGINE_STATS set in the environment, prints the caches' read counters to stderr.
  ~Engine() override;
  // An engine that knows no ruleset version: only preconditions and adjustments (tests, tools).
  explicit Engine(Ledger& ledger) : Engine(ledger, Versions{}, Mode::kAppend) {}
  // For appends: the versions are read from `ledger` itself.
  static Result<std::unique_ptr<Engine>> for_append(Ledger& ledger);

  std::uint64_t projection_head() const { return committed_head_; }

  [[nodiscard]] Status apply(const Event& event, std::uint64_t seq) override;
  // flush() seals the current batch into `batch` (it is then in flight), committed() says the batch in
  // flight is durable, discard() drops everything not durable. At most one batch is in flight.
  [[nodiscard]] Status flush(ProjectionBatch& batch) override;
  void committed() override;
  void discard() override;
  bool request_checkpoint() override;
  bool write_back() const override { return checkpoint_interval_ > 0; }
  // Read-ahead: an order event's order record, and the keyed targets the rules will read where the event
  // alone names them (dsl::static_target_keys). Most of an append's reads that miss memory are these: a
  // new order is looked up to refuse a second order.paid, an old one read back to be confirmed, a target
  // looked up to find what the order was already paid.
  ReadAheadPlan read_ahead_plan() const override;
  void read_ahead(std::span<const ReadAheadRecord> records, std::uint64_t epoch) override;
  // The ruleset versions whose target keys are read ahead: the latest effective ones (reading ahead for
  // an event another version governs only costs a read the engine would have made anyway).
  static constexpr std::size_t kReadAheadVersions = 4;
  // How many read-ahead records the engine took in place of its own reads.
  std::uint64_t read_ahead_taken() const;

  // Write-back (SPEC 7, checkpoints). With an interval of N > 0 events, flush() writes the projection
  // only when N events were accepted since the last checkpoint, when a checkpoint was requested, or when
  // the batch carries a ruleset version; in between, a batch carries only its events and the changes stay
  // in memory (the tables' pending layers: bounded by N events' changes). The stored projection is then
  // always a checkpoint: the replay of events 1..projection head, written atomically with its head. A
  // crash loses nothing but the work since it: the next writer replays the log after the checkpoint.
  // 0 (the default) writes the projection with every batch.
  void set_checkpoint_interval(std::uint64_t events) { checkpoint_interval_ = events; }
  // The interval `fenzhang append` uses (docs/storage.md).
  static constexpr std::uint64_t kDefaultCheckpointEvents = std::uint64_t{1} << 16;
  // The largest interval the command line accepts: what is pending stays in memory until it is written.
  static constexpr std::uint64_t kMaxCheckpointEvents = std::uint64_t{1} << 20;

  // The hot window (docs/storage.md): how many entities of each kind, keyed targets and accounts stay
  // in memory once they are durable; past it the clean ones are dropped and read back from the stored
  // projection when next needed. What is pending or being written always stays (bounded by the
  // checkpoint interval). Memory grows with it; so does the share of reads answered from memory.
  void set_hot_entries(std::size_t entries);
  static constexpr std::size_t kDefaultHotEntries = std::size_t{1} << 16;
  static constexpr std::size_t kMaxHotEntries = std::size_t{1} << 24;

  // How many postings the last accepted event produced.
  std::size_t last_posting_count() const { return last_posting_count_; }
  // The postings of the last event applied, if it was accepted (valid until the next apply).
  const std::vector<Posting>& last_postings() const { return postings_; }
  const Versions& versions() const { return versions_; }
  // Events evaluated under the version published at `seq`, since this Engine was made.
  std::uint64_t governed_count(std::uint64_t version_seq) const;
  const std::vector<std::pair<std::uint64_t, std::uint64_t>>& governed() const { return governed_; }
  const std::vector<ReplayIssue>& issues() const { return issues_; }
  std::uint64_t issue_count() const { return issue_count_; }
  // The terms time of the last event applied.
  TimeUs last_terms_time() const { return last_terms_time_; }
  // For an order event just applied: the order's eligibility under the governing version.
  std::optional<Eligibility> order_eligibility_of(const Event& e);
  // Explanation lines of the next evaluations go to `trace` (null: none).
  void set_trace(dsl::TraceSink* trace) { trace_ = trace; }

 private:
  Status post(const Event& e, std::uint64_t seq, std::vector<Posting>* postings);
  Status run_rules(const Event& e, std::uint64_t seq, std::vector<Posting>* postings);
  void book(const std::vector<Posting>& postings);
  Status check_overflow(const std::vector<Posting>& postings);
  void note_issue(std::uint64_t seq, const Event& e, std::string message);

  std::string init_error_;  // set when the projection head could not be read; every apply fails
  // The generations of orders and targets (Table::set_generation_counter), each table its own (an
  // order's commit does not make a target's read-ahead stale): a read-ahead's epoch packs both.
  // Shared with the read-ahead plan, which reads them on the parsing thread.
  struct Generations {
    std::atomic<std::uint64_t> orders{0};
    std::atomic<std::uint64_t> targets{0};
    // Orders in the high half, targets in the low (Table::read_ahead_fresh takes 32 bits).
    std::uint64_t epoch() const {
      return (orders.load(std::memory_order_acquire) << 32) |
             (targets.load(std::memory_order_acquire) & 0xffffffffU);
    }
  };
  std::shared_ptr<Generations> generations_ = std::make_shared<Generations>();
  EntityState state_;
  AccountBook accounts_;
  Table<Allocation> targets_{pformat::kTarget};
  Versions versions_;
  Mode mode_;
  dsl::TraceSink* trace_ = nullptr;
  std::vector<std::uint64_t> batch_versions_;  // rules.published seqs in the current batch
  std::vector<std::pair<std::uint64_t, std::uint64_t>> governed_;  // (version seq, events)
  std::vector<ReplayIssue> issues_;
  std::uint64_t issue_count_ = 0;
  TimeUs last_terms_time_ = 0;
  // The postings of the events since the last checkpoint, encoded (encode_postings) as they are
  // accepted: one string an event rather than four per posting, until the checkpoint writes them.
  std::vector<std::pair<std::uint64_t, std::string>> batch_postings_;
  std::vector<Posting> postings_;  // the event being applied; reused so that its capacity stays
  std::size_t last_posting_count_ = 0;
  std::uint64_t batch_head_ = 0;      // last event applied, pending or committed
  std::uint64_t inflight_head_ = 0;   // last event of the batch being written
  std::uint64_t committed_head_ = 0;  // last event whose projection is durable
  std::uint64_t checkpoint_interval_ = 0;
  bool checkpoint_requested_ = false;
};

}  // namespace fz::engine
