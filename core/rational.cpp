#include "core/rational.hpp"

#include <fmt/format.h>
#include <boost/container/small_vector.hpp>

#include <algorithm>
#include <bit>
#include <numeric>
#include <utility>

namespace fz {
namespace {

using i128 = Int128;
__extension__ typedef unsigned __int128 u128;

constexpr u128 kMax = static_cast<u128>(kRationalMax);

bool fits_u64(u128 v) {
  return (v >> 64) == 0;
}

// |v| as unsigned; exact for every value, INT128_MIN included.
u128 mag(i128 v) {
  return v < 0 ? u128{0} - static_cast<u128>(v) : static_cast<u128>(v);
}

// m <= kMax.
i128 with_sign(bool negative, u128 m) {
  const auto v = static_cast<i128>(m);
  return negative ? -v : v;
}

int ctz(u128 v) {  // v != 0
  const auto lo = static_cast<std::uint64_t>(v);
  return lo != 0 ? std::countr_zero(lo) : 64 + std::countr_zero(static_cast<std::uint64_t>(v >> 64));
}

// Quotient and remainder, in 64 bits when both operands fit (the common case; 128-bit division is a
// library call).
u128 quot(u128 a, u128 b) {
  if (fits_u64(a) && fits_u64(b)) return static_cast<std::uint64_t>(a) / static_cast<std::uint64_t>(b);
  return a / b;
}
u128 rem(u128 a, u128 b) {
  if (fits_u64(a) && fits_u64(b)) return static_cast<std::uint64_t>(a) % static_cast<std::uint64_t>(b);
  return a % b;
}

// Binary GCD (no division), in 64 bits once both operands fit. gcd(0, b) = b.
u128 gcd(u128 a, u128 b) {
  if (a == 0) return b;
  if (b == 0) return a;
  if (a == 1 || b == 1) return 1;
  const int shift = ctz(a | b);
  a >>= ctz(a);
  while (!fits_u64(a) || !fits_u64(b)) {
    b >>= ctz(b);
    if (a > b) std::swap(a, b);
    b -= a;
    if (b == 0) return a << shift;
  }
  auto x = static_cast<std::uint64_t>(a), y = static_cast<std::uint64_t>(b);
  while (y != 0) {
    y >>= std::countr_zero(y);
    if (x > y) std::swap(x, y);
    y -= x;
  }
  return static_cast<u128>(x) << shift;
}

// ---- 256-bit intermediates: only when a product of two 128-bit values does not fit in 128 ----------

struct U256 {
  u128 hi = 0, lo = 0;
};

U256 mul_wide(u128 a, u128 b) {
  const u128 a0 = static_cast<std::uint64_t>(a), a1 = a >> 64;
  const u128 b0 = static_cast<std::uint64_t>(b), b1 = b >> 64;
  const u128 p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const u128 mid = (p00 >> 64) + static_cast<std::uint64_t>(p01) + static_cast<std::uint64_t>(p10);
  return U256{p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64), (mid << 64) | static_cast<std::uint64_t>(p00)};
}

std::strong_ordering cmp(U256 a, U256 b) {
  if (a.hi != b.hi) return a.hi < b.hi ? std::strong_ordering::less : std::strong_ordering::greater;
  if (a.lo != b.lo) return a.lo < b.lo ? std::strong_ordering::less : std::strong_ordering::greater;
  return std::strong_ordering::equal;
}

U256 add_wide(U256 a, U256 b) {  // no carry out: callers add values below 2^255
  const u128 lo = a.lo + b.lo;
  return U256{a.hi + b.hi + (lo < a.lo ? 1 : 0), lo};
}

U256 sub_wide(U256 a, U256 b) {  // a >= b
  return U256{a.hi - b.hi - (a.lo < b.lo ? 1 : 0), a.lo - b.lo};
}

// x / d into *q, returning x % d; 0 < d <= kMax, so the shifted remainder never passes 128 bits.
u128 divmod(U256 x, u128 d, U256* q) {
  if (x.hi == 0) {
    *q = U256{0, quot(x.lo, d)};
    return rem(x.lo, d);
  }
  U256 out{x.hi / d, 0};
  u128 r = x.hi % d;
  for (int i = 127; i >= 0; --i) {
    r = (r << 1) | ((x.lo >> i) & 1);
    if (r >= d) {
      r -= d;
      out.lo |= u128{1} << i;
    }
  }
  *q = out;
  return r;
}

// A signed 256-bit value as sign and magnitude.
struct Wide {
  bool negative = false;
  U256 mag;
};

Wide times(i128 a, u128 b) {
  return Wide{a < 0, mul_wide(mag(a), b)};
}

Wide plus(Wide x, Wide y) {
  if (x.negative == y.negative) return Wide{x.negative, add_wide(x.mag, y.mag)};
  if (cmp(x.mag, y.mag) < 0) return Wide{y.negative, sub_wide(y.mag, x.mag)};
  return Wide{x.negative, sub_wide(x.mag, y.mag)};
}

// ---- building results -------------------------------------------------------------------------------

std::optional<Rational> reduced(bool negative, u128 n, u128 d) {  // d != 0
  const u128 g = gcd(n, d);
  if (g > 1) {
    n = quot(n, g);
    d = quot(d, g);
  }
  if (n > kMax || d > kMax) return std::nullopt;
  return Rational{with_sign(negative, n), static_cast<i128>(d)};
}

// Sum of a/ad + b/bd for reduced inputs (Knuth 4.5.1): with g = gcd(ad, bd), the numerator
// n = a (bd/g) + b (ad/g) shares with the denominator (ad/g) bd only gcd(n, g).
std::optional<Rational> sum(i128 a, u128 ad, i128 b, u128 bd) {
  const u128 g = gcd(ad, bd);
  const u128 ad1 = quot(ad, g), bd1 = quot(bd, g);
  i128 t1 = 0, t2 = 0, n = 0;
  bool negative = false;
  u128 num = 0, g2 = 1;
  if (!__builtin_mul_overflow(a, static_cast<i128>(bd1), &t1) &&
      !__builtin_mul_overflow(b, static_cast<i128>(ad1), &t2) && !__builtin_add_overflow(t1, t2, &n)) {
    if (n == 0) return Rational{0, 1};
    negative = n < 0;
    g2 = gcd(mag(n), g);
    num = quot(mag(n), g2);
  } else {
    const Wide w = plus(times(a, bd1), times(b, ad1));
    negative = w.negative;
    U256 q;
    g2 = gcd(divmod(w.mag, g, &q), g);
    divmod(w.mag, g2, &q);
    if (q.hi != 0) return std::nullopt;
    num = q.lo;
  }
  u128 den = 0;
  if (num > kMax || __builtin_mul_overflow(ad1, quot(bd, g2), &den) || den > kMax) return std::nullopt;
  return Rational{with_sign(negative, num), static_cast<i128>(den)};
}

}  // namespace

std::optional<Rational> make_rational(i128 num, i128 den) {
  if (den == 0) return std::nullopt;
  return reduced((num < 0) != (den < 0), mag(num), mag(den));
}

std::optional<Rational> add(Rational a, Rational b) {
  return sum(a.num, static_cast<u128>(a.den), b.num, static_cast<u128>(b.den));
}
std::optional<Rational> sub(Rational a, Rational b) {
  if (b.num < -kRationalMax) return std::nullopt;  // outside the bound: cannot be negated
  return sum(a.num, static_cast<u128>(a.den), -b.num, static_cast<u128>(b.den));
}
std::optional<Rational> mul(Rational a, Rational b) {
  if (a.num == 0 || b.num == 0) return Rational{0, 1};
  // Cross-reduce: for reduced inputs the products are then the reduced result, so a product that does
  // not fit in 128 bits (or passes the bound) is a true overflow.
  u128 an = mag(a.num), ad = static_cast<u128>(a.den);
  u128 bn = mag(b.num), bd = static_cast<u128>(b.den);
  const u128 g1 = gcd(an, bd), g2 = gcd(bn, ad);
  if (g1 > 1) {
    an = quot(an, g1);
    bd = quot(bd, g1);
  }
  if (g2 > 1) {
    bn = quot(bn, g2);
    ad = quot(ad, g2);
  }
  u128 n = 0, d = 0;
  if (__builtin_mul_overflow(an, bn, &n) || __builtin_mul_overflow(ad, bd, &d) || n > kMax || d > kMax) {
    return std::nullopt;
  }
  return Rational{with_sign((a.num < 0) != (b.num < 0), n), static_cast<i128>(d)};
}
std::optional<Rational> div(Rational a, Rational b) {
  if (b.num == 0 || b.num < -kRationalMax) return std::nullopt;
  // The reciprocal, reduced, with its sign on the numerator.
  const Rational inverse{b.num < 0 ? -b.den : b.den, static_cast<i128>(mag(b.num))};
  return mul(a, inverse);
}
std::optional<Rational> neg(Rational a) {
  if (a.num < -kRationalMax) return std::nullopt;
  return Rational{-a.num, a.den};
}

std::strong_ordering compare(Rational a, Rational b) {
  if (a.den == b.den) return a.num <=> b.num;
  i128 l = 0, r = 0;
  if (!__builtin_mul_overflow(a.num, b.den, &l) && !__builtin_mul_overflow(b.num, a.den, &r)) return l <=> r;
  const int sa = a.num < 0 ? -1 : (a.num > 0 ? 1 : 0);
  const int sb = b.num < 0 ? -1 : (b.num > 0 ? 1 : 0);
  if (sa != sb) return sa <=> sb;
  const auto o =
      cmp(mul_wide(mag(a.num), static_cast<u128>(b.den)), mul_wide(mag(b.num), static_cast<u128>(a.den)));
  return sa > 0 ? o : 0 <=> o;
}

i128 floor_of(Rational a) {
  const u128 m = mag(a.num), d = static_cast<u128>(a.den);
  const u128 q = quot(m, d);
  if (a.num >= 0) return static_cast<i128>(q);
  return -static_cast<i128>(q) - (rem(m, d) != 0 ? 1 : 0);
}
i128 ceil_of(Rational a) {
  const u128 m = mag(a.num), d = static_cast<u128>(a.den);
  const u128 q = quot(m, d);
  if (a.num < 0) return -static_cast<i128>(q);
  return static_cast<i128>(q) + (rem(m, d) != 0 ? 1 : 0);
}
i128 round_half_away(Rational a) {
  // |a| rounded half up, then the sign put back: half away from zero.
  const u128 m = mag(a.num), d = static_cast<u128>(a.den);
  u128 q = quot(m, d);
  const u128 r = rem(m, d);
  if (r >= d - r) ++q;  // the fraction r/d is at least one half (never for d == 1)
  return a.num < 0 ? -static_cast<i128>(q) : static_cast<i128>(q);
}

std::string int128_to_string(i128 v) {
  u128 m = mag(v);
  if (fits_u64(m)) return fmt::format("{}{}", v < 0 ? "-" : "", static_cast<std::uint64_t>(m));
  std::string digits;
  while (m != 0) {
    digits.push_back(static_cast<char>('0' + static_cast<int>(m % 10)));
    m /= 10;
  }
  if (v < 0) digits.push_back('-');
  std::reverse(digits.begin(), digits.end());
  return digits;
}

Result<Rational> parse_percent(std::string_view text) {
  const std::string quoted = fmt::format("\"{}\"", text);
  if (text.empty() || text.back() != '%') {
    return make_error(fmt::format("{} is not a percentage such as \"20%\"", quoted));
  }
  std::string_view s = text.substr(0, text.size() - 1);
  const auto dot = s.find('.');
  std::string_view whole = s.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
  auto digits = [](std::string_view d) {
    return std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (whole.empty() || !digits(whole) || !digits(frac) || (dot != std::string_view::npos && frac.empty())) {
    return make_error(fmt::format("{} is not a percentage such as \"20%\"", quoted));
  }
  if (frac.size() > 4) return make_error(fmt::format("{} has {} decimals; at most 4", quoted, frac.size()));
  if (whole.size() > 12) return make_error(fmt::format("{} is out of range", quoted));
  i128 num = 0;
  for (char c : whole) num = num * 10 + (c - '0');
  for (std::size_t i = 0; i < 4; ++i) num = num * 10 + (i < frac.size() ? frac[i] - '0' : 0);
  auto r = make_rational(num, i128{1000000});
  if (!r) return make_error(fmt::format("{} is out of range", quoted));
  return *r;
}

std::string format_ratio(Rational r) {
  // Exact as a percentage with at most 6 decimals when possible, else as a fraction. Computed from the
  // whole part and the remainder so that no product can overflow, whatever the size of the value.
  const u128 g = gcd(mag(r.num), static_cast<u128>(r.den));
  const u128 m = quot(mag(r.num), g), d = quot(static_cast<u128>(r.den), g);
  constexpr u128 kScale = 100'000'000;  // percent x 10^6
  if (rem(kScale, d) == 0) {
    const u128 whole = quot(m, d);                  // of the ratio
    const u128 part = rem(m, d) * quot(kScale, d);  // the ratio's fraction x 10^8, < 10^8
    const auto percent_units = static_cast<std::uint64_t>(part / 1'000'000);  // 0..99
    std::string percent =
        whole == 0 ? fmt::format("{}", percent_units)
                   : int128_to_string(static_cast<i128>(whole)) + fmt::format("{:02}", percent_units);
    std::string frac = fmt::format("{:06}", static_cast<std::uint64_t>(part % 1'000'000));
    while (!frac.empty() && frac.back() == '0') frac.pop_back();
    return fmt::format("{}{}{}{}%", r.num < 0 ? "-" : "", percent, frac.empty() ? "" : ".", frac);
  }
  return int128_to_string(with_sign(r.num < 0, m)) + "/" + int128_to_string(static_cast<i128>(d));
}

std::string format_frac_money(Rational fen) {
  // fen/100 yuan, printed exactly with as many decimals as needed (up to 8), else as a fraction of fen.
  // The value has a decimal form with 2 + extra decimals exactly when den divides 10^extra.
  const u128 g = gcd(mag(fen.num), static_cast<u128>(fen.den));
  const u128 m = quot(mag(fen.num), g), d = quot(static_cast<u128>(fen.den), g);
  u128 p = 1;
  for (int extra = 0; extra <= 6; ++extra, p *= 10) {
    if (rem(p, d) != 0) continue;
    const u128 yuan = quot(m, 100 * d);
    const u128 decimals = rem(m, 100 * d) * quot(p, d);  // < 10^(2 + extra)
    return fmt::format("{}{}.{:0{}}", fen.num < 0 ? "-" : "", int128_to_string(static_cast<i128>(yuan)),
                       static_cast<std::uint64_t>(decimals), 2 + extra);
  }
  return int128_to_string(with_sign(fen.num < 0, m)) + "/" + int128_to_string(static_cast<i128>(d)) + " fen";
}

std::optional<std::vector<AllocationPart>> allocate_largest_remainder(std::int64_t amount_fen,
                                                                      std::span<const Rational> shares) {
  if (amount_fen < 0) return std::nullopt;
  Rational total{0, 1};
  for (const Rational& s : shares) {
    if (s.num < 0) return std::nullopt;
    auto t = add(total, s);
    if (!t) return std::nullopt;
    total = *t;
  }
  if (!(total == Rational{1, 1})) return std::nullopt;

  std::vector<AllocationPart> parts;
  parts.reserve(shares.size());
  i128 floors = 0;
  const auto amount = static_cast<u128>(amount_fen);
  for (const Rational& s : shares) {
    // amount*share = amount*s.num / s.den; each share is at most 1, so the floor is at most amount.
    const auto n = static_cast<u128>(s.num), d = static_cast<u128>(s.den);
    u128 exact = 0, f = 0, r = 0;
    if (!__builtin_mul_overflow(amount, n, &exact)) {
      f = quot(exact, d);
      r = rem(exact, d);
    } else {
      U256 q;
      r = divmod(mul_wide(amount, n), d, &q);
      f = q.lo;
    }
    auto frac = reduced(false, r, d);  // in [0, 1): always within the bound
    parts.push_back(AllocationPart{static_cast<std::int64_t>(f), frac.value_or(Rational{}), false,
                                   static_cast<std::int64_t>(f)});
    floors += static_cast<i128>(f);
  }
  i128 leftover = i128{amount_fen} - floors;  // < number of shares, since each fraction < 1
  // The shares in order of their fractions, largest first, ties in declaration order: the index breaks
  // ties, so the order is total and std::sort gives it without std::stable_sort's heap buffer (this runs
  // for every split of every event; a split has a handful of shares, kept inline).
  boost::container::small_vector<std::size_t, 8> order(parts.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    const auto c = compare(parts[a].fraction, parts[b].fraction);
    return c == std::strong_ordering::greater || (c == std::strong_ordering::equal && a < b);
  });
  for (std::size_t i = 0; i < order.size() && leftover > 0; ++i, --leftover) {
    AllocationPart& p = parts[order[i]];
    p.got_extra_fen = true;
    p.amount_fen = p.floor_fen + 1;
  }
  return parts;
}

}  // namespace fz
