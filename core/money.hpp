// Money: a signed 64-bit count of fen (分, 1/100 CNY). Never a float.
//
// Parsing takes decimal text with at most two decimals ("199", "199.5", "-3.20") from its digits;
// formatting always prints two decimals. Arithmetic helpers detect overflow instead of wrapping.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace fz {

using Fen = std::int64_t;

// Parses "[-]digits[.d[d]]". Errors name what was wrong: too many decimals, not a number, overflow.
Result<Fen> parse_money(std::string_view text);

// "47.84", "-3.20", "0.00".
std::string format_money(Fen amount_fen);

// Checked arithmetic: nullopt on overflow.
std::optional<Fen> add_fen(Fen a, Fen b);
std::optional<Fen> sub_fen(Fen a, Fen b);
std::optional<Fen> mul_fen(Fen a, std::int64_t b);
// acc += b unless that overflows; false (acc unchanged) when it would.
[[nodiscard]] inline bool accumulate_fen(Fen& acc, Fen b) {
  const std::optional<Fen> r = add_fen(acc, b);
  if (r) acc = *r;
  return r.has_value();
}

}  // namespace fz
