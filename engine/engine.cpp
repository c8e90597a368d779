#include "engine/engine.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cassert>
#include <cstdlib>

#include "engine/facts.hpp"
#include "engine/projection_format.hpp"
#include "engine/queries.hpp"

namespace fz::engine {
namespace {

// The statement invariant: a statement's postings sum to exactly zero.
bool sums_to_zero(const std::vector<Posting>& ps) {
  Int128 sum = 0;
  for (const Posting& p : ps) sum += p.amount_fen;
  return sum == 0;
}

}  // namespace

Engine::Engine(Ledger& ledger, Versions versions, Mode mode) : versions_(std::move(versions)), mode_(mode) {
  state_.attach(&ledger);
  accounts_.attach(&ledger);
  targets_.attach(&ledger, Family::kTargets);
  state_.orders.set_generation_counter(&generations_->orders);
  targets_.set_generation_counter(&generations_->targets);
  accounts_.set_journal(mode != Mode::kEvaluate);
  // An unreadable or malformed head must not pass for "nothing projected yet": every apply then fails.
  if (auto head = read_projection_head(ledger)) {
    committed_head_ = *head;
  } else {
    init_error_ = head.message();
  }
  batch_head_ = inflight_head_ = committed_head_;
  accounts_.set_stored_limit(inflight_head_);
}

namespace {

template <class T>
void print_counters(const char* name, const Table<T>& t) {
  const auto& c = t.counters();
  fmt::print(stderr,
             "engine cache {:<13} finds {:>10}  loads {:>10} ({:.1f}% of finds, {} found), read ahead {}\n",
             name, c.finds, c.loads, c.finds == 0 ? 0.0 : 100.0 * static_cast<double>(c.loads) / c.finds,
             c.loads_found, c.seeded);
}

}  // namespace

Engine::~Engine() {
  if (const char* env = std::getenv("FZ_ENGINE_STATS"); env == nullptr || *env == '\0') return;
  print_counters("agencies", state_.agencies);
  print_counters("streamers", state_.streamers);
  print_counters("payouts", state_.payouts);
  print_counters("plans", state_.plans);
  print_counters("applications", state_.applications);
  print_counters("orders", state_.orders);
  print_counters("tasks", state_.tasks);
  print_counters("targets", targets_);
  const auto& a = accounts_.counters();
  fmt::print(stderr, "engine cache {:<13} finds {:>10}  loads {:>10}, journal bucket gets {}\n", "accounts",
             a.finds, a.loads, a.bucket_gets);
}

Result<std::unique_ptr<Engine>> Engine::for_append(Ledger& ledger) {
  auto versions = load_versions(ledger, ledger.head_seq());
  if (!versions) return versions.error();
  return std::make_unique<Engine>(ledger, std::move(*versions), Mode::kAppend);
}

void Engine::set_hot_entries(std::size_t entries) {
  state_.set_cache_limit(entries);
  accounts_.set_cache_limit(entries);
  targets_.set_cache_limit(entries);
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
  const Order* o = state_.orders.find(e.text(fields::kOrder));
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
  // An unreadable projection is never the event's fault: the append stops (Error::fatal).
  if (std::string io = state_.take_io_error(); !io.empty()) return make_io_error(io);
  if (std::string io = accounts_.take_io_error(); !io.empty()) return make_io_error(io);
  if (std::string io = targets_.take_io_error(); !io.empty()) return make_io_error(io);
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
    const Fen amount = e.number(fields::adjustment::kAmount);
    Posting from{seq,          e.id, e.at_us, e.text(fields::adjustment::kFrom), -amount, e.at_us, 0,
                 "adjustment", 0,    ""};
    Posting to{seq, e.id, e.at_us, e.text(fields::adjustment::kTo), amount, e.at_us, 0, "adjustment", 0, ""};
    postings->push_back(std::move(from));
    postings->push_back(std::move(to));
  }
  return Status::Ok();
}

void Engine::book(const std::vector<Posting>& postings) {
  for (std::size_t i = 0; i < postings.size(); ++i)
    accounts_.post(postings[i], static_cast<std::uint16_t>(i));
}

// SPEC 1: arithmetic that would overflow is an error. Every amount an account keeps must fit in 64 bits
// as the event's postings would leave it: the total, each schedule entry and the available balance at
// any time (an event may post to one account more than once). Cheap unless an account nears the limits.
Status Engine::check_overflow(const std::vector<Posting>& postings) {
  for (std::size_t i = 0; i < postings.size(); ++i) {
    const std::string& account = postings[i].account;
    bool first = true;  // check each account once, at its first posting
    for (std::size_t j = 0; j < i && first; ++j) first = postings[j].account != account;
    if (!first) continue;
    const AccountSummary* cur = accounts_.find(account);
    if (std::string io = accounts_.take_io_error(); !io.empty()) return make_io_error(io);
    Int128 total = cur != nullptr ? cur->total_fen : 0;
    Int128 bound = cur != nullptr ? cur->magnitude : 0;
    for (std::size_t j = i; j < postings.size(); ++j) {
      if (postings[j].account != account) continue;
      total += postings[j].amount_fen;
      bound += postings[j].amount_fen < 0 ? -Int128{postings[j].amount_fen} : Int128{postings[j].amount_fen};
    }
    const bool fits = total >= INT64_MIN && total <= INT64_MAX;
    if (fits && bound <= INT64_MAX) continue;  // no partial sum can leave 64 bits
    if (!fits) return make_error(fmt::format("account {} would overflow", account));
    // Near the limits: apply the postings to a copy and walk its schedule.
    AccountSummary after = cur != nullptr ? *cur : AccountSummary{};
    after.total_fen = static_cast<Fen>(total);
    after.magnitude = bound;  // an upper bound, so fits() walks the schedule
    bool entries_fit = true;
    for (std::size_t j = i; j < postings.size() && entries_fit; ++j) {
      if (postings[j].account == account)
        entries_fit = accumulate_fen(after.schedule[postings[j].available_at], postings[j].amount_fen);
    }
    if (!entries_fit || !after.fits()) return make_error(fmt::format("account {} would overflow", account));
  }
  return Status::Ok();
}

Status Engine::apply(const Event& e, std::uint64_t seq) {
  if (!init_error_.empty()) return make_error(init_error_);
  Status st = state_.check_and_apply(e);
  if (st.ok()) last_terms_time_ = state_.terms_time(e);
  if (st.ok()) {
    if (std::string io = state_.take_io_error(); !io.empty()) st = make_io_error(io);
  }
  std::vector<Posting>& postings = postings_;
  postings.clear();
  if (st.ok()) st = post(e, seq, &postings);
  if (st.ok()) st = check_overflow(postings);
  if (!st.ok()) {
    state_.reject_event();
    targets_.reject_event();
    return st;
  }
  assert(sums_to_zero(postings));
  if (!sums_to_zero(postings)) std::abort();  // never write an unbalanced ledger, even in release builds
  book(postings);
  state_.accept_event();
  targets_.accept_event();
  last_posting_count_ = postings.size();
  if (!postings.empty() && mode_ != Mode::kEvaluate)
    batch_postings_.emplace_back(seq, encode_postings(postings));
  batch_head_ = seq;
  return Status::Ok();
}

ReadAheadPlan Engine::read_ahead_plan() const {
  std::vector<dsl::Ruleset> rules;    // copies share the compiled programs, which are immutable
  const auto& all = versions_.all();  // sorted by effective time
  for (std::size_t i = all.size(); i > 0 && rules.size() < kReadAheadVersions; --i)
    rules.push_back(all[i - 1].rules);
  ReadAheadPlan plan;
  plan.epoch = [generations = generations_] { return generations->epoch(); };
  plan.keys = [rules = std::move(rules)](const Event& e, std::vector<ReadAheadRecord>* out) {
    if (!fields::kOrder.holds(e.type)) return;
    std::string key(1, pformat::kOrder);
    key += e.text(fields::kOrder);
    out->push_back(ReadAheadRecord{Family::kEntities, std::move(key), std::nullopt});
    std::vector<std::string> targets;
    for (const dsl::Ruleset& r : rules) dsl::static_target_keys(r, e, &targets);
    for (std::string& t : targets) {
      t.insert(t.begin(), pformat::kTarget);
      out->push_back(ReadAheadRecord{Family::kTargets, std::move(t), std::nullopt});
    }
  };
  return plan;
}

std::uint64_t Engine::read_ahead_taken() const {
  return state_.orders.counters().seeded + targets_.counters().seeded;
}

void Engine::read_ahead(std::span<const ReadAheadRecord> records, std::uint64_t epoch) {
  const auto orders_read_at = static_cast<std::uint32_t>(epoch >> 32);
  const auto targets_read_at = static_cast<std::uint32_t>(epoch);
  for (const ReadAheadRecord& r : records) {
    if (r.key.empty()) continue;
    const std::string_view id = std::string_view(r.key).substr(1);
    // Checked before each seed, which may itself evict (Table::seed).
    if (r.family == Family::kEntities && r.key.front() == pformat::kOrder) {
      if (state_.orders.read_ahead_fresh(orders_read_at)) state_.orders.seed(id, r.value);
    } else if (r.family == Family::kTargets && r.key.front() == pformat::kTarget) {
      if (targets_.read_ahead_fresh(targets_read_at)) targets_.seed(id, r.value);
    }
  }
}

bool Engine::request_checkpoint() {
  if (batch_head_ == inflight_head_ && batch_versions_.empty()) return false;
  checkpoint_requested_ = true;
  return true;
}

Status Engine::flush(ProjectionBatch& batch) {
  // Between checkpoints a batch carries only its events (see set_checkpoint_interval).
  // The first batch of a ledger always checkpoints, so a ledger with events always has a projection head.
  const bool due = checkpoint_interval_ == 0 || checkpoint_requested_ || !batch_versions_.empty() ||
                   inflight_head_ == 0 || batch_head_ - inflight_head_ >= checkpoint_interval_;
  if (!due) return Status::Ok();
  checkpoint_requested_ = false;
  // A write-back projector's flush is a checkpoint, which the writer thread sorts (write_projection).
  const KeyOrder order = write_back() ? KeyOrder::kAny : KeyOrder::kSorted;
  state_.flush(batch, order);
  accounts_.flush(batch, order);
  targets_.flush(batch, order);
  for (std::uint64_t seq : batch_versions_) {
    batch.put(Family::kMeta, std::string(pformat::kVersionPrefix) + format::seq_key(seq), "");
  }
  for (const auto& [seq, encoded] : batch_postings_)
    batch.put(Family::kPostings, format::seq_key(seq), encoded);
  batch.put(Family::kMeta, pformat::kProjectionHead, format::seq_key(batch_head_));
  batch_postings_.clear();
  batch_versions_.clear();
  inflight_head_ = batch_head_;
  accounts_.set_stored_limit(inflight_head_);
  return Status::Ok();
}

void Engine::committed() {
  committed_head_ = inflight_head_;
  state_.committed();
  accounts_.committed();
  targets_.committed();
}

void Engine::discard() {
  checkpoint_requested_ = false;
  state_.discard();
  accounts_.discard();
  targets_.discard();
  batch_postings_.clear();
  batch_versions_.clear();
  versions_.drop_after(committed_head_);
  batch_head_ = inflight_head_ = committed_head_;
  accounts_.set_stored_limit(inflight_head_);
}

}  // namespace fz::engine
