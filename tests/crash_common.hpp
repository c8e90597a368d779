// What crash_writer appends, so that crash_test can check the log is exactly a prefix of it.
#pragma once

#include <fmt/format.h>

#include "model/event.hpp"

namespace fz::crash {

inline constexpr std::uint64_t kBatch = 64;

inline Event event_for(std::uint64_t seq) {
  Event e;
  e.id = fmt::format("c-{}", seq);
  e.type = EventType::kAgencyContracted;
  e.at_us = static_cast<std::int64_t>(seq) * kUsPerSecond;
  e.fields = {FieldValue{true, 0, fmt::format("a{}", seq)}};
  return e;
}

}  // namespace fz::crash
