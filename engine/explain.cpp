#include "engine/explain.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "engine/engine.hpp"
#include "engine/facts.hpp"
#include "engine/projection_format.hpp"
#include "engine/queries.hpp"
#include "engine/rebuild.hpp"
#include "engine/versions.hpp"
#include "store/codec.hpp"

namespace fz::engine {
namespace {

class CollectTrace final : public dsl::TraceSink {
 public:
  explicit CollectTrace(std::vector<TraceLine>* out) : out_(out) {}
  void line(int depth, std::string text) override { out_->push_back(TraceLine{depth, std::move(text)}); }

 private:
  std::vector<TraceLine>* out_;
};

std::string terms_reason(EventType t) {
  switch (t) {
    case EventType::kOrderPaid:
      return "the order's paid_at (its own time)";
    case EventType::kOrderConfirmed:
    case EventType::kOrderRefunded:
      return "the order's paid_at";
    case EventType::kVtaskCreated:
      return "the V-task's created_at (its own time)";
    case EventType::kVtaskConfirmed:
    case EventType::kVtaskCancelled:
      return "the V-task's created_at";
    default:
      return "the event's own time";
  }
}

Status stored_postings(const Ledger& ledger, std::uint64_t seq, std::vector<Posting>* out) {
  std::string v;
  auto found = ledger.get(Family::kPostings, format::seq_key(seq), &v);
  if (found && !*found) return Status::Ok();
  if (!found || !decode_postings(v, out))
    return make_error(fmt::format("cannot read the postings of seq {}", seq));
  return Status::Ok();
}

void describe_versions(const Versions& versions, TimeUs terms, Explanation* x) {
  const PublishedVersion* chosen = versions.governing(terms);
  for (const PublishedVersion& v : versions.all()) {
    const dsl::RulesetInfo& i = v.rules.info();
    const std::string label = fmt::format("{} v{} (seq {}, effective {})", i.name, i.version, v.seq,
                                          format_time(i.effective_us, i.timezone));
    if (&v == chosen) continue;
    if (i.effective_us > terms) {
      x->other_versions.push_back(label + ": takes effect after the terms time");
    } else if (chosen != nullptr && i.effective_us == chosen->rules.info().effective_us) {
      x->other_versions.push_back(label + ": same effective time, published earlier");
    } else {
      x->other_versions.push_back(label + ": superseded by a version with a later effective time");
    }
  }
  if (chosen == nullptr) {
    x->version_reason = versions.empty()
                            ? "no ruleset has been published: no rules run"
                            : "no published version is effective at the terms time: no rules run";
    return;
  }
  const dsl::RulesetInfo& i = chosen->rules.info();
  x->version_seq = chosen->seq;
  x->version_name = i.name;
  x->version = i.version;
  x->version_effective = i.effective_us;
  x->timezone = i.timezone;
  x->version_reason =
      "the greatest effective time at or before the terms time, of all versions in the ledger";
}

Status read_target(const Ledger& l, const std::string& key, Allocation* out) {
  std::string raw;
  auto found = l.get(Family::kTargets, std::string(1, pformat::kTarget) + key, &raw);
  *out = Allocation{};
  if (!found) return with_context(found.error(), fmt::format("cannot read target {}", key));
  if (!*found) return Status::Ok();
  if (!decode(raw, out)) return make_error(fmt::format("target {} is malformed; run 'fenzhang verify'", key));
  return Status::Ok();
}

}  // namespace

Result<Explanation> explain(const Ledger& ledger, const std::string& event_id) {
  FZ_TRY(check_projection_current(ledger));
  auto seq = ledger.seq_of(event_id);
  if (!seq) return seq.error();
  if (!seq->has_value()) return make_error(fmt::format("no event {} in the ledger", event_id));
  if (**seq > ledger.head_seq()) {
    // A reader limited to a checkpoint (engine/reader.hpp): the event is durable but not projected yet.
    return make_error(fmt::format(
        "event {} (seq {}) is after the projection's checkpoint (events 1..{}): a writer is appending, or "
        "was stopped before its next checkpoint; explain it after the append (or 'fenzhang replay')",
        event_id, **seq, ledger.head_seq()));
  }
  auto stored = ledger.read(**seq);
  if (!stored) return stored.error();
  Explanation x;
  x.seq = stored->seq;
  x.hash_hex = hash_hex(stored->hash);
  x.event = stored->event;
  auto versions = load_versions(ledger, ledger.head_seq());
  if (!versions) return versions.error();
  FZ_TRY(stored_postings(ledger, x.seq, &x.postings));

  // Rebuild the state just before the event on the side, then evaluate it there with a trace.
  const Versions all = *versions;
  Status s = with_scratch_replay(ledger, x.seq - 1, [&](Ledger& scratch, const RebuildReport&) -> Status {
    Engine engine(scratch, all, Engine::Mode::kReplay);
    CollectTrace trace(&x.trace);
    engine.set_trace(&trace);
    for (const Posting& p : x.postings) {
      if (p.key.empty()) continue;
      if (std::any_of(x.targets.begin(), x.targets.end(),
                      [&](const TargetChange& c) { return c.key == p.key; }))
        continue;
      x.targets.push_back(TargetChange{p.key, {}, {}});
      FZ_TRY(read_target(scratch, p.key, &x.targets.back().previous));
    }
    FZ_TRY(engine.apply(x.event, x.seq));
    if (!x.targets.empty()) {
      // The scratch ledger is thrown away: write the event's projection there to read the new targets.
      ProjectionBatch batch(scratch);
      FZ_TRY(engine.flush(batch));
      FZ_TRY(scratch.write(batch));
      engine.committed();
      for (TargetChange& c : x.targets) FZ_TRY(read_target(scratch, c.key, &c.next));
    }
    x.terms_time = engine.last_terms_time();
    describe_versions(all, x.terms_time, &x);
    if (const PublishedVersion* v = all.governing(x.terms_time);
        v != nullptr && !v->rules.listens_to(x.event.type)) {
      x.trace.push_back(TraceLine{0, fmt::format("no rule of {} v{} listens to {}", v->rules.info().name,
                                                 v->rules.info().version, spec_of(x.event.type).name)});
    }
    if (auto e = engine.order_eligibility_of(x.event)) {
      x.eligible = e->eligible;
      x.why_ineligible = e->why_not;
    }
    engine.discard();
    return Status::Ok();
  });
  if (!s.ok()) return s.error();
  x.terms_reason = terms_reason(x.event.type);
  return x;
}

}  // namespace fz::engine
