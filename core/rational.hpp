// Rational: an exact fraction num/den of two int64 values, always reduced, den > 0.
//
// Ratios ("20%", 1/8) and fractional money (money x ratio, counted in fen) are both Rationals.
// Every operation computes with 128-bit intermediates and reports overflow (a result whose reduced
// numerator or denominator does not fit in 64 bits) instead of wrapping or losing precision.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace fz {

// 128-bit intermediates for exact arithmetic (__extension__ keeps -Wpedantic quiet about the GCC type).
__extension__ typedef __int128 Int128;

struct Rational {
  std::int64_t num = 0;
  std::int64_t den = 1;

  static Rational integer(std::int64_t v) { return Rational{v, 1}; }
  bool is_integer() const { return den == 1; }
  friend bool operator==(const Rational&, const Rational&) = default;
};

// Builds num/den reduced; nullopt if den == 0 or the reduced form does not fit.
std::optional<Rational> make_rational(Int128 num, Int128 den);

std::optional<Rational> add(Rational a, Rational b);
std::optional<Rational> sub(Rational a, Rational b);
std::optional<Rational> mul(Rational a, Rational b);
std::optional<Rational> div(Rational a, Rational b);  // nullopt also for division by zero
std::optional<Rational> neg(Rational a);
std::strong_ordering compare(Rational a, Rational b);

// Integer rounding of an exact value.
std::int64_t floor_of(Rational a);
std::int64_t ceil_of(Rational a);
std::int64_t round_half_away(Rational a);

// "20%", "4.125%": digits with at most 4 decimals and a trailing '%'. Negative percents are refused.
Result<Rational> parse_percent(std::string_view text);

// 1/5 -> "20%", 33/800 -> "4.125%", 1/3 -> "1/3" (exact, never rounded).
std::string format_ratio(Rational r);
// Fractional fen as money text: 2000.2 fen -> "20.002"; non-decimal values as "num/den fen".
std::string format_frac_money(Rational fen);

// Largest-remainder allocation (SPEC section 5): splits amount_fen >= 0 by shares that sum to exactly 1.
// Each part is floor or ceil of amount*share; the leftover fen go to the largest fractional parts,
// ties to the share declared first. Returns nullopt if the shares do not sum to 1 or are negative.
struct AllocationPart {
  std::int64_t floor_fen;   // floor(amount * share)
  Rational fraction;        // amount * share - floor, in [0, 1)
  bool got_extra_fen;       // received one of the leftover fen
  std::int64_t amount_fen;  // floor_fen + got_extra_fen
};
std::optional<std::vector<AllocationPart>> allocate_largest_remainder(std::int64_t amount_fen,
                                                                      std::span<const Rational> shares);

}  // namespace fz
