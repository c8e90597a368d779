#include "model/event.hpp"

namespace fz {

std::span<const EventSpec> all_event_specs() {
  return schema::kSpecs;
}

std::optional<EventType> event_type_from_name(std::string_view name) {
  for (const EventSpec& s : schema::kSpecs) {
    if (s.name == name) return s.type;
  }
  return std::nullopt;
}

}  // namespace fz
