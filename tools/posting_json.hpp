// The JSON form of one posting (SPEC section 8), shared by `journal` and `explain`.
#pragma once

#include <boost/json.hpp>

#include "core/money.hpp"
#include "core/time.hpp"
#include "engine/book.hpp"

namespace fz::cli {

inline boost::json::value posting_json(const engine::Posting& p, OffsetSec tz) {
  return boost::json::object{
      {"seq", p.seq},
      {"event", p.event_id},
      {"account", p.account},
      {"amount", format_money(p.amount_fen)},
      {"available_at", format_time(p.available_at, tz)},
      // Operator adjustments run no rules: no version, no line.
      {"version", p.version == 0 ? boost::json::value(nullptr) : boost::json::value(p.version)},
      {"rule", p.rule},
      {"line", p.line == 0 ? boost::json::value(nullptr) : boost::json::value(p.line)},
      {"key", p.key.empty() ? boost::json::value(nullptr) : boost::json::value(p.key)}};
}

}  // namespace fz::cli
