#include "store/event.hpp"

#include <cassert>

namespace fz {
namespace {

constexpr std::string_view kPlanKinds[] = {"general", "directed"};
constexpr std::string_view kApprovals[] = {"auto", "manual"};
constexpr std::string_view kTaskKinds[] = {"ordinary", "showcase", "title"};
constexpr std::string_view kSources[] = {"cps", "vtask"};

using K = FieldKind;

constexpr FieldSpec kAgencyContracted[] = {{"agency", K::kIdent}};
constexpr FieldSpec kStreamerSigned[] = {{"streamer", K::kIdent}, {"agency", K::kIdent}};
constexpr FieldSpec kStreamerReleased[] = {{"streamer", K::kIdent}};
constexpr FieldSpec kPayoutBound[] = {{"party", K::kParty}, {"alipay", K::kText}, {"verified", K::kBool}};
constexpr FieldSpec kPlanCreated[] = {{"plan", K::kIdent},
                                      {"merchant", K::kIdent},
                                      {"kind", K::kEnum, kPlanKinds},
                                      {"rate", K::kPercent},
                                      {"approval", K::kEnum, kApprovals, true}};
constexpr FieldSpec kPlanStreamer[] = {{"plan", K::kIdent}, {"streamer", K::kIdent}};
constexpr FieldSpec kOrderPaid[] = {{"order", K::kIdent}, {"merchant", K::kIdent}, {"streamer", K::kIdent},
                                    {"plan", K::kIdent},  {"amount", K::kMoney},   {"via_link", K::kBool}};
constexpr FieldSpec kOrderOnly[] = {{"order", K::kIdent}};
constexpr FieldSpec kOrderRefunded[] = {{"order", K::kIdent}, {"amount", K::kMoney}, {"case", K::kIdent}};
constexpr FieldSpec kVtaskCreated[] = {{"task", K::kIdent},
                                       {"merchant", K::kIdent},
                                       {"streamer", K::kIdent},
                                       {"kind", K::kEnum, kTaskKinds},
                                       {"price", K::kMoney}};
constexpr FieldSpec kTaskOnly[] = {{"task", K::kIdent}};
constexpr FieldSpec kWithdrawal[] = {
    {"party", K::kParty}, {"source", K::kEnum, kSources}, {"amount", K::kMoney}};
constexpr FieldSpec kAdjustment[] = {
    {"from", K::kAccount}, {"to", K::kAccount}, {"amount", K::kMoney}, {"reason", K::kText}};
constexpr FieldSpec kRulesPublished[] = {{"ruleset", K::kIdent},
                                         {"version", K::kInt},
                                         {"effective", K::kTime},
                                         {"sha256", K::kSha256},
                                         {"source", K::kText}};

constexpr EventSpec kSpecs[] = {
    {EventType::kAgencyContracted, "agency.contracted", kAgencyContracted},
    {EventType::kStreamerSigned, "streamer.signed", kStreamerSigned},
    {EventType::kStreamerReleased, "streamer.released", kStreamerReleased},
    {EventType::kPayoutBound, "payout.bound", kPayoutBound},
    {EventType::kPlanCreated, "plan.created", kPlanCreated},
    {EventType::kPlanApplied, "plan.applied", kPlanStreamer},
    {EventType::kPlanApproved, "plan.approved", kPlanStreamer},
    {EventType::kPlanRejected, "plan.rejected", kPlanStreamer},
    {EventType::kOrderPaid, "order.paid", kOrderPaid},
    {EventType::kOrderConfirmed, "order.confirmed", kOrderOnly},
    {EventType::kOrderRefunded, "order.refunded", kOrderRefunded},
    {EventType::kVtaskCreated, "vtask.created", kVtaskCreated},
    {EventType::kVtaskConfirmed, "vtask.confirmed", kTaskOnly},
    {EventType::kVtaskCancelled, "vtask.cancelled", kTaskOnly},
    {EventType::kWithdrawalRequested, "withdrawal.requested", kWithdrawal},
    {EventType::kAdjustment, "adjustment", kAdjustment},
    {EventType::kRulesPublished, "rules.published", kRulesPublished},
};
static_assert(std::size(kSpecs) == kEventTypeCount);

}  // namespace

const EventSpec& spec_of(EventType type) {
  const auto index = static_cast<std::size_t>(type) - 1;
  assert(index < std::size(kSpecs));
  return kSpecs[index];
}

std::span<const EventSpec> all_event_specs() {
  return kSpecs;
}

std::optional<EventType> event_type_from_name(std::string_view name) {
  for (const EventSpec& s : kSpecs) {
    if (s.name == name) return s.type;
  }
  return std::nullopt;
}

int field_index(EventType type, std::string_view field_name) {
  const auto fields = spec_of(type).fields;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == field_name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace fz
