#include <doctest/doctest.h>

#include <random>

#include "core/ident.hpp"
#include "core/money.hpp"
#include "core/rational.hpp"
#include "core/time.hpp"

using namespace fz;

TEST_CASE("money parses from digits and formats with two decimals") {
  CHECK(parse_money("199").value() == 19900);
  CHECK(parse_money("199.5").value() == 19950);
  CHECK(parse_money("199.00").value() == 19900);
  CHECK(parse_money("-3.20").value() == -320);
  CHECK(parse_money("0").value() == 0);
  CHECK(parse_money("92233720368547758.07").value() == INT64_MAX);
  CHECK(parse_money("-92233720368547758.08").value() == INT64_MIN);
  CHECK(parse_money("12.345").message() == "\"12.345\" has 3 decimals; at most 2");
  CHECK(parse_money("92233720368547758.08").message() == "\"92233720368547758.08\" is out of range");
  CHECK(parse_money("1e5").message() == "\"1e5\" is not an amount such as \"199.00\"");
  CHECK_FALSE(parse_money("").ok());
  CHECK_FALSE(parse_money(".5").ok());
  CHECK_FALSE(parse_money("5.").ok());
  CHECK_FALSE(parse_money("+5").ok());
  CHECK_FALSE(parse_money(" 5").ok());
  CHECK(format_money(4784) == "47.84");
  CHECK(format_money(-320) == "-3.20");
  CHECK(format_money(0) == "0.00");
  CHECK(format_money(5) == "0.05");
  CHECK(format_money(INT64_MIN) == "-92233720368547758.08");
  CHECK_FALSE(add_fen(INT64_MAX, 1).has_value());
  CHECK(add_fen(1, 2).value() == 3);
}

TEST_CASE("percent strings become exact rationals") {
  CHECK(parse_percent("20%").value() == Rational{1, 5});
  CHECK(parse_percent("4.125%").value() == Rational{33, 800});
  CHECK(parse_percent("100%").value() == Rational{1, 1});
  CHECK(parse_percent("0%").value() == Rational{0, 1});
  CHECK(parse_percent("1.23456%").message() == "\"1.23456%\" has 5 decimals; at most 4");
  CHECK_FALSE(parse_percent("20").ok());
  CHECK_FALSE(parse_percent("-5%").ok());
  CHECK(format_ratio(Rational{1, 5}) == "20%");
  CHECK(format_ratio(Rational{33, 800}) == "4.125%");
  CHECK(format_ratio(Rational{1, 3}) == "1/3");
  CHECK(format_ratio(Rational{1, 8}) == "12.5%");
}

TEST_CASE("rational arithmetic is exact and reports overflow") {
  const Rational ten{1, 10}, eighty{4, 5};
  CHECK(div(ten, eighty).value() == Rational{1, 8});
  CHECK(mul(Rational{4000, 1}, Rational{1, 8}).value() == Rational{500, 1});
  CHECK(add(Rational{1, 3}, Rational{2, 3}).value() == Rational{1, 1});
  CHECK(sub(Rational{1, 3}, Rational{1, 2}).value() == Rational{-1, 6});
  CHECK_FALSE(div(ten, Rational{0, 1}).has_value());
  CHECK(div(Rational{1, 2}, Rational{-1, 4}).value() == Rational{-2, 1});
  CHECK_FALSE(mul(Rational{INT64_MAX, 1}, Rational{2, 1}).has_value());
  CHECK_FALSE(add(Rational{1, INT64_MAX}, Rational{1, INT64_MAX - 1}).has_value());
}

TEST_CASE("rounding: half away from zero, floor, ceil") {
  CHECK(round_half_away(Rational{5, 2}) == 3);
  CHECK(round_half_away(Rational{-5, 2}) == -3);
  CHECK(round_half_away(Rational{20002, 10}) == 2000);  // 20.002 yuan -> 20.00
  CHECK(round_half_away(Rational{7, 3}) == 2);
  CHECK(floor_of(Rational{-1, 3}) == -1);
  CHECK(ceil_of(Rational{-1, 3}) == 0);
  CHECK(ceil_of(Rational{1, 3}) == 1);
  CHECK(floor_of(Rational{6, 3}) == 2);
  CHECK(format_frac_money(Rational{20002, 10}) == "20.002");
}

static std::vector<std::int64_t> amounts(std::int64_t a, std::vector<Rational> shares) {
  auto parts = allocate_largest_remainder(a, shares);
  REQUIRE(parts.has_value());
  std::vector<std::int64_t> out;
  for (auto& p : *parts) out.push_back(p.amount_fen);
  return out;
}

TEST_CASE("largest remainder: the three worked examples of SPEC section 5") {
  CHECK(amounts(1, {{1, 5}, {4, 5}}) == std::vector<std::int64_t>{0, 1});
  CHECK(amounts(5, {{1, 10}, {1, 5}, {7, 10}}) == std::vector<std::int64_t>{1, 1, 3});
  CHECK(amounts(10, {{1, 3}, {1, 3}, {1, 3}}) == std::vector<std::int64_t>{4, 3, 3});
  // 1 fen split 1:2:7 goes to the 70% share (closest to the next fen), not the first.
  CHECK(amounts(1, {{1, 10}, {1, 5}, {7, 10}}) == std::vector<std::int64_t>{0, 0, 1});
  CHECK_FALSE(allocate_largest_remainder(10, std::vector<Rational>{{1, 2}, {1, 3}}).has_value());
}

TEST_CASE("largest remainder property: floor or ceil, sums to the amount, ties to the first") {
  std::mt19937_64 rng(20261127);
  for (int iter = 0; iter < 20000; ++iter) {
    const std::int64_t amount = static_cast<std::int64_t>(rng() % 1000000);
    const int n = 1 + static_cast<int>(rng() % 6);
    // Random shares in units of 1/den, summing to den.
    const std::int64_t den = 1 + static_cast<std::int64_t>(rng() % 1000);
    std::vector<std::int64_t> units(n, 0);
    for (std::int64_t u = 0; u < den; ++u) units[rng() % n]++;
    std::vector<Rational> shares;
    for (auto u : units) shares.push_back(*make_rational(u, den));
    auto parts = allocate_largest_remainder(amount, shares);
    REQUIRE(parts.has_value());
    std::int64_t sum = 0;
    for (int i = 0; i < n; ++i) {
      const Int128 exact_num = static_cast<Int128>(amount) * units[i];
      const std::int64_t fl = static_cast<std::int64_t>(exact_num / den);
      const std::int64_t ce = fl + (exact_num % den != 0 ? 1 : 0);
      const std::int64_t got = (*parts)[i].amount_fen;
      CHECK((got == fl || got == ce));
      sum += got;
    }
    CHECK(sum == amount);
    // Ties: a share that got no extra fen never has a larger fraction, nor an equal one declared earlier
    // than a share that did.
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j < n; ++j) {
        if ((*parts)[i].got_extra_fen && !(*parts)[j].got_extra_fen) {
          const auto c = compare((*parts)[i].fraction, (*parts)[j].fraction);
          CHECK((c == std::strong_ordering::greater || (c == std::strong_ordering::equal && i < j)));
        }
      }
    }
  }
}

TEST_CASE("RFC 3339 times are parsed to UTC microseconds") {
  const TimeUs t = parse_rfc3339("2026-10-05T15:00:00+08:00").value();
  CHECK(t == parse_rfc3339("2026-10-05T07:00:00Z").value());
  CHECK(t == parse_rfc3339("2026-10-05T15:00+08:00").value());
  CHECK(format_time(t) == "2026-10-05T15:00:00+08:00");
  CHECK(format_time(t, 0) == "2026-10-05T07:00:00+00:00");
  CHECK(parse_rfc3339("2026-10-05T15:00:00.25+08:00").value() == t + 250000);
  CHECK(format_time(t + 250000) == "2026-10-05T15:00:00.25+08:00");
  CHECK_FALSE(parse_rfc3339("2026-10-05T15:00:00").ok());
  CHECK_FALSE(parse_rfc3339("2026-02-29T15:00:00Z").ok());
  CHECK(parse_rfc3339("2028-02-29T15:00:00Z").ok());
  CHECK_FALSE(parse_rfc3339("2026-10-05T24:00:00Z").ok());
  CHECK_FALSE(parse_rfc3339("2026-10-05T15:00:60Z").ok());
  CHECK_FALSE(parse_rfc3339("2026-10-05T15:00:00.1234567Z").ok());
  CHECK_FALSE(parse_rfc3339("2026-10-05 15:00:00Z").ok());
  CHECK_FALSE(parse_rfc3339("0000-10-05T15:00:00Z").ok());
  CHECK(parse_rfc3339("1969-12-31T23:59:59.999999Z").value() == -1);
}

TEST_CASE("calendar helpers work in the ruleset's offset") {
  const OffsetSec cst = kDefaultOffsetSec;
  const TimeUs created = parse_rfc3339("2026-10-05T15:00:00+08:00").value();
  CHECK(format_time(next_midnight(created, cst)) == "2026-10-06T00:00:00+08:00");
  const TimeUs midnight = parse_rfc3339("2026-10-06T00:00:00+08:00").value();
  CHECK(next_midnight(midnight, cst) == midnight + kUsPerDay);  // strictly after
  CHECK(format_time(settlement_day_after(created, 20, cst)) == "2026-11-20T00:00:00+08:00");
  const TimeUs dec = parse_rfc3339("2026-12-31T23:30:00+08:00").value();
  CHECK(format_time(settlement_day_after(dec, 20, cst)) == "2027-01-20T00:00:00+08:00");
  // 2026-12-31T16:30Z is already January in +08:00.
  const TimeUs utc_dec = parse_rfc3339("2026-12-31T16:30:00Z").value();
  CHECK(month_of(utc_dec, cst) == "2027-01");
  CHECK(month_of(utc_dec, 0) == "2026-12");
  auto range = month_range("2026-10", cst).value();
  CHECK(format_time(range.first) == "2026-10-01T00:00:00+08:00");
  CHECK(format_time(range.second) == "2026-11-01T00:00:00+08:00");
  CHECK(format_duration(14 * kUsPerDay) == "14d");
  CHECK(format_duration(kUsPerDay + 2 * 3600 * kUsPerSecond + 5 * kUsPerSecond) == "1d 2h 5s");
}

TEST_CASE("identifiers") {
  CHECK(check_ident("o-17_x.y").ok());
  CHECK(check_ident("").message() == "is empty; identifiers have 1-128 characters");
  CHECK(check_ident("a:b").message() == "\"a:b\" contains ':', which identifiers may not");
  CHECK(check_ident("a b").message() ==
        "contains a space at position 2; identifiers are printable ASCII without spaces");
  CHECK(check_ident(std::string(129, 'x')).message() ==
        "is 129 characters long; identifiers have at most 128");
  CHECK(check_ident(std::string("a\x01")).message() ==
        "contains byte 0x01 at position 2; identifiers are printable ASCII without spaces");
}
