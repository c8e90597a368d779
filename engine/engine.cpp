#include "engine/engine.hpp"

#include <fmt/format.h>

#include <cassert>

#include "engine/projection_format.hpp"

namespace fz::engine {
namespace {

std::string journal_value(const Posting& p) {
  std::string v;
  bytes::put_svar(v, p.amount_fen);
  bytes::put_svar(v, p.available_at);
  bytes::put_svar(v, p.event_at);
  return v;
}

// The statement invariant: a statement's postings sum to exactly zero.
bool sums_to_zero(const std::vector<Posting>& ps) {
  Int128 sum = 0;
  for (const Posting& p : ps) sum += p.amount_fen;
  return sum == 0;
}

}  // namespace

char Engine::pformat_summary() {
  return pformat::kSummary;
}

Engine::Engine(Ledger& ledger) : ledger_(ledger) {
  state_.attach(ledger.db(), ledger.cf(Cf::kEntities));
  accounts_.attach(ledger.db(), ledger.cf(Cf::kAccounts));
  std::string v;
  if (ledger.db()
          ->Get(rocksdb::ReadOptions(), ledger.cf(Cf::kMeta), std::string(pformat::kProjectionHead), &v)
          .ok()) {
    (void)format::parse_seq_key(v, &committed_head_);
  }
  batch_head_ = committed_head_;
}

Status Engine::post(const Event& e, std::uint64_t seq, std::vector<Posting>* postings) {
  if (e.type == EventType::kAdjustment) {
    // An operator's correcting transfer: one balanced pair, available at once, no rules run.
    const Fen amount = e.field(2).i;
    Posting from{seq, e.id, e.at_us, e.field(0).s, -amount, e.at_us, 0, "adjustment", 0, ""};
    Posting to{seq, e.id, e.at_us, e.field(1).s, amount, e.at_us, 0, "adjustment", 0, ""};
    postings->push_back(std::move(from));
    postings->push_back(std::move(to));
  }
  return Status::Ok();
}

void Engine::book(const std::vector<Posting>& postings) {
  for (const Posting& p : postings) {
    AccountSummary s;
    if (const AccountSummary* cur = accounts_.find(p.account)) s = *cur;
    s.total_fen += p.amount_fen;
    Fen& slot = s.schedule[p.available_at];
    slot += p.amount_fen;
    if (slot == 0) s.schedule.erase(p.available_at);
    accounts_.put(p.account, std::move(s));
  }
}

Status Engine::apply(const Event& e, std::uint64_t seq) {
  Status st = state_.check_and_apply(e);
  if (st.ok()) {
    if (std::string io = state_.take_io_error(); !io.empty()) st = make_error(io);
  }
  std::vector<Posting> postings;
  if (st.ok()) st = post(e, seq, &postings);
  if (st.ok()) {
    for (const Posting& p : postings) {
      Fen total = 0;
      if (const AccountSummary* cur = accounts_.find(p.account)) total = cur->total_fen;
      if (!add_fen(total, p.amount_fen)) {
        st = make_error(fmt::format("account {} would overflow", p.account));
        break;
      }
    }
  }
  if (!st.ok()) {
    state_.reject_event();
    accounts_.reject_event();
    return st;
  }
  assert(sums_to_zero(postings));
  if (!sums_to_zero(postings)) std::abort();  // never write an unbalanced ledger, even in release builds
  book(postings);
  state_.accept_event();
  accounts_.accept_event();
  last_postings_ = postings;
  if (!postings.empty()) batch_postings_.emplace_back(seq, std::move(postings));
  batch_head_ = seq;
  return Status::Ok();
}

Status Engine::flush(rocksdb::WriteBatch& batch) {
  state_.flush(batch);
  accounts_.flush(batch);
  auto* postings_cf = ledger_.cf(Cf::kPostings);
  auto* accounts_cf = ledger_.cf(Cf::kAccounts);
  for (const auto& [seq, ps] : batch_postings_) {
    batch.Put(postings_cf, format::seq_key(seq), encode_postings(ps));
    for (std::size_t i = 0; i < ps.size(); ++i) {
      batch.Put(accounts_cf, pformat::journal_key(ps[i].account, seq, static_cast<std::uint16_t>(i)),
                journal_value(ps[i]));
    }
  }
  batch.Put(ledger_.cf(Cf::kMeta), std::string(pformat::kProjectionHead), format::seq_key(batch_head_));
  return Status::Ok();
}

void Engine::committed() {
  committed_head_ = batch_head_;
  state_.committed();
  accounts_.committed();
  batch_postings_.clear();
}

void Engine::discard() {
  state_.discard();
  accounts_.discard();
  batch_postings_.clear();
  batch_head_ = committed_head_;
}

}  // namespace fz::engine
