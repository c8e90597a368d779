#include <doctest/doctest.h>
#include <fmt/format.h>

#include <boost/multiprecision/cpp_int.hpp>
#include <random>

#include "core/bytes.hpp"
#include "core/ident.hpp"
#include "core/money.hpp"
#include "core/rational.hpp"
#include "core/time.hpp"

using namespace fz;

// A 128-bit value from its decimal digits (no literals that wide).
static Int128 big(std::string_view digits) {
  Int128 v = 0;
  for (char c : digits) v = v * 10 + (c - '0');
  return v;
}

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
  // Values beyond 64 bits are exact now (the bound is 2^127 - 1, core/rational.hpp); these two overflowed
  // when Rational held int64 numerators and denominators.
  CHECK(mul(Rational{INT64_MAX, 1}, Rational{2, 1}).value() == Rational{Int128{INT64_MAX} * 2, 1});
  CHECK(add(Rational{1, INT64_MAX}, Rational{1, INT64_MAX - 1}).value() ==
        Rational{big("18446744073709551613"), big("85070591730234615838173535747377725442")});
  // Results beyond the bound are still refused.
  CHECK_FALSE(mul(Rational{kRationalMax, 1}, Rational{2, 1}).has_value());
  CHECK_FALSE(mul(Rational{Int128{1} << 100, 1}, Rational{Int128{1} << 30, 1}).has_value());
  CHECK_FALSE(add(Rational{kRationalMax, 1}, Rational{1, 1}).has_value());
  CHECK_FALSE(sub(Rational{-kRationalMax, 1}, Rational{1, 1}).has_value());
  CHECK_FALSE(add(Rational{1, (Int128{1} << 70) - 1}, Rational{1, (Int128{1} << 70) + 1}).has_value());
  CHECK_FALSE(div(Rational{1, kRationalMax}, Rational{kRationalMax, 1}).has_value());
  CHECK(neg(Rational{-kRationalMax, 1}).value() == Rational{kRationalMax, 1});
  CHECK_FALSE(make_rational(-kRationalMax - 1, 1).has_value());  // INT128_MIN: outside the bound
  CHECK(make_rational(-kRationalMax - 1, 2).value() == Rational{Int128{-1} << 126, 1});
}

TEST_CASE("money x ratio: exact beyond 64 bits, rounded to fen, overflow only when the fen do not fit") {
  // Issue 7: 100000000000.01 at 99.9999%. The numerator (10^13 + 1) x 999999 needs 64 bits, more than
  // int64 holds; the commission round(9999990000000.999999 fen) = 9999990000001 fen fits easily.
  const Rational amount = Rational::integer(10'000'000'000'001);
  const Rational rate = parse_percent("99.9999%").value();
  const Rational exact = mul(amount, rate).value();
  CHECK(exact == Rational{big("9999990000000999999"), 1'000'000});
  CHECK(round_half_away(exact) == 9'999'990'000'001);
  CHECK(floor_of(exact) == 9'999'990'000'000);
  CHECK(ceil_of(exact) == 9'999'990'000'001);
  CHECK(fits_int64(round_half_away(exact)));
  CHECK(format_frac_money(exact) == "99999900000.00999999");
  CHECK(format_frac_money(neg(exact).value()) == "-99999900000.00999999");
  // (money x ratio x ratio) / n stays exact.
  const Rational twice = mul(exact, rate).value();
  CHECK(twice == Rational{big("9999980000010999998000001"), big("1000000000000")});
  CHECK(round_half_away(twice) == 9'999'980'000'011);
  const Rational third = div(twice, Rational::integer(3)).value();
  CHECK(third == Rational{big("3333326666670333332666667"), big("1000000000000")});
  CHECK(round_half_away(third) == 3'333'326'666'670);
  CHECK(compare(third, twice) == std::strong_ordering::less);
  CHECK(compare(neg(twice).value(), third) == std::strong_ordering::less);
  // INT64_MAX fen at 150%: exact, but the rounded fen leave int64, which the caller refuses.
  const Rational too_big = mul(Rational::integer(INT64_MAX), Rational{3, 2}).value();
  CHECK(too_big == Rational{big("27670116110564327421"), 2});
  CHECK(format_frac_money(too_big) == "138350580552821637.105");
  CHECK_FALSE(fits_int64(round_half_away(too_big)));
  CHECK_FALSE(fits_int64(floor_of(neg(too_big).value())));
  CHECK(fits_int64(round_half_away(Rational{INT64_MIN, 1})));
  CHECK(round_half_away(Rational{Int128{INT64_MAX} * 2 + 1, 2}) == Int128{INT64_MAX} + 1);  // x.5 away
  CHECK(round_half_away(Rational{-(Int128{INT64_MAX} * 2 + 1), 2}) == -Int128{INT64_MAX} - 1);
  // A sum whose cross products need more than 128 bits although the result fits: N/3 - N/5 = 2N/15.
  const Int128 n = (Int128{1} << 125) + 9;
  CHECK(sub(Rational{n, 3}, Rational{n, 5}).value() == Rational{2 * n, 15});
  CHECK(add(Rational{n, 3}, Rational{-n, 3}).value() == Rational{0, 1});
  CHECK(compare(Rational{n, 3}, Rational{n, 5}) == std::strong_ordering::greater);
  CHECK(compare(Rational{-n, 3}, Rational{-n, 5}) == std::strong_ordering::less);
  CHECK(compare(Rational{kRationalMax, 3}, Rational{kRationalMax - 1, 3}) == std::strong_ordering::greater);
}

TEST_CASE("formatting of values beyond 64 bits") {
  CHECK(int128_to_string(kRationalMax) == "170141183460469231731687303715884105727");
  CHECK(int128_to_string(-kRationalMax) == "-170141183460469231731687303715884105727");
  CHECK(int128_to_string(0) == "0");
  CHECK(int128_to_string(INT64_MIN) == "-9223372036854775808");
  CHECK(format_ratio(Rational{kRationalMax, 1}) == "17014118346046923173168730371588410572700%");
  CHECK(format_ratio(Rational{kRationalMax, 8}) == "2126764793255865396646091296448551321587.5%");
  CHECK(format_ratio(Rational{-kRationalMax, 3}) == "-170141183460469231731687303715884105727/3");
  CHECK(format_ratio(Rational{1, kRationalMax}) == "1/170141183460469231731687303715884105727");
  CHECK(format_ratio(Rational{3, 2}) == "150%");
  CHECK(format_ratio(Rational{-1, 400}) == "-0.25%");
  CHECK(format_ratio(Rational{0, 1}) == "0%");
  CHECK(format_ratio(Rational{1, 100000000}) == "0.000001%");
  CHECK(format_frac_money(Rational{kRationalMax, 1}) == "1701411834604692317316873037158841057.27");
  CHECK(format_frac_money(Rational{-kRationalMax, 1000000}) == "-1701411834604692317316873037158.84105727");
  CHECK(format_frac_money(Rational{kRationalMax, 7}) == "170141183460469231731687303715884105727/7 fen");
  CHECK(format_frac_money(Rational{0, 1}) == "0.00");
  CHECK(format_frac_money(Rational{-1, 2}) == "-0.005");
}

// The formatting as it was when Rational held int64 values, kept here to show that every value of that
// range is still printed exactly as before (explain output and golden files compare the text).
namespace {
std::string old_format_ratio(std::int64_t num, std::int64_t den) {
  const Int128 scaled = Int128{num} * 100000000;
  if (scaled % den == 0) {
    Int128 v = scaled / den;
    const bool negative = v < 0;
    if (negative) v = -v;
    std::string whole = fmt::format("{}", static_cast<std::int64_t>(v / 1000000));
    std::string frac = fmt::format("{:06}", static_cast<std::int64_t>(v % 1000000));
    while (!frac.empty() && frac.back() == '0') frac.pop_back();
    return fmt::format("{}{}{}{}%", negative ? "-" : "", whole, frac.empty() ? "" : ".", frac);
  }
  return fmt::format("{}/{}", num, den);
}
std::string old_format_frac_money(std::int64_t num, std::int64_t den) {
  for (int extra = 0; extra <= 6; ++extra) {
    Int128 p = 1;
    for (int i = 0; i < extra; ++i) p *= 10;
    const Int128 scaled = Int128{num} * p;
    if (scaled % den != 0) continue;
    Int128 v = scaled / den;
    const bool negative = v < 0;
    if (negative) v = -v;
    const int decimals = 2 + extra;
    Int128 unit = 1;
    for (int i = 0; i < decimals; ++i) unit *= 10;
    return fmt::format("{}{}.{:0{}}", negative ? "-" : "", static_cast<std::int64_t>(v / unit),
                       static_cast<std::int64_t>(v % unit), decimals);
  }
  return fmt::format("{}/{} fen", num, den);
}
}  // namespace

TEST_CASE("formatting of every int64 value is unchanged") {
  std::mt19937_64 rng(7);
  const std::int64_t dens[] = {1,    2,     3,      4,       5,       7,         8,         10,       16,
                               20,   25,    40,     80,      125,     400,       625,       800,      1000,
                               1024, 10000, 100000, 1000000, 3000000, 100000000, 200000000, INT64_MAX};
  for (int iter = 0; iter < 20000; ++iter) {
    std::int64_t num = static_cast<std::int64_t>(rng() >> (rng() % 64));
    if (rng() % 2) num = -num;
    const std::int64_t den = iter % 3 == 0 ? static_cast<std::int64_t>(1 + (rng() >> (1 + rng() % 63)))
                                           : dens[rng() % std::size(dens)];
    const Rational r = make_rational(num, den).value();
    REQUIRE(fits_int64(r.num));
    REQUIRE(fits_int64(r.den));
    const auto n = static_cast<std::int64_t>(r.num), d = static_cast<std::int64_t>(r.den);
    // (The old code wrapped for ratios of 2^63 / 100 and more: "{}" of the whole percent in int64.)
    if (fits_int64(Int128{n} * 100 / d)) CHECK(format_ratio(r) == old_format_ratio(n, d));
    CHECK(format_frac_money(r) == old_format_frac_money(n, d));
  }
  CHECK(format_ratio(Rational{INT64_MIN, 1}) == "-922337203685477580800%");
  CHECK(format_frac_money(Rational{INT64_MIN, 1}) == old_format_frac_money(INT64_MIN, 1));
  CHECK(format_frac_money(Rational{INT64_MAX, 1000000}) == old_format_frac_money(INT64_MAX, 1000000));
}

// An independent oracle: boost's arbitrary-precision rationals. Every operation must return exactly the
// reduced result when it is within the bound, and nullopt when it is not.
namespace {
using boost::multiprecision::cpp_int;
using boost::multiprecision::cpp_rational;

cpp_int to_big(Int128 v) {
  const bool negative = v < 0;
  const Int128 m = negative ? -v : v;
  cpp_int out = static_cast<std::uint64_t>(m >> 64);
  out <<= 64;
  out += static_cast<std::uint64_t>(m & Int128{UINT64_MAX});
  return negative ? cpp_int(-out) : out;
}

cpp_rational to_big(Rational r) {
  return cpp_rational(to_big(r.num), to_big(r.den));
}

bool within_bound(const cpp_rational& q) {
  const cpp_int max = to_big(kRationalMax);
  return abs(numerator(q)) <= max && denominator(q) <= max;
}

void check_result(const char* what, const std::optional<Rational>& got,
                  const std::optional<cpp_rational>& want, Rational a, Rational b) {
  INFO(what, " ", int128_to_string(a.num), "/", int128_to_string(a.den), " and ", int128_to_string(b.num),
       "/", int128_to_string(b.den));
  const bool fits = want.has_value() && within_bound(*want);
  REQUIRE(got.has_value() == fits);
  if (!fits) return;
  CHECK(to_big(got->num) == numerator(*want));
  CHECK(to_big(got->den) == denominator(*want));
}

Int128 random_bits(std::mt19937_64& rng, int bits) {  // 0 < bits <= 127
  Int128 v = (static_cast<Int128>(rng() >> 1) << 64) | static_cast<Int128>(rng());
  v &= bits == 127 ? kRationalMax : (Int128{1} << bits) - 1;
  return v;
}
}  // namespace

TEST_CASE("property: add, sub, mul, div, compare and rounding agree with arbitrary precision") {
  std::mt19937_64 rng(20261007);
  const std::vector<Rational> special = {{0, 1},
                                         {1, 1},
                                         {-1, 1},
                                         {kRationalMax, 1},
                                         {-kRationalMax, 1},
                                         {1, kRationalMax},
                                         {INT64_MAX, 1},
                                         {INT64_MIN, 1},
                                         {1, INT64_MAX},
                                         {999999, 1000000},
                                         {kRationalMax - 1, kRationalMax},
                                         {-1, 3}};
  auto pick = [&]() -> Rational {
    if (rng() % 8 == 0) return special[rng() % special.size()];
    const int nb = 1 + static_cast<int>(rng() % 127), db = 1 + static_cast<int>(rng() % 127);
    Int128 num = random_bits(rng, nb), den = random_bits(rng, db);
    if (den == 0) den = 1;
    if (rng() % 2) num = -num;
    return make_rational(num, den).value();  // reducing can only shrink the values
  };
  for (int iter = 0; iter < 20000; ++iter) {
    const Rational a = pick(), b = pick();
    const cpp_rational x = to_big(a), y = to_big(b);
    check_result("add", add(a, b), x + y, a, b);
    check_result("sub", sub(a, b), x - y, a, b);
    check_result("mul", mul(a, b), x * y, a, b);
    check_result("div", div(a, b), b.num == 0 ? std::nullopt : std::optional<cpp_rational>(x / y), a, b);
    const auto c = compare(a, b);
    CHECK((c < 0) == (x < y));
    CHECK((c == 0) == (x == y));
    const cpp_int fl = numerator(x) / denominator(x) - ((numerator(x) % denominator(x)) < 0 ? 1 : 0);
    CHECK(to_big(floor_of(a)) == fl);
    CHECK(to_big(ceil_of(a)) == fl + (denominator(x) == 1 ? 0 : 1));
    const cpp_int toward_zero = numerator(x) / denominator(x);
    const bool half_or_more = 2 * abs(x - cpp_rational(toward_zero)) >= 1;
    CHECK(to_big(round_half_away(a)) == toward_zero + (half_or_more ? (a.num < 0 ? -1 : 1) : 0));
  }
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

TEST_CASE("largest remainder at the int64 limit, with shares beyond 64 bits") {
  CHECK(amounts(INT64_MAX, {{1, 3}, {1, 3}, {1, 3}}) ==
        std::vector<std::int64_t>{3074457345618258603, 3074457345618258602, 3074457345618258602});
  CHECK(amounts(INT64_MAX, {{1, 7}, {2, 7}, {4, 7}}) ==
        std::vector<std::int64_t>{1317624576693539401, 2635249153387078802, 5270498306774157604});
  // Denominator 2^127 - 1 (prime): amount x share.num needs up to 190 bits.
  const Int128 half = Int128{1} << 126;
  CHECK(amounts(INT64_MAX, {{half, kRationalMax}, {kRationalMax - half, kRationalMax}}) ==
        std::vector<std::int64_t>{4611686018427387904, 4611686018427387903});
  CHECK(amounts(INT64_MAX, {{1, kRationalMax}, {kRationalMax - 1, kRationalMax}}) ==
        std::vector<std::int64_t>{0, INT64_MAX});
  auto parts = allocate_largest_remainder(
      INT64_MAX, std::vector<Rational>{{half, kRationalMax}, {kRationalMax - half, kRationalMax}});
  REQUIRE(parts.has_value());
  CHECK((*parts)[0].floor_fen == 4611686018427387903);
  CHECK((*parts)[0].got_extra_fen);
  CHECK((*parts)[0].fraction == Rational{big("85070591730234615870455337876369440767"), kRationalMax});
  CHECK((*parts)[1].fraction == Rational{big("85070591730234615861231965839514664960"), kRationalMax});
  CHECK(amounts(0, {{half, kRationalMax}, {kRationalMax - half, kRationalMax}}) ==
        std::vector<std::int64_t>{0, 0});
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

TEST_CASE("varint sizes are the bytes the encoders write") {
  const std::uint64_t edges[] = {
      0, 1, 0x7f, 0x80, 0x3fff, 0x4000, (1ULL << 35) - 1, 1ULL << 35, (1ULL << 63) - 1, 1ULL << 63, ~0ULL};
  for (std::uint64_t v : edges) {
    std::string out;
    bytes::put_uvar(out, v);
    CHECK(bytes::uvar_size(v) == out.size());
    // v and its two's complement negation, both as int64 (INT64_MIN included; negated in unsigned
    // arithmetic, since negating INT64_MIN as a signed value overflows).
    for (std::int64_t s : {static_cast<std::int64_t>(v), static_cast<std::int64_t>(0 - v)}) {
      out.clear();
      bytes::put_svar(out, s);
      CHECK(bytes::svar_size(s) == out.size());
    }
  }
  std::string out;
  const std::string text(200, 'x');  // its length takes two bytes
  bytes::put_str(out, text);
  CHECK(bytes::str_size(text) == out.size());
  CHECK(bytes::uvar_size(~0ULL) == 10);
}
