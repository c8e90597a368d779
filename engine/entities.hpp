// Entity state derived from accepted events (SPEC section 4): agencies, streamers with their
// membership history, payout bindings, plans, plan applications, orders and V-tasks.
//
// These are plain values. Each has encode()/decode() for the `entities` column family; the encoding
// is part of the on-disk format (engine/projection_format.hpp) and may only be extended.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/money.hpp"
#include "core/rational.hpp"
#include "core/time.hpp"

namespace fz::engine {

inline constexpr TimeUs kNever = std::numeric_limits<TimeUs>::max();

struct Agency {
  TimeUs contracted_at = 0;
};

struct Membership {
  std::string agency;
  TimeUs from_us = 0;
  TimeUs to_us = kNever;  // released at, exclusive; kNever while signed
};

struct Streamer {
  std::vector<Membership> memberships;  // in append order; the last is open while signed
  bool signed_now() const { return !memberships.empty() && memberships.back().to_us == kNever; }
  // The agency the streamer is signed to at business time t ("" when none). Valid while *this is.
  const std::string& agency_at(TimeUs t) const;
};

struct Payout {
  std::string alipay;
  bool verified = false;
};

struct Plan {
  std::string merchant;
  bool directed = false;
  std::int64_t rate_units = 0;  // percent x 10^4 (model/event.hpp kPercentScale)
  std::string approval;         // "auto" / "manual" for directed plans, "" for general ones
  TimeUs created_at = 0;
  TimeUs effective_at = 0;
  Rational rate() const;
};

enum class ApplicationStatus : std::uint8_t { kPending = 1, kApproved = 2, kRejected = 3 };

struct Application {
  ApplicationStatus status = ApplicationStatus::kPending;
  TimeUs applied_at = 0;
  TimeUs decided_at = 0;  // approval or rejection time
};

struct Order {
  std::string merchant;
  std::string streamer;
  std::string plan;
  Fen amount = 0;
  Fen refunded = 0;
  TimeUs paid_at = 0;
  bool via_link = false;
  bool confirmed = false;
  TimeUs confirmed_at = 0;
  std::vector<std::string> cases;  // refund case ids, unique per order
  Fen net() const { return amount - refunded; }
};

struct Task {
  std::string merchant;
  std::string streamer;
  std::string kind;
  Fen price = 0;
  TimeUs created_at = 0;
  bool confirmed = false;
  TimeUs confirmed_at = 0;
  bool cancelled = false;
};

// Binary encodings for the entities column family; encode() replaces what *out held.
void encode(const Agency&, std::string* out);
void encode(const Streamer&, std::string* out);
void encode(const Payout&, std::string* out);
void encode(const Plan&, std::string* out);
void encode(const Application&, std::string* out);
void encode(const Order&, std::string* out);
void encode(const Task&, std::string* out);
bool decode(std::string_view, Agency*);
bool decode(std::string_view, Streamer*);
bool decode(std::string_view, Payout*);
bool decode(std::string_view, Plan*);
bool decode(std::string_view, Application*);
bool decode(std::string_view, Order*);
bool decode(std::string_view, Task*);

}  // namespace fz::engine
