#include "engine/engine.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>

#include "engine/facts.hpp"
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
char Engine::pformat_target() {
  return pformat::kTarget;
}

Engine::Engine(Ledger& ledger, Versions versions, Mode mode)
    : ledger_(ledger), versions_(std::move(versions)), mode_(mode) {
  state_.attach(ledger.db(), ledger.cf(Cf::kEntities));
  accounts_.attach(ledger.db(), ledger.cf(Cf::kAccounts));
  targets_.attach(ledger.db(), ledger.cf(Cf::kTargets));
  std::string v;
  if (ledger.db()
          ->Get(rocksdb::ReadOptions(), ledger.cf(Cf::kMeta), std::string(pformat::kProjectionHead), &v)
          .ok()) {
    (void)format::parse_seq_key(v, &committed_head_);
  }
  batch_head_ = committed_head_;
}

Result<std::unique_ptr<Engine>> Engine::for_append(Ledger& ledger) {
  auto versions = load_versions(ledger, ledger.head_seq());
  if (!versions) return versions.error();
  return std::make_unique<Engine>(ledger, std::move(*versions), Mode::kAppend);
}

std::uint64_t Engine::governed_count(std::uint64_t version_seq) const {
  for (const auto& [seq, n] : governed_) {
    if (seq == version_seq) return n;
  }
  return 0;
}

void Engine::note_issue(std::uint64_t seq, const Event& e, std::string message) {
  ++issue_count_;
  if (issues_.size() < kMaxIssuesKept) issues_.push_back(ReplayIssue{seq, e.id, std::move(message)});
}

std::optional<Eligibility> Engine::order_eligibility_of(const Event& e) {
  if (e.type != EventType::kOrderPaid && e.type != EventType::kOrderConfirmed &&
      e.type != EventType::kOrderRefunded) {
    return std::nullopt;
  }
  const Order* o = state_.orders.find(e.field(field_index(e.type, "order")).s);
  if (o == nullptr) return std::nullopt;
  const Order copy = *o;
  const PublishedVersion* v = versions_.governing(last_terms_time_);
  return order_eligibility(state_, copy, v != nullptr ? v->rules.info().timezone : kDefaultOffsetSec);
}

Status Engine::run_rules(const Event& e, std::uint64_t seq, std::vector<Posting>* postings) {
  const TimeUs terms = state_.terms_time(e);
  last_terms_time_ = terms;
  const PublishedVersion* v = versions_.governing(terms);
  if (v == nullptr || !v->rules.listens_to(e.type)) return Status::Ok();
  auto counted =
      std::find_if(governed_.begin(), governed_.end(), [&](const auto& g) { return g.first == v->seq; });
  if (counted == governed_.end()) {
    governed_.emplace_back(v->seq, 1);
  } else {
    ++counted->second;
  }
  EventFacts facts(state_, accounts_, targets_, e, terms, v->rules.info());
  dsl::EvalOptions options;
  options.enforce_requires = mode_ == Mode::kAppend;
  options.trace = trace_;
  dsl::EvalResult r = dsl::evaluate(v->rules, e, facts, options);
  if (std::string io = state_.take_io_error(); !io.empty()) return make_error(io);
  for (const dsl::EvalFailure& f : r.would_fail) note_issue(seq, e, f.text());
  if (!r.ok) {
    if (mode_ == Mode::kAppend) return make_error(r.failure.text());
    note_issue(seq, e, r.failure.text() + " (the event keeps no postings in this replay)");
    return Status::Ok();
  }
  if (r.postings.size() > kMaxPostingsPerEvent) {
    return make_error(fmt::format("the rules made {} postings for one event; at most {}", r.postings.size(),
                                  kMaxPostingsPerEvent));
  }
  const auto version = static_cast<std::uint32_t>(v->rules.info().version);
  for (dsl::RulePosting& p : r.postings) {
    postings->push_back(Posting{seq, e.id, e.at_us, std::move(p.account), p.amount_fen, p.available_from_us,
                                version, std::move(p.rule), static_cast<std::uint32_t>(p.line),
                                std::move(p.target_key)});
  }
  for (dsl::TargetUpdate& t : r.targets) targets_.put(t.key, Allocation{std::move(t.allocation)});
  return Status::Ok();
}

Status Engine::post(const Event& e, std::uint64_t seq, std::vector<Posting>* postings) {
  if (e.type == EventType::kRulesPublished) {
    if (!versions_.has_seq(seq)) {  // a replay knows every version of the log before it starts
      auto v = version_from_event(e, seq);
      if (!v) return v.error();
      versions_.add(std::move(*v));
    }
    batch_versions_.push_back(seq);
    return Status::Ok();
  }
  if (e.type != EventType::kAdjustment) return run_rules(e, seq, postings);
  {
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
  if (st.ok()) last_terms_time_ = state_.terms_time(e);
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
    targets_.reject_event();
    return st;
  }
  assert(sums_to_zero(postings));
  if (!sums_to_zero(postings)) std::abort();  // never write an unbalanced ledger, even in release builds
  book(postings);
  state_.accept_event();
  accounts_.accept_event();
  targets_.accept_event();
  last_postings_ = postings;
  if (!postings.empty()) batch_postings_.emplace_back(seq, std::move(postings));
  batch_head_ = seq;
  return Status::Ok();
}

Status Engine::flush(rocksdb::WriteBatch& batch) {
  state_.flush(batch);
  accounts_.flush(batch);
  targets_.flush(batch);
  for (std::uint64_t seq : batch_versions_) {
    batch.Put(ledger_.cf(Cf::kMeta), std::string(pformat::kVersionPrefix) + format::seq_key(seq), "");
  }
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
  targets_.committed();
  batch_postings_.clear();
  batch_versions_.clear();
}

void Engine::discard() {
  state_.discard();
  accounts_.discard();
  targets_.discard();
  batch_postings_.clear();
  batch_versions_.clear();
  versions_.drop_after(committed_head_);
  batch_head_ = committed_head_;
}

}  // namespace fz::engine
