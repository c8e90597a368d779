// EntityState: the engine's view of every entity (SPEC section 4), and the engine preconditions of
// SPEC section 3 that decide whether an event may be accepted.
//
// check_and_apply() either accepts an event, recording its entity changes in the current event layer
// of each Table, or returns the reason it is refused (a message a user can act on) and changes nothing.
// The caller then calls accept_event() or reject_event(). Entity state depends only on the events, never
// on rules: calendar-dependent facts (a directed plan's effective time, an agency's activity) are
// derived when read, with the settings of the ruleset version that governs the reading event.
// Not thread-safe.
#pragma once

#include <string>

#include "core/result.hpp"
#include "engine/entities.hpp"
#include "engine/projection_format.hpp"
#include "engine/table.hpp"
#include "model/event.hpp"

namespace fz::engine {

class EntityState {
 public:
  EntityState();
  void attach(const Ledger* ledger);

  [[nodiscard]] Status check_and_apply(const Event& e);
  // The business time whose terms govern the event (SPEC 4): order.* -> paid_at, vtask.* -> created_at.
  // Valid after check_and_apply() accepted the event.
  TimeUs terms_time(const Event& e);

  void accept_event();
  void reject_event();
  void flush(ProjectionBatch& batch, KeyOrder order);
  void committed();
  void discard();
  void reset();
  std::string take_io_error();
  // The hot window of every table (Engine::set_hot_entities).
  void set_cache_limit(std::size_t entities);

  Table<Agency> agencies{pformat::kAgency};
  Table<Streamer> streamers{pformat::kStreamer};
  Table<Payout> payouts{pformat::kPayout};
  Table<Plan> plans{pformat::kPlan};
  Table<Application> applications{pformat::kApplication};  // key: plan '\0' streamer
  Table<Order> orders{pformat::kOrder};
  Table<Task> tasks{pformat::kTask};

  static std::string application_key(const std::string& plan, const std::string& streamer) {
    return plan + '\0' + streamer;
  }

 private:
  Status agency_contracted(const Event& e);
  Status streamer_signed(const Event& e);
  Status streamer_released(const Event& e);
  Status plan_created(const Event& e);
  Status plan_applied(const Event& e);
  Status plan_decided(const Event& e, bool approved);
  Status order_paid(const Event& e);
  Status order_confirmed(const Event& e);
  Status order_refunded(const Event& e);
  Status vtask_created(const Event& e);
  Status vtask_ended(const Event& e, bool confirmed);
};

}  // namespace fz::engine
