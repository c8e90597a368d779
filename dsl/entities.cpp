#include "dsl/entities.hpp"

#include <array>

namespace fz::dsl {

namespace {

constexpr EntityFieldSpec kOrder[] = {
    {"id", Type::kString},      {"merchant", Type::kString},      {"streamer", Type::kString},
    {"plan", Type::kString},    {"amount", Type::kMoney},         {"refunded", Type::kMoney},
    {"net", Type::kMoney},      {"paid_at", Type::kTime},         {"confirmed_at", Type::kTime},
    {"confirmed", Type::kBool}, {"via_link", Type::kBool},        {"rate", Type::kRatio},
    {"eligible", Type::kBool},  {"why_ineligible", Type::kString}};
constexpr EntityFieldSpec kPlan[] = {{"id", Type::kString},        {"merchant", Type::kString},
                                     {"kind", Type::kString},      {"rate", Type::kRatio},
                                     {"approval", Type::kString},  {"created_at", Type::kTime},
                                     {"effective_at", Type::kTime}};
constexpr EntityFieldSpec kStreamer[] = {{"id", Type::kString}, {"agency", Type::kString}};
constexpr EntityFieldSpec kAgency[] = {
    {"id", Type::kString}, {"contracted_at", Type::kTime}, {"active", Type::kBool}};
constexpr EntityFieldSpec kTask[] = {{"id", Type::kString},        {"merchant", Type::kString},
                                     {"streamer", Type::kString},  {"kind", Type::kString},
                                     {"price", Type::kMoney},      {"created_at", Type::kTime},
                                     {"confirmed_at", Type::kTime}};
constexpr EntityFieldSpec kParty[] = {{"kind", Type::kString},
                                      {"id", Type::kString},
                                      {"payout", Type::kString},
                                      {"payout_verified", Type::kBool}};

constexpr std::array<std::string_view, kEntityKindCount> kNames = {"order",  "plan", "streamer",
                                                                   "agency", "task", "party"};

constexpr std::uint32_t bit(EntityKind kind) {
  return 1u << static_cast<unsigned>(kind);
}

}  // namespace

std::string_view type_name(Type type) {
  switch (type) {
    case Type::kMoney:
      return "money";
    case Type::kFrac:
      return "fractional money";
    case Type::kRatio:
      return "ratio";
    case Type::kInt:
      return "int";
    case Type::kBool:
      return "bool";
    case Type::kString:
      return "string";
    case Type::kTime:
      return "time";
    case Type::kDuration:
      return "duration";
    case Type::kList:
      return "list";
    case Type::kAccount:
      return "account";
    case Type::kCampaign:
      return "campaign";
    case Type::kAny:
      return "any";
  }
  return "?";
}

std::string_view entity_name(EntityKind kind) {
  return kNames[static_cast<std::size_t>(kind)];
}

std::optional<EntityKind> entity_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<EntityKind>(i);
  }
  return std::nullopt;
}

std::span<const EntityFieldSpec> entity_fields(EntityKind kind) {
  switch (kind) {
    case EntityKind::kOrder:
      return kOrder;
    case EntityKind::kPlan:
      return kPlan;
    case EntityKind::kStreamer:
      return kStreamer;
    case EntityKind::kAgency:
      return kAgency;
    case EntityKind::kTask:
      return kTask;
    case EntityKind::kParty:
      return kParty;
  }
  return {};
}

int entity_field_index(EntityKind kind, std::string_view field) {
  const auto fields = entity_fields(kind);
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == field) return static_cast<int>(i);
  }
  return -1;
}

std::uint32_t entities_of(EventType type) {
  using E = EntityKind;
  switch (type) {
    case EventType::kAgencyContracted:
      return bit(E::kAgency);
    case EventType::kStreamerSigned:
    case EventType::kStreamerReleased:
      return bit(E::kStreamer) | bit(E::kAgency);
    case EventType::kPayoutBound:
      return bit(E::kParty);
    case EventType::kPlanCreated:
      return bit(E::kPlan);
    case EventType::kPlanApplied:
    case EventType::kPlanApproved:
    case EventType::kPlanRejected:
      return bit(E::kPlan) | bit(E::kStreamer);
    case EventType::kOrderPaid:
    case EventType::kOrderConfirmed:
    case EventType::kOrderRefunded:
      return bit(E::kOrder) | bit(E::kStreamer) | bit(E::kAgency);
    case EventType::kVtaskCreated:
    case EventType::kVtaskConfirmed:
    case EventType::kVtaskCancelled:
      return bit(E::kTask) | bit(E::kStreamer) | bit(E::kAgency);
    case EventType::kWithdrawalRequested:
      return bit(E::kParty) | bit(E::kStreamer) | bit(E::kAgency);
    case EventType::kAdjustment:
    case EventType::kRulesPublished:
      return 0;
  }
  return 0;
}

Type type_of_field_kind(FieldKind kind) {
  switch (kind) {
    case FieldKind::kMoney:
      return Type::kMoney;
    case FieldKind::kPercent:
      return Type::kRatio;
    case FieldKind::kBool:
      return Type::kBool;
    case FieldKind::kInt:
      return Type::kInt;
    case FieldKind::kTime:
      return Type::kTime;
    default:
      return Type::kString;
  }
}

}  // namespace fz::dsl
