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

#include <memory>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "engine/book.hpp"
#include "engine/state.hpp"
#include "engine/table.hpp"
#include "store/appender.hpp"
#include "store/ledger.hpp"

namespace fz::engine {

class Engine final : public Projector {
 public:
  // Attaches to the projection stored in `ledger` (for a rebuild, a ledger whose projection is being
  // rewritten). projection_head() tells which events it reflects.
  explicit Engine(Ledger& ledger);

  std::uint64_t projection_head() const { return committed_head_; }

  [[nodiscard]] Status apply(const Event& event, std::uint64_t seq) override;
  [[nodiscard]] Status flush(rocksdb::WriteBatch& batch) override;
  void committed() override;
  void discard() override;

  // The postings the last accepted event produced (for tests and explain).
  const std::vector<Posting>& last_postings() const { return last_postings_; }

 private:
  Status post(const Event& e, std::uint64_t seq, std::vector<Posting>* postings);
  void book(const std::vector<Posting>& postings);

  Ledger& ledger_;
  EntityState state_;
  Table<AccountSummary> accounts_{pformat_summary()};
  std::vector<std::pair<std::uint64_t, std::vector<Posting>>> batch_postings_;
  std::vector<Posting> last_postings_;
  std::uint64_t batch_head_ = 0;      // last event applied, pending or committed
  std::uint64_t committed_head_ = 0;  // last event whose projection is durable

  static char pformat_summary();
};

}  // namespace fz::engine
