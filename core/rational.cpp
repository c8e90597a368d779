#include "core/rational.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <numeric>

namespace fz {
namespace {

using i128 = Int128;

i128 abs128(i128 v) {
  return v < 0 ? -v : v;
}

i128 gcd128(i128 a, i128 b) {
  a = abs128(a);
  b = abs128(b);
  while (b != 0) {
    const i128 t = a % b;
    a = b;
    b = t;
  }
  return a;
}

bool fits64(i128 v) {
  return v >= std::numeric_limits<std::int64_t>::min() && v <= std::numeric_limits<std::int64_t>::max();
}

// floor division for den > 0
i128 floor_div(i128 num, i128 den) {
  i128 q = num / den;
  if ((num % den) != 0 && num < 0) --q;
  return q;
}

}  // namespace

std::optional<Rational> make_rational(i128 num, i128 den) {
  if (den == 0) return std::nullopt;
  if (den < 0) {
    num = -num;
    den = -den;
  }
  const i128 g = gcd128(num, den);
  if (g > 1) {
    num /= g;
    den /= g;
  }
  if (!fits64(num) || !fits64(den)) return std::nullopt;
  return Rational{static_cast<std::int64_t>(num), static_cast<std::int64_t>(den)};
}

std::optional<Rational> add(Rational a, Rational b) {
  return make_rational(i128{a.num} * b.den + i128{b.num} * a.den, i128{a.den} * b.den);
}
std::optional<Rational> sub(Rational a, Rational b) {
  return make_rational(i128{a.num} * b.den - i128{b.num} * a.den, i128{a.den} * b.den);
}
std::optional<Rational> mul(Rational a, Rational b) {
  // Cross-reduce first so that products of already-reduced values stay small.
  const i128 g1 = gcd128(a.num, b.den);
  const i128 g2 = gcd128(b.num, a.den);
  const i128 n1 = g1 ? a.num / g1 : a.num, d2 = g1 ? b.den / g1 : b.den;
  const i128 n2 = g2 ? b.num / g2 : b.num, d1 = g2 ? a.den / g2 : a.den;
  return make_rational(n1 * n2, d1 * d2);
}
std::optional<Rational> div(Rational a, Rational b) {
  if (b.num == 0) return std::nullopt;
  // b's reciprocal may carry its sign in the denominator; mul() normalises through make_rational.
  return mul(a, Rational{b.den, b.num});
}
std::optional<Rational> neg(Rational a) {
  return make_rational(-i128{a.num}, i128{a.den});
}

std::strong_ordering compare(Rational a, Rational b) {
  return i128{a.num} * b.den <=> i128{b.num} * a.den;
}

std::int64_t floor_of(Rational a) {
  return static_cast<std::int64_t>(floor_div(a.num, a.den));
}
std::int64_t ceil_of(Rational a) {
  return static_cast<std::int64_t>(-floor_div(-i128{a.num}, a.den));
}
std::int64_t round_half_away(Rational a) {
  // |a| rounded half up, then the sign put back: half away from zero.
  const i128 mag = abs128(a.num);
  const i128 r = (2 * mag + a.den) / (2 * i128{a.den});
  return static_cast<std::int64_t>(a.num < 0 ? -r : r);
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
  // Exact as a percentage with at most 6 decimals when possible, else as a fraction.
  const i128 scaled = i128{r.num} * 100000000;  // percent * 1e6
  if (scaled % r.den == 0) {
    i128 v = scaled / r.den;
    const bool negative = v < 0;
    if (negative) v = -v;
    std::string whole = fmt::format("{}", static_cast<std::int64_t>(v / 1000000));
    std::string frac = fmt::format("{:06}", static_cast<std::int64_t>(v % 1000000));
    while (!frac.empty() && frac.back() == '0') frac.pop_back();
    return fmt::format("{}{}{}{}%", negative ? "-" : "", whole, frac.empty() ? "" : ".", frac);
  }
  return fmt::format("{}/{}", r.num, r.den);
}

std::string format_frac_money(Rational fen) {
  // fen/100 yuan, printed exactly with as many decimals as needed (up to 8), else as a fraction of fen.
  for (int extra = 0; extra <= 6; ++extra) {
    i128 p = 1;
    for (int i = 0; i < extra; ++i) p *= 10;
    const i128 scaled = i128{fen.num} * p;
    if (scaled % fen.den != 0) continue;
    i128 v = scaled / fen.den;  // fen * 10^extra
    const bool negative = v < 0;
    if (negative) v = -v;
    const int decimals = 2 + extra;
    i128 unit = 1;
    for (int i = 0; i < decimals; ++i) unit *= 10;
    return fmt::format("{}{}.{:0{}}", negative ? "-" : "", static_cast<std::int64_t>(v / unit),
                       static_cast<std::int64_t>(v % unit), decimals);
  }
  return fmt::format("{}/{} fen", fen.num, fen.den);
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
  for (const Rational& s : shares) {
    const i128 exact_num = i128{amount_fen} * s.num;  // amount*share = exact_num / s.den
    const i128 f = floor_div(exact_num, s.den);
    const i128 rem = exact_num - f * s.den;  // in [0, den)
    auto frac = make_rational(rem, s.den);
    parts.push_back(AllocationPart{static_cast<std::int64_t>(f), frac.value_or(Rational{}), false,
                                   static_cast<std::int64_t>(f)});
    floors += f;
  }
  i128 leftover = i128{amount_fen} - floors;  // < number of shares, since each fraction < 1
  std::vector<std::size_t> order(parts.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return compare(parts[a].fraction, parts[b].fraction) == std::strong_ordering::greater;
  });
  for (std::size_t i = 0; i < order.size() && leftover > 0; ++i, --leftover) {
    AllocationPart& p = parts[order[i]];
    p.got_extra_fen = true;
    p.amount_fen = p.floor_fen + 1;
  }
  return parts;
}

}  // namespace fz
