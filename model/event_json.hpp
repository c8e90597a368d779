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

struct LineResult {
  std::optional<Event> event;  // set when the line is valid
  std::string id;              // the line's id when it could be read, else "-"
  std::string reason;          // why the line was rejected, naming the field
};

LineResult parse_event_line(std::string_view line);

// Canonical JSON of an event: fields in schema order, money as "12.34", percent as "20%", times in the
// given offset. Parsing the output gives back an equal Event.
std::string event_to_json(const Event& event, OffsetSec offset = kDefaultOffsetSec);

}  // namespace fz
