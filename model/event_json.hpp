// JSON Lines -> validated Event (SPEC sections 2 and 3), and Event -> JSON for display.
//
// parse_event_line() checks everything that can be checked from the line alone: JSON syntax, the
// envelope (id, type, at, meta), each type's fields, their types and formats, unknown and repeated
// fields, and the stateless preconditions (amounts > 0, from != to). Preconditions that need ledger
// state (unknown order, refund above the net, ...) belong to the engine. Pure and thread-safe, so
// lines can be validated on one core while another writes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/time.hpp"
#include "model/event.hpp"

namespace fz {

inline constexpr std::size_t kMaxEventLineBytes = 64 * 1024;

// Where an exported rules.published event stood in the chain of the ledger it came from
// (`fenzhang export events` writes these two extra members on rules.published lines only; docs/exports.md).
// Only such a line may carry a rules.published event into `append`, which publishes it through the
// `rules publish` path when it lands on the same chain position with the same hash (engine/publish.hpp).
inline constexpr std::string_view kChainPreviousKey = "chain_previous";
inline constexpr std::string_view kChainHashKey = "chain_hash";
struct ExportedChain {
  std::string previous_hash;  // hex of the hash of the event before it (64 zeros for the first)
  std::string hash;           // hex of its own hash
};

struct LineResult {
  std::optional<Event> event;  // set when the line is valid
  std::string id;              // the line's id when it could be read, else "-"
  std::string reason;          // why the line was rejected, naming the field
  // Set for a rules.published event, which only an exported line (with chain members) may carry; every
  // other way of appending one is refused.
  std::optional<ExportedChain> chain;
};

LineResult parse_event_line(std::string_view line);

// Canonical JSON of an event: fields in schema order, money as "12.34", percent as "20%", times in the
// given offset. Parsing the output gives back an equal Event.
std::string event_to_json(const Event& event, OffsetSec offset = kDefaultOffsetSec);

// For code that builds events itself (an import's mapping of report rows) rather than parsing lines:
// true when parse_event_line(event_to_json(event, any offset)) would accept the line and give back
// `event` itself, judged from the typed values alone (identifiers, texts, enums and meta as the line
// parser checks them, the time in the supported range, the stateless preconditions, a size that keeps
// the line far under kMaxEventLineBytes). Conservative: false also for kinds of field it does not judge
// (percent, party, account, time, integer, hash) and for events it cannot be sure of; parse the JSON line
// then, which gives the exact reason of a rejection.
bool accepted_as_line(const Event& event);

}  // namespace fz
