// The settlement event model of SPEC section 3: the event types, their fields, and a decoded Event.
// The floor of the house: it depends on core/ only, never on RocksDB, so the rules language (dsl/)
// and the store both build on it.
//
// The schema tables here are the single source of truth for which fields each type has, used by
// JSON validation, the binary codec (fields are encoded in schema order) and the rules checker
// (`event.<field>` resolves to a slot index at load time). Adding a field to a type changes the
// on-disk format: see store/format.hpp.
//
// The tables are constexpr, so C++ code names a field through a FieldRef resolved at compile time
// (`e[fields::order_paid::kAmount]`, see the end of this file): a misspelt field, or a field used on
// a type that has it at another position, does not compile. Run-time lookup by name (field_index)
// is left for what only knows the name at run time: JSON keys and rules files.
//
// Everything here is immutable data and pure functions: thread-safe.
#pragma once

#include <array>
#include <cassert>
#include <cstdint>
#include <initializer_list>
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
  // An optional field added after format 1 was fixed, at the end of its type's fields: when absent it
  // takes no bytes at all, so the records (and hashes) of events written before it existed, and of new
  // events that leave it out, do not change (store/format.hpp). Only trailing fields may be `appended`.
  bool appended = false;
};

struct EventSpec {
  EventType type;
  std::string_view name;  // "order.paid"
  std::span<const FieldSpec> fields;
};

inline constexpr std::size_t kPercentScale = 1'000'000;  // kPercent: i / kPercentScale is the ratio
inline constexpr std::size_t kMaxAccountBytes = 256;

namespace schema {

inline constexpr std::string_view kPlanKinds[] = {"general", "directed"};
inline constexpr std::string_view kApprovals[] = {"auto", "manual"};
inline constexpr std::string_view kTaskKinds[] = {"ordinary", "showcase", "title"};
inline constexpr std::string_view kSources[] = {"cps", "vtask"};

using K = FieldKind;

inline constexpr FieldSpec kAgencyContracted[] = {{"agency", K::kIdent}};
inline constexpr FieldSpec kStreamerSigned[] = {{"streamer", K::kIdent}, {"agency", K::kIdent}};
inline constexpr FieldSpec kStreamerReleased[] = {{"streamer", K::kIdent}};
// `name` (the account holder's real name, SPEC 3) came later: optional and appended.
inline constexpr FieldSpec kPayoutBound[] = {
    {"party", K::kParty}, {"alipay", K::kText}, {"verified", K::kBool}, {"name", K::kText, {}, true, true}};
inline constexpr FieldSpec kPlanCreated[] = {{"plan", K::kIdent},
                                             {"merchant", K::kIdent},
                                             {"kind", K::kEnum, kPlanKinds},
                                             {"rate", K::kPercent},
                                             {"approval", K::kEnum, kApprovals, true}};
inline constexpr FieldSpec kPlanStreamer[] = {{"plan", K::kIdent}, {"streamer", K::kIdent}};
inline constexpr FieldSpec kOrderPaid[] = {{"order", K::kIdent},    {"merchant", K::kIdent},
                                           {"streamer", K::kIdent}, {"plan", K::kIdent},
                                           {"amount", K::kMoney},   {"via_link", K::kBool}};
inline constexpr FieldSpec kOrderOnly[] = {{"order", K::kIdent}};
inline constexpr FieldSpec kOrderRefunded[] = {
    {"order", K::kIdent}, {"amount", K::kMoney}, {"case", K::kIdent}};
inline constexpr FieldSpec kVtaskCreated[] = {{"task", K::kIdent},
                                              {"merchant", K::kIdent},
                                              {"streamer", K::kIdent},
                                              {"kind", K::kEnum, kTaskKinds},
                                              {"price", K::kMoney}};
inline constexpr FieldSpec kTaskOnly[] = {{"task", K::kIdent}};
inline constexpr FieldSpec kWithdrawal[] = {
    {"party", K::kParty}, {"source", K::kEnum, kSources}, {"amount", K::kMoney}};
inline constexpr FieldSpec kAdjustment[] = {
    {"from", K::kAccount}, {"to", K::kAccount}, {"amount", K::kMoney}, {"reason", K::kText}};
inline constexpr FieldSpec kRulesPublished[] = {{"ruleset", K::kIdent},
                                                {"version", K::kInt},
                                                {"effective", K::kTime},
                                                {"sha256", K::kSha256},
                                                {"source", K::kText}};

inline constexpr EventSpec kSpecs[] = {
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

// `appended` fields are optional and come after every field that is not (store/codec.cpp relies on it).
consteval bool appended_fields_trail() {
  for (const EventSpec& spec : kSpecs) {
    bool seen = false;
    for (const FieldSpec& f : spec.fields) {
      if (f.appended && !f.optional) return false;
      if (seen && !f.appended) return false;
      seen = seen || f.appended;
    }
  }
  return true;
}
static_assert(appended_fields_trail());

}  // namespace schema

constexpr const EventSpec& spec_of(EventType type) {
  return schema::kSpecs[static_cast<std::size_t>(type) - 1];
}
std::optional<EventType> event_type_from_name(std::string_view name);
std::span<const EventSpec> all_event_specs();
// Index of a field in its type's schema, or -1.
constexpr int field_index(EventType type, std::string_view field_name) {
  const auto fields = spec_of(type).fields;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == field_name) return static_cast<int>(i);
  }
  return -1;
}

// A field of one or more event types that hold it at the same position in their schema.
struct FieldRef {
  std::uint8_t index = 0;
  std::uint32_t types = 0;  // bit (1 << type) for each type the field belongs to
  constexpr bool holds(EventType t) const { return (types >> static_cast<unsigned>(t)) & 1U; }
};

// The field `name` of `types`, resolved while compiling: the throw makes a wrong name, or one at
// different positions in the given types, a compile error (a consteval call must be constant).
consteval FieldRef field_ref(std::string_view name, std::initializer_list<EventType> types) {
  FieldRef ref;
  bool first = true;
  for (EventType t : types) {
    const int i = field_index(t, name);
    if (i < 0) throw "no such field in this event type";
    if (!first && i != ref.index) throw "the field is at different positions in these event types";
    ref.index = static_cast<std::uint8_t>(i);
    ref.types |= std::uint32_t{1} << static_cast<unsigned>(t);
    first = false;
  }
  return ref;
}

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
  // A field named at compile time; the event must be of a type the ref belongs to.
  const FieldValue& operator[](FieldRef f) const {
    assert(f.holds(type));
    return fields[f.index];
  }
  const std::string& text(FieldRef f) const { return (*this)[f].s; }
  std::int64_t number(FieldRef f) const { return (*this)[f].i; }
  friend bool operator==(const Event&, const Event&) = default;
};

// Every field C++ code reads, resolved at compile time (see field_ref). A ref shared by a family of
// types is named at the top; the others by their type.
namespace fields {
using enum EventType;

inline constexpr FieldRef kOrder = field_ref("order", {kOrderPaid, kOrderConfirmed, kOrderRefunded});
inline constexpr FieldRef kTask = field_ref("task", {kVtaskCreated, kVtaskConfirmed, kVtaskCancelled});
inline constexpr FieldRef kPlan =
    field_ref("plan", {kPlanCreated, kPlanApplied, kPlanApproved, kPlanRejected});
inline constexpr FieldRef kParty = field_ref("party", {kPayoutBound, kWithdrawalRequested});

namespace agency_contracted {
inline constexpr FieldRef kAgency = field_ref("agency", {kAgencyContracted});
}
namespace streamer {  // streamer.signed and streamer.released
inline constexpr FieldRef kStreamer = field_ref("streamer", {kStreamerSigned, kStreamerReleased});
inline constexpr FieldRef kAgency = field_ref("agency", {kStreamerSigned});
}  // namespace streamer
namespace payout_bound {
inline constexpr FieldRef kAlipay = field_ref("alipay", {kPayoutBound});
inline constexpr FieldRef kVerified = field_ref("verified", {kPayoutBound});
inline constexpr FieldRef kName = field_ref("name", {kPayoutBound});  // optional
}  // namespace payout_bound
namespace plan_created {
inline constexpr FieldRef kMerchant = field_ref("merchant", {kPlanCreated});
inline constexpr FieldRef kKind = field_ref("kind", {kPlanCreated});
inline constexpr FieldRef kRate = field_ref("rate", {kPlanCreated});
inline constexpr FieldRef kApproval = field_ref("approval", {kPlanCreated});
}  // namespace plan_created
namespace plan_decision {  // plan.applied, plan.approved and plan.rejected
inline constexpr FieldRef kStreamer = field_ref("streamer", {kPlanApplied, kPlanApproved, kPlanRejected});
}
namespace order_paid {
inline constexpr FieldRef kMerchant = field_ref("merchant", {kOrderPaid});
inline constexpr FieldRef kStreamer = field_ref("streamer", {kOrderPaid});
inline constexpr FieldRef kPlan = field_ref("plan", {kOrderPaid});
inline constexpr FieldRef kAmount = field_ref("amount", {kOrderPaid});
inline constexpr FieldRef kViaLink = field_ref("via_link", {kOrderPaid});
}  // namespace order_paid
namespace order_refunded {
inline constexpr FieldRef kAmount = field_ref("amount", {kOrderRefunded});
inline constexpr FieldRef kCase = field_ref("case", {kOrderRefunded});
}  // namespace order_refunded
namespace vtask_created {
inline constexpr FieldRef kMerchant = field_ref("merchant", {kVtaskCreated});
inline constexpr FieldRef kStreamer = field_ref("streamer", {kVtaskCreated});
inline constexpr FieldRef kKind = field_ref("kind", {kVtaskCreated});
inline constexpr FieldRef kPrice = field_ref("price", {kVtaskCreated});
}  // namespace vtask_created
namespace withdrawal {
inline constexpr FieldRef kSource = field_ref("source", {kWithdrawalRequested});
inline constexpr FieldRef kAmount = field_ref("amount", {kWithdrawalRequested});
}  // namespace withdrawal
namespace adjustment {
inline constexpr FieldRef kFrom = field_ref("from", {kAdjustment});
inline constexpr FieldRef kTo = field_ref("to", {kAdjustment});
inline constexpr FieldRef kAmount = field_ref("amount", {kAdjustment});
inline constexpr FieldRef kReason = field_ref("reason", {kAdjustment});
}  // namespace adjustment
namespace rules_published {
inline constexpr FieldRef kRuleset = field_ref("ruleset", {kRulesPublished});
inline constexpr FieldRef kVersion = field_ref("version", {kRulesPublished});
inline constexpr FieldRef kEffective = field_ref("effective", {kRulesPublished});
inline constexpr FieldRef kSha256 = field_ref("sha256", {kRulesPublished});
inline constexpr FieldRef kSource = field_ref("source", {kRulesPublished});
}  // namespace rules_published

}  // namespace fields

}  // namespace fz
