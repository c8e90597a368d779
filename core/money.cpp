#include "core/money.hpp"

#include <fmt/format.h>

#include <limits>

namespace fz {

Result<Fen> parse_money(std::string_view text) {
  const std::string quoted = fmt::format("\"{}\"", text);
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && s.front() == '-') {
    negative = true;
    s.remove_prefix(1);
  }
  const auto dot = s.find('.');
  std::string_view whole = s.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view{} : s.substr(dot + 1);
  if (whole.empty() || (dot != std::string_view::npos && frac.empty())) {
    return make_error(fmt::format("{} is not an amount such as \"199.00\"", quoted));
  }
  for (char c : whole) {
    if (c < '0' || c > '9') return make_error(fmt::format("{} is not an amount such as \"199.00\"", quoted));
  }
  for (char c : frac) {
    if (c < '0' || c > '9') return make_error(fmt::format("{} is not an amount such as \"199.00\"", quoted));
  }
  if (frac.size() > 2) {
    return make_error(fmt::format("{} has {} decimals; at most 2", quoted, frac.size()));
  }
  // Accumulate as a negative number so that the most negative int64 is representable.
  constexpr Fen kMin = std::numeric_limits<Fen>::min();
  Fen acc = 0;
  auto push_digit = [&](char c) -> bool {
    const int d = c - '0';
    if (acc < kMin / 10) return false;
    acc *= 10;
    if (acc < kMin + d) return false;
    acc -= d;
    return true;
  };
  bool fits = true;
  for (char c : whole) fits = fits && push_digit(c);
  for (std::size_t i = 0; i < 2; ++i) fits = fits && push_digit(i < frac.size() ? frac[i] : '0');
  if (!fits) return make_error(fmt::format("{} is out of range", quoted));
  if (!negative) {
    if (acc == kMin) return make_error(fmt::format("{} is out of range", quoted));
    acc = -acc;
  }
  return acc;
}

std::string format_money(Fen amount_fen) {
  // Work in unsigned magnitude so that INT64_MIN formats correctly.
  const bool negative = amount_fen < 0;
  const std::uint64_t mag = negative ? std::uint64_t{0} - static_cast<std::uint64_t>(amount_fen)
                                     : static_cast<std::uint64_t>(amount_fen);
  return fmt::format("{}{}.{:02}", negative ? "-" : "", mag / 100, mag % 100);
}

std::optional<Fen> add_fen(Fen a, Fen b) {
  Fen r;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

std::optional<Fen> sub_fen(Fen a, Fen b) {
  Fen r;
  if (__builtin_sub_overflow(a, b, &r)) return std::nullopt;
  return r;
}

std::optional<Fen> mul_fen(Fen a, std::int64_t b) {
  Fen r;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

}  // namespace fz
