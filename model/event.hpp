// The settlement event model of SPEC section 3: the event types, their fields, and a decoded Event.
//
// The schema tables here are the single source of truth for which fields each type has, used by
// JSON validation, the binary codec (fields are encoded in schema order) and the rules checker
// (`event.<field>` resolves to a slot index at load time). Adding a field to a type changes the
// on-disk format: see store/format.hpp.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/time.hpp"

namespace fz {

// Numbering is part of the on-disk format: never renumber, only append.
enum class EventType : std::uint8_t {
  kAgencyContracted = 1,
  kStreamerSigned = 2,
  kStreamerReleased = 3,
  kPayoutBound = 4,
  kPlanCreated = 5,
  kPlanApplied = 6,
  kPlanApproved = 7,
  kPlanRejected = 8,
  kOrderPaid = 9,
  kOrderConfirmed = 10,
  kOrderRefunded = 11,
  kVtaskCreated = 12,
  kVtaskConfirmed = 13,
  kVtaskCancelled = 14,
  kWithdrawalRequested = 15,
  kAdjustment = 16,
  kRulesPublished = 17,
};
inline constexpr int kEventTypeCount = 17;

// How a field's JSON value is validated and how it is held in FieldValue.
enum class FieldKind : std::uint8_t {
  kIdent,    // identifier (SPEC 2); FieldValue::s
  kParty,    // "streamer:ID" or "agency:ID"; FieldValue::s
  kAccount,  // "@kind:seg:…" account name, at most 256 bytes; FieldValue::s
  kMoney,    // decimal string, fen in FieldValue::i
  kPercent,  // "20%", ratio = FieldValue::i / 1'000'000 (i.e. i is percent x 10^4)
  kBool,     // FieldValue::i in {0, 1}
  kEnum,     // one of FieldSpec::values; FieldValue::i is the index, FieldValue::s the text
  kText,     // free text (reason, alipay account, ruleset source); FieldValue::s
  kInt,      // non-negative integer; FieldValue::i
  kTime,     // RFC 3339; UTC microseconds in FieldValue::i
  kSha256,   // 64 lowercase hex digits; FieldValue::s
};

struct FieldSpec {
  std::string_view name;
  FieldKind kind;
  std::span<const std::string_view> values = {};  // for kEnum
  bool optional = false;                          // may be absent (plan.created approval)
};

struct EventSpec {
  EventType type;
  std::string_view name;  // "order.paid"
  std::span<const FieldSpec> fields;
};

inline constexpr std::size_t kPercentScale = 1'000'000;  // kPercent: i / kPercentScale is the ratio
inline constexpr std::size_t kMaxAccountBytes = 256;

const EventSpec& spec_of(EventType type);
std::optional<EventType> event_type_from_name(std::string_view name);
std::span<const EventSpec> all_event_specs();
// Index of a field in its type's schema, or -1.
int field_index(EventType type, std::string_view field_name);

struct FieldValue {
  bool present = true;
  std::int64_t i = 0;
  std::string s;
  friend bool operator==(const FieldValue&, const FieldValue&) = default;
};

// A validated event. `fields` follows spec_of(type).fields order exactly; `meta` is sorted by key.
struct Event {
  std::string id;
  EventType type = EventType::kAgencyContracted;
  TimeUs at_us = 0;
  std::vector<std::pair<std::string, std::string>> meta;
  std::vector<FieldValue> fields;

  const FieldValue& field(int index) const { return fields[static_cast<std::size_t>(index)]; }
  friend bool operator==(const Event&, const Event&) = default;
};

}  // namespace fz
