// The names a rule reads (SPEC section 4): the value types of the rules language, the entities an
// event brings into scope and their fields. The engine answers entity fields by (EntityKind, field
// index) where the index is the position in entity_fields(kind) -- the enums below name them.
// Constant tables; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "model/event.hpp"

namespace fz::dsl {

enum class Type : std::uint8_t {
  kMoney,  // fen
  kFrac,   // fractional money (money x ratio), must be rounded before use
  kRatio,  // exact rational
  kInt,
  kBool,
  kString,
  kTime,
  kDuration,
  kList,
  kAccount,
  kCampaign,  // a campaign's name, only as in_campaign's first argument
  kAny,       // element type of an empty list
};
std::string_view type_name(Type type);

enum class EntityKind : std::uint8_t { kOrder, kPlan, kStreamer, kAgency, kTask, kParty };
inline constexpr int kEntityKindCount = 6;

enum class OrderField : int {
  kId,
  kMerchant,
  kStreamer,
  kPlan,
  kAmount,
  kRefunded,
  kNet,
  kPaidAt,
  kConfirmedAt,
  kConfirmed,
  kViaLink,
  kRate,
  kEligible,
  kWhyIneligible
};
enum class PlanField : int { kId, kMerchant, kKind, kRate, kApproval, kCreatedAt, kEffectiveAt };
enum class StreamerField : int { kId, kAgency };
enum class AgencyField : int { kId, kContractedAt, kActive };
enum class TaskField : int { kId, kMerchant, kStreamer, kKind, kPrice, kCreatedAt, kConfirmedAt };
enum class PartyField : int { kKind, kId, kPayout, kPayoutVerified };

struct EntityFieldSpec {
  std::string_view name;
  Type type;  // kMoney, kRatio, kInt, kBool, kString or kTime
};

std::string_view entity_name(EntityKind kind);
std::optional<EntityKind> entity_from_name(std::string_view name);
std::span<const EntityFieldSpec> entity_fields(EntityKind kind);
int entity_field_index(EntityKind kind, std::string_view field);  // -1 if unknown

// Bit (1 << kind) set for each entity the event type brings into scope.
std::uint32_t entities_of(EventType type);

// Type of an event field of the store schema.
Type type_of_field_kind(FieldKind kind);

}  // namespace fz::dsl
