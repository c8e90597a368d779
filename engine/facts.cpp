#include "engine/facts.hpp"

#include <fmt/format.h>

namespace fz::engine {
namespace {

using dsl::EntityKind;

bool set_str(FieldValue* out, std::string v) {
  out->s = std::move(v);
  return true;
}
bool set_int(FieldValue* out, std::int64_t v) {
  out->i = v;
  return true;
}

// "2026-10-06T00:00+08:00": times in explanations, seconds only when they are not zero.
std::string short_time(TimeUs t, OffsetSec tz) {
  std::string s = format_time(t, tz);
  if (s.size() == 25 && s.compare(16, 3, ":00") == 0) s.erase(16, 3);
  return s;
}

}  // namespace

TimeUs plan_effective_at(const Plan& plan, OffsetSec timezone) {
  return plan.directed ? next_midnight(plan.created_at, timezone) : plan.created_at;
}

Eligibility order_eligibility(EntityState& state, const Order& o, OffsetSec tz) {
  if (!o.via_link) return {false, "the order did not come through an alliance link (via_link is false)"};
  const Plan* plan = state.plans.find(o.plan);
  if (plan == nullptr) return {false, fmt::format("no plan {} exists", o.plan)};
  if (plan->merchant != o.merchant) {
    return {false, fmt::format("plan {} belongs to merchant {}, not to the order's merchant {}", o.plan,
                               plan->merchant, o.merchant)};
  }
  const TimeUs effective = plan_effective_at(*plan, tz);
  if (effective > o.paid_at) {
    return {false, fmt::format("{} plan {} takes effect {}, after the order was paid at {}",
                               plan->directed ? "directed" : "general", o.plan, short_time(effective, tz),
                               short_time(o.paid_at, tz))};
  }
  if (plan->directed) {
    const Application* a = state.applications.find(EntityState::application_key(o.plan, o.streamer));
    if (a == nullptr || a->status != ApplicationStatus::kApproved) {
      return {false,
              fmt::format("streamer {} has no approved application to directed plan {}", o.streamer, o.plan)};
    }
    if (a->decided_at > o.paid_at) {
      return {false,
              fmt::format("streamer {}'s application to directed plan {} was approved at {}, after the order "
                          "was paid at {}",
                          o.streamer, o.plan, short_time(a->decided_at, tz), short_time(o.paid_at, tz))};
    }
  }
  return {true, ""};
}

EventFacts::EventFacts(EntityState& state, AccountBook& accounts, Table<Allocation>& targets,
                       const Event& event, TimeUs terms_time, const dsl::RulesetInfo& rules)
    : state_(state),
      accounts_(accounts),
      targets_(targets),
      event_(event),
      terms_time_(terms_time),
      rules_(rules) {
  // Which streamer and agency the event brings into scope (SPEC 4).
  switch (event.type) {
    case EventType::kAgencyContracted:
      agency_id_ = event.text(fields::agency_contracted::kAgency);
      return;
    case EventType::kStreamerSigned:
    case EventType::kStreamerReleased:
      streamer_id_ = event.text(fields::streamer::kStreamer);
      break;
    case EventType::kPlanApplied:
    case EventType::kPlanApproved:
    case EventType::kPlanRejected:
      streamer_id_ = event.text(fields::plan_decision::kStreamer);
      break;
    case EventType::kOrderPaid:
    case EventType::kOrderConfirmed:
    case EventType::kOrderRefunded:
      if (const Order* o = event_order()) streamer_id_ = o->streamer;
      break;
    case EventType::kVtaskCreated:
    case EventType::kVtaskConfirmed:
    case EventType::kVtaskCancelled:
      if (const Task* t = state_.tasks.find(event.text(fields::kTask))) streamer_id_ = t->streamer;
      break;
    case EventType::kWithdrawalRequested: {
      const std::string& party = event.text(fields::kParty);
      const auto colon = party.find(':');
      if (party.compare(0, colon, "agency") == 0) {
        agency_id_ = party.substr(colon + 1);
        return;
      }
      streamer_id_ = party.substr(colon + 1);
      break;
    }
    default:
      return;
  }
  if (event.type == EventType::kStreamerReleased) {
    // The agency being left: the membership that this release closed.
    if (const Streamer* s = state_.streamers.find(streamer_id_); s != nullptr && !s->memberships.empty()) {
      agency_id_ = s->memberships.back().agency;
    }
    return;
  }
  if (const Streamer* s = state_.streamers.find(streamer_id_)) agency_id_ = s->agency_at(terms_time_);
}

bool EventFacts::entity_field(EntityKind kind, int f, FieldValue* out) const {
  switch (kind) {
    case EntityKind::kOrder:
      return order_field(f, out);
    case EntityKind::kPlan:
      return plan_field(f, out);
    case EntityKind::kStreamer:
      if (f == static_cast<int>(dsl::StreamerField::kId)) return set_str(out, streamer_id_);
      return set_str(out, agency_id_);
    case EntityKind::kAgency:
      return agency_field(f, out);
    case EntityKind::kTask:
      return task_field(f, out);
    case EntityKind::kParty:
      return party_field(f, out);
  }
  return false;
}

const Order* EventFacts::event_order() const {
  if (order_layout_ != state_.orders.layout()) {
    order_ = state_.orders.find(event_.text(fields::kOrder));
    order_layout_ = state_.orders.layout();  // after the find, which may have read the order in
  }
  return order_;
}

bool EventFacts::order_field(int f, FieldValue* out) const {
  using F = dsl::OrderField;
  const std::string& id = event_.text(fields::kOrder);
  const Order* o = event_order();
  if (o == nullptr) return false;
  switch (static_cast<F>(f)) {
    case F::kId:
      return set_str(out, id);
    case F::kMerchant:
      return set_str(out, o->merchant);
    case F::kStreamer:
      return set_str(out, o->streamer);
    case F::kPlan:
      return set_str(out, o->plan);
    case F::kAmount:
      return set_int(out, o->amount);
    case F::kRefunded:
      return set_int(out, o->refunded);
    case F::kNet:
      return set_int(out, o->net());
    case F::kPaidAt:
      return set_int(out, o->paid_at);
    case F::kConfirmedAt:
      return o->confirmed && set_int(out, o->confirmed_at);
    case F::kConfirmed:
      return set_int(out, o->confirmed ? 1 : 0);
    case F::kViaLink:
      return set_int(out, o->via_link ? 1 : 0);
    case F::kRate: {
      const Plan* p = state_.plans.find(o->plan);
      return set_int(out, p != nullptr ? p->rate_units : 0);
    }
    case F::kEligible:
      return set_int(out, order_eligibility(state_, *o, rules_.timezone).eligible ? 1 : 0);
    case F::kWhyIneligible:
      return set_str(out, order_eligibility(state_, *o, rules_.timezone).why_not);
  }
  return false;
}

bool EventFacts::plan_field(int f, FieldValue* out) const {
  using F = dsl::PlanField;
  const std::string& id = event_.text(fields::kPlan);
  const Plan* p = state_.plans.find(id);
  if (p == nullptr) return false;
  switch (static_cast<F>(f)) {
    case F::kId:
      return set_str(out, id);
    case F::kMerchant:
      return set_str(out, p->merchant);
    case F::kKind:
      return set_str(out, p->directed ? "directed" : "general");
    case F::kRate:
      return set_int(out, p->rate_units);
    case F::kApproval:
      return set_str(out, p->approval);
    case F::kCreatedAt:
      return set_int(out, p->created_at);
    case F::kEffectiveAt:
      return set_int(out, plan_effective_at(*p, rules_.timezone));
  }
  return false;
}

bool EventFacts::task_field(int f, FieldValue* out) const {
  using F = dsl::TaskField;
  const std::string& id = event_.text(fields::kTask);
  const Task* t = state_.tasks.find(id);
  if (t == nullptr) return false;
  switch (static_cast<F>(f)) {
    case F::kId:
      return set_str(out, id);
    case F::kMerchant:
      return set_str(out, t->merchant);
    case F::kStreamer:
      return set_str(out, t->streamer);
    case F::kKind:
      return set_str(out, t->kind);
    case F::kPrice:
      return set_int(out, t->price);
    case F::kCreatedAt:
      return set_int(out, t->created_at);
    case F::kConfirmedAt:
      return t->confirmed && set_int(out, t->confirmed_at);
  }
  return false;
}

bool EventFacts::agency_field(int f, FieldValue* out) const {
  using F = dsl::AgencyField;
  const Agency* a = agency_id_.empty() ? nullptr : state_.agencies.find(agency_id_);
  switch (static_cast<F>(f)) {
    case F::kId:
      return set_str(out, agency_id_);
    case F::kContractedAt:
      return a != nullptr && set_int(out, a->contracted_at);
    case F::kActive:
      // SPEC 4: a contract exists and contracted_at + contract_lag <= terms time.
      return set_int(out, a != nullptr && a->contracted_at <= terms_time_ - rules_.contract_lag_us ? 1 : 0);
  }
  return false;
}

bool EventFacts::party_field(int f, FieldValue* out) const {
  using F = dsl::PartyField;
  const std::string& party = event_.text(fields::kParty);
  const auto colon = party.find(':');
  const Payout* p = state_.payouts.find(party);
  switch (static_cast<F>(f)) {
    case F::kKind:
      return set_str(out, party.substr(0, colon));
    case F::kId:
      return set_str(out, party.substr(colon + 1));
    case F::kPayout:
      return set_str(out, p != nullptr ? p->alipay : "");
    case F::kPayoutVerified:
      return set_int(out, p != nullptr && p->verified ? 1 : 0);
  }
  return false;
}

Fen EventFacts::balance(std::string_view account) const {
  const AccountSummary* s = accounts_.find(std::string(account));
  return s != nullptr ? s->total_fen : 0;
}

Fen EventFacts::available(std::string_view account, TimeUs at_us) const {
  const AccountSummary* s = accounts_.find(std::string(account));
  return s != nullptr ? s->available_at(at_us) : 0;
}

void EventFacts::schedule_after(std::string_view account, TimeUs after_us,
                                std::vector<std::pair<TimeUs, Fen>>* out) const {
  out->clear();
  const AccountSummary* s = accounts_.find(std::string(account));
  if (s == nullptr) return;
  for (auto it = s->schedule.upper_bound(after_us); it != s->schedule.end(); ++it) out->push_back(*it);
}

const dsl::Allocation* EventFacts::previous_allocation(std::string_view key) const {
  const Allocation* a = targets_.find(key);
  return a != nullptr ? &a->parts : nullptr;
}

}  // namespace fz::engine
