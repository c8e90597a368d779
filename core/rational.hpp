// Rational: an exact fraction num/den held in 128 bits, always reduced, den > 0.
//
// Ratios ("20%", 1/8) and fractional money (money x ratio, counted in fen) are both Rationals.
//
// The bound (docs/decisions.md, "Exact intermediates: 128 bits"): a Rational is a reduced fraction with
//   |num| <= 2^127 - 1  and  1 <= den <= 2^127 - 1
// (any signed 128-bit value but INT128_MIN, so that negating never overflows). Every operation computes
// its exact result, with 256-bit intermediates where a product of two 128-bit values needs them, and
// reports overflow (nullopt) only when the *reduced* result falls outside that bound. For example money
// (|m| < 2^63 fen) times three percentages of at most 100% (den | 10^6 < 2^20 each) divided by an int
// (< 2^63) has |num| < 2^123 and den < 2^123: always exact. What the rules language can then refuse is
// rounding to fen, when the rounded value leaves int64 (fits_int64 below).
// The common case (everything within 64 bits) never touches the 256-bit path and never allocates.
//
// The functions take reduced values, as make_rational and every operation here return them; a value
// written as an aggregate (Rational{2, 4}) must already be reduced.
#pragma once

#include <compare>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace fz {

// 128-bit intermediates for exact arithmetic (__extension__ keeps -Wpedantic quiet about the GCC type).
__extension__ typedef __int128 Int128;

// The largest |num| and den of a Rational: 2^127 - 1.
inline constexpr Int128 kRationalMax = (Int128{1} << 126) - 1 + (Int128{1} << 126);

struct Rational {
  Int128 num = 0;
  Int128 den = 1;

  static Rational integer(Int128 v) { return Rational{v, 1}; }
  bool is_integer() const { return den == 1; }
  friend bool operator==(const Rational&, const Rational&) = default;
};

// Builds num/den reduced; nullopt if den == 0 or the reduced form is outside the bound above.
std::optional<Rational> make_rational(Int128 num, Int128 den);

std::optional<Rational> add(Rational a, Rational b);
std::optional<Rational> sub(Rational a, Rational b);
std::optional<Rational> mul(Rational a, Rational b);
std::optional<Rational> div(Rational a, Rational b);  // nullopt also for division by zero
std::optional<Rational> neg(Rational a);
std::strong_ordering compare(Rational a, Rational b);  // exact, never overflows

// Integer rounding of an exact value; always exact (|result| <= |num| fits in 128 bits).
Int128 floor_of(Rational a);
Int128 ceil_of(Rational a);
Int128 round_half_away(Rational a);

inline bool fits_int64(Int128 v) {
  return v >= std::numeric_limits<std::int64_t>::min() && v <= std::numeric_limits<std::int64_t>::max();
}

// Decimal digits of a 128-bit integer ("-170141183460469231731687303715884105727").
std::string int128_to_string(Int128 v);

// "20%", "4.125%": digits with at most 4 decimals and a trailing '%'. Negative percents are refused.
Result<Rational> parse_percent(std::string_view text);

// 1/5 -> "20%", 33/800 -> "4.125%", 1/3 -> "1/3" (exact, never rounded).
std::string format_ratio(Rational r);
// Fractional fen as money text: 2000.2 fen -> "20.002"; non-decimal values as "num/den fen".
std::string format_frac_money(Rational fen);

// Largest-remainder allocation (SPEC section 5): splits amount_fen >= 0 by shares that sum to exactly 1.
// Each part is floor or ceil of amount*share; the leftover fen go to the largest fractional parts,
// ties to the share declared first. Returns nullopt if the shares do not sum to 1 or are negative.
// Exact for any amount up to INT64_MAX and any shares within the bound (amount x share.num may need
// up to 191 bits; it is computed in 256).
struct AllocationPart {
  std::int64_t floor_fen;   // floor(amount * share)
  Rational fraction;        // amount * share - floor, in [0, 1)
  bool got_extra_fen;       // received one of the leftover fen
  std::int64_t amount_fen;  // floor_fen + got_extra_fen
};
std::optional<std::vector<AllocationPart>> allocate_largest_remainder(std::int64_t amount_fen,
                                                                      std::span<const Rational> shares);

}  // namespace fz
