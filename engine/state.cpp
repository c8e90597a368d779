#include "engine/state.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/money.hpp"

namespace fz::engine {
EntityState::EntityState() = default;

void EntityState::attach(const Ledger* ledger) {
  agencies.attach(ledger, Family::kEntities);
  streamers.attach(ledger, Family::kEntities);
  payouts.attach(ledger, Family::kEntities);
  plans.attach(ledger, Family::kEntities);
  applications.attach(ledger, Family::kEntities);
  orders.attach(ledger, Family::kEntities);
  tasks.attach(ledger, Family::kEntities);
}

Status EntityState::check_and_apply(const Event& e) {
  switch (e.type) {
    case EventType::kAgencyContracted:
      return agency_contracted(e);
    case EventType::kStreamerSigned:
      return streamer_signed(e);
    case EventType::kStreamerReleased:
      return streamer_released(e);
    case EventType::kPayoutBound:
      payouts.put(e.text(fields::kParty), Payout{e.text(fields::payout_bound::kAlipay),
                                                 e.number(fields::payout_bound::kVerified) != 0});
      return Status::Ok();
    case EventType::kPlanCreated:
      return plan_created(e);
    case EventType::kPlanApplied:
      return plan_applied(e);
    case EventType::kPlanApproved:
      return plan_decided(e, true);
    case EventType::kPlanRejected:
      return plan_decided(e, false);
    case EventType::kOrderPaid:
      return order_paid(e);
    case EventType::kOrderConfirmed:
      return order_confirmed(e);
    case EventType::kOrderRefunded:
      return order_refunded(e);
    case EventType::kVtaskCreated:
      return vtask_created(e);
    case EventType::kVtaskConfirmed:
      return vtask_ended(e, true);
    case EventType::kVtaskCancelled:
      return vtask_ended(e, false);
    case EventType::kWithdrawalRequested:
    case EventType::kAdjustment:
    case EventType::kRulesPublished:
      return Status::Ok();  // no entity preconditions (SPEC 3); rules decide withdrawals
  }
  return make_error("unknown event type");
}

TimeUs EntityState::terms_time(const Event& e) {
  switch (e.type) {
    case EventType::kOrderConfirmed:
    case EventType::kOrderRefunded:
      if (const Order* o = orders.find(e.text(fields::kOrder))) return o->paid_at;
      return e.at_us;
    case EventType::kVtaskConfirmed:
    case EventType::kVtaskCancelled:
      if (const Task* t = tasks.find(e.text(fields::kTask))) return t->created_at;
      return e.at_us;
    default:
      return e.at_us;
  }
}

Status EntityState::agency_contracted(const Event& e) {
  const std::string& id = e.text(fields::agency_contracted::kAgency);
  if (const Agency* a = agencies.find(id)) {
    return make_error(
        fmt::format("agency {} is already contracted (since {})", id, format_time(a->contracted_at)));
  }
  agencies.put(id, Agency{e.at_us});
  return Status::Ok();
}

Status EntityState::streamer_signed(const Event& e) {
  const std::string& id = e.text(fields::streamer::kStreamer);
  const std::string& agency = e.text(fields::streamer::kAgency);
  if (agencies.find(agency) == nullptr) {
    return make_error(fmt::format("agency {} has no contract; record agency.contracted first", agency));
  }
  Streamer s;
  if (const Streamer* cur = streamers.find(id)) s = *cur;
  if (s.signed_now()) {
    return make_error(fmt::format("streamer {} is already signed to agency {}; release them first", id,
                                  s.memberships.back().agency));
  }
  s.memberships.push_back(Membership{agency, e.at_us, kNever});
  streamers.put(id, std::move(s));
  return Status::Ok();
}

Status EntityState::streamer_released(const Event& e) {
  const std::string& id = e.text(fields::streamer::kStreamer);
  const Streamer* cur = streamers.find(id);
  if (cur == nullptr || !cur->signed_now())
    return make_error(fmt::format("streamer {} is not signed to any agency", id));
  Streamer s = *cur;
  if (e.at_us < s.memberships.back().from_us) {
    return make_error(fmt::format("streamer {} cannot be released at {}, before signing with {} at {}", id,
                                  format_time(e.at_us), s.memberships.back().agency,
                                  format_time(s.memberships.back().from_us)));
  }
  s.memberships.back().to_us = e.at_us;
  streamers.put(id, std::move(s));
  return Status::Ok();
}

Status EntityState::plan_created(const Event& e) {
  const std::string& id = e.text(fields::kPlan);
  if (plans.find(id) != nullptr) return make_error(fmt::format("plan {} already exists", id));
  Plan p;
  p.merchant = e.text(fields::plan_created::kMerchant);
  p.directed = e.text(fields::plan_created::kKind) == "directed";
  p.rate_units = e.number(fields::plan_created::kRate);
  const FieldValue& approval = e[fields::plan_created::kApproval];
  p.approval = approval.present ? approval.s : "";
  p.created_at = e.at_us;
  p.effective_at = e.at_us;  // directed plans: derived with the governing timezone when read
  plans.put(id, std::move(p));
  return Status::Ok();
}

Status EntityState::plan_applied(const Event& e) {
  const std::string& plan_id = e.text(fields::kPlan);
  const std::string& streamer = e.text(fields::plan_decision::kStreamer);
  const Plan* plan = plans.find(plan_id);
  if (plan == nullptr) return make_error(fmt::format("plan {} does not exist", plan_id));
  if (!plan->directed)
    return make_error(
        fmt::format("plan {} is a general plan; only directed plans take applications", plan_id));
  const std::string key = application_key(plan_id, streamer);
  if (const Application* a = applications.find(key)) {
    if (a->status == ApplicationStatus::kPending) {
      return make_error(
          fmt::format("streamer {} already has a pending application to plan {}", streamer, plan_id));
    }
    if (a->status == ApplicationStatus::kApproved) {
      return make_error(fmt::format("streamer {} is already approved for plan {}", streamer, plan_id));
    }
  }
  Application a;
  a.applied_at = e.at_us;
  if (plan->approval == "auto") {
    a.status = ApplicationStatus::kApproved;
    a.decided_at = e.at_us;
  }
  applications.put(key, a);
  return Status::Ok();
}

Status EntityState::plan_decided(const Event& e, bool approved) {
  const std::string& plan_id = e.text(fields::kPlan);
  const std::string& streamer = e.text(fields::plan_decision::kStreamer);
  const std::string key = application_key(plan_id, streamer);
  const Application* cur = applications.find(key);
  if (cur == nullptr || cur->status != ApplicationStatus::kPending) {
    return make_error(fmt::format("streamer {} has no pending application to plan {}", streamer, plan_id));
  }
  Application a = *cur;
  a.status = approved ? ApplicationStatus::kApproved : ApplicationStatus::kRejected;
  a.decided_at = e.at_us;
  applications.put(key, a);
  return Status::Ok();
}

Status EntityState::order_paid(const Event& e) {
  const std::string& id = e.text(fields::kOrder);
  if (orders.find(id) != nullptr) return make_error(fmt::format("order {} was already paid", id));
  Order o;
  o.merchant = e.text(fields::order_paid::kMerchant);
  o.streamer = e.text(fields::order_paid::kStreamer);
  o.plan = e.text(fields::order_paid::kPlan);
  o.amount = e.number(fields::order_paid::kAmount);
  o.paid_at = e.at_us;
  o.via_link = e.number(fields::order_paid::kViaLink) != 0;
  orders.put(id, std::move(o));
  return Status::Ok();
}

Status EntityState::order_confirmed(const Event& e) {
  const std::string& id = e.text(fields::kOrder);
  const Order* cur = orders.find(id);
  if (cur == nullptr) return make_error(fmt::format("order {} has not been paid", id));
  if (cur->confirmed) return make_error(fmt::format("order {} is already confirmed", id));
  if (cur->net() == 0) return make_error(fmt::format("order {} is fully refunded", id));
  Order o = *cur;
  o.confirmed = true;
  o.confirmed_at = e.at_us;
  orders.put(id, std::move(o));
  return Status::Ok();
}

Status EntityState::order_refunded(const Event& e) {
  const std::string& id = e.text(fields::kOrder);
  const std::string& case_id = e.text(fields::order_refunded::kCase);
  const Fen amount = e.number(fields::order_refunded::kAmount);
  const Order* cur = orders.find(id);
  if (cur == nullptr) return make_error(fmt::format("order {} has not been paid", id));
  if (std::find(cur->cases.begin(), cur->cases.end(), case_id) != cur->cases.end()) {
    return make_error(fmt::format("order {}: refund case {} is already recorded", id, case_id));
  }
  if (amount > cur->net()) {
    return make_error(fmt::format("order {}: refund {} exceeds the {} not yet refunded", id,
                                  format_money(amount), format_money(cur->net())));
  }
  Order o = *cur;
  o.refunded += amount;
  o.cases.push_back(case_id);
  orders.put(id, std::move(o));
  return Status::Ok();
}

Status EntityState::vtask_created(const Event& e) {
  const std::string& id = e.text(fields::kTask);
  if (tasks.find(id) != nullptr) return make_error(fmt::format("V-task {} already exists", id));
  Task t;
  t.merchant = e.text(fields::vtask_created::kMerchant);
  t.streamer = e.text(fields::vtask_created::kStreamer);
  t.kind = e.text(fields::vtask_created::kKind);
  t.price = e.number(fields::vtask_created::kPrice);
  t.created_at = e.at_us;
  tasks.put(id, std::move(t));
  return Status::Ok();
}

Status EntityState::vtask_ended(const Event& e, bool confirmed) {
  const std::string& id = e.text(fields::kTask);
  const Task* cur = tasks.find(id);
  if (cur == nullptr) return make_error(fmt::format("V-task {} has not been created", id));
  if (cur->confirmed) return make_error(fmt::format("V-task {} is already confirmed", id));
  if (cur->cancelled) return make_error(fmt::format("V-task {} is already cancelled", id));
  Task t = *cur;
  if (confirmed) {
    t.confirmed = true;
    t.confirmed_at = e.at_us;
  } else {
    t.cancelled = true;
  }
  tasks.put(id, std::move(t));
  return Status::Ok();
}

#define FZ_ALL_TABLES(op) \
  agencies.op;            \
  streamers.op;           \
  payouts.op;             \
  plans.op;               \
  applications.op;        \
  orders.op;              \
  tasks.op

void EntityState::accept_event() {
  FZ_ALL_TABLES(accept_event());
}
void EntityState::reject_event() {
  FZ_ALL_TABLES(reject_event());
}
void EntityState::flush(ProjectionBatch& batch, KeyOrder order) {
  FZ_ALL_TABLES(flush(batch, order));
}
void EntityState::committed() {
  FZ_ALL_TABLES(committed());
}
void EntityState::discard() {
  FZ_ALL_TABLES(discard());
}
void EntityState::reset() {
  FZ_ALL_TABLES(reset());
}
void EntityState::set_cache_limit(std::size_t entities) {
  FZ_ALL_TABLES(set_cache_limit(entities));
}

std::string EntityState::take_io_error() {
  // Called for every event: takes each table's error (clearing all of them), the first one wins.
  std::string first;
  FZ_ALL_TABLES(take_io_error_into(&first));
  return first;
}

}  // namespace fz::engine
