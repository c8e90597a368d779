#include "core/time.hpp"

#include <fmt/format.h>

#include <chrono>

namespace fz {
namespace {

using namespace std::chrono;

bool digits(std::string_view s, std::size_t pos, std::size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

struct Civil {
  int year, month, day, hour, minute, second;
};

Civil civil_of(TimeUs t_us, OffsetSec offset) {
  const std::int64_t local_us = t_us + std::int64_t{offset} * kUsPerSecond;
  std::int64_t days = local_us / kUsPerDay;
  std::int64_t rem = local_us % kUsPerDay;
  if (rem < 0) {
    rem += kUsPerDay;
    --days;
  }
  const year_month_day ymd{sys_days{std::chrono::days{days}}};
  const std::int64_t secs = rem / kUsPerSecond;
  return Civil{static_cast<int>(ymd.year()),
               static_cast<int>(static_cast<unsigned>(ymd.month())),
               static_cast<int>(static_cast<unsigned>(ymd.day())),
               static_cast<int>(secs / 3600),
               static_cast<int>(secs / 60 % 60),
               static_cast<int>(secs % 60)};
}

}  // namespace

bool civil_to_us(int year, int month, int day, int hour, int minute, int second, std::int64_t micros,
                 OffsetSec offset, TimeUs* out) {
  if (year < 1 || year > 9999 || month < 1 || month > 12 || hour < 0 || hour > 23 || minute < 0 ||
      minute > 59 || second < 0 || second > 59 || micros < 0 || micros >= kUsPerSecond) {
    return false;
  }
  const year_month_day ymd{std::chrono::year{year}, std::chrono::month{static_cast<unsigned>(month)},
                           std::chrono::day{static_cast<unsigned>(day)}};
  if (day < 1 || !ymd.ok()) return false;
  const std::int64_t days = sys_days{ymd}.time_since_epoch().count();
  *out = days * kUsPerDay + (std::int64_t{hour} * 3600 + minute * 60 + second) * kUsPerSecond + micros -
         std::int64_t{offset} * kUsPerSecond;
  return true;
}

Result<OffsetSec> parse_utc_offset(std::string_view s) {
  if (s == "Z" || s == "z") return OffsetSec{0};
  int hh = 0, mm = 0;
  if (s.size() != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':' || !digits(s, 1, 2, &hh) ||
      !digits(s, 4, 2, &mm) || hh > 23 || mm > 59) {
    return make_error(fmt::format("\"{}\" is not a UTC offset such as \"+08:00\"", s));
  }
  const OffsetSec v = hh * 3600 + mm * 60;
  return s[0] == '-' ? -v : v;
}

Result<TimeUs> parse_rfc3339(std::string_view s) {
  auto bad = [&](std::string_view why) {
    return make_error(
        fmt::format("\"{}\" is not an RFC 3339 time with offset such as "
                    "\"2026-10-05T15:00:00+08:00\" ({})",
                    s, why));
  };
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!digits(s, 0, 4, &year) || s.size() < 16 || s[4] != '-' || !digits(s, 5, 2, &month) || s[7] != '-' ||
      !digits(s, 8, 2, &day) || (s[10] != 'T' && s[10] != 't') || !digits(s, 11, 2, &hour) || s[13] != ':' ||
      !digits(s, 14, 2, &minute)) {
    return bad("expected YYYY-MM-DDTHH:MM:SS");
  }
  std::size_t pos = 16;
  if (pos < s.size() && s[pos] == ':') {
    if (!digits(s, pos + 1, 2, &second)) return bad("bad seconds");
    pos += 3;
  }
  std::int64_t micros = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::size_t n = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (++n > 6) return bad("more than 6 fractional digits");
      micros = micros * 10 + (s[pos] - '0');
      ++pos;
    }
    if (n == 0) return bad("empty fraction");
    for (; n < 6; ++n) micros *= 10;
  }
  if (pos >= s.size()) return bad("missing UTC offset");
  auto offset = parse_utc_offset(s.substr(pos));
  if (!offset) return bad("bad UTC offset");
  TimeUs out = 0;
  if (!civil_to_us(year, month, day, hour, minute, second, micros, *offset, &out)) {
    return bad("a date or time field is out of range");
  }
  if (!in_supported_range(out)) return bad(fmt::format("outside {}", kSupportedRange));
  return out;
}

bool in_supported_range(TimeUs t_us) {
  TimeUs lo = 0, hi = 0;
  (void)civil_to_us(1, 1, 2, 0, 0, 0, 0, 0, &lo);
  (void)civil_to_us(9999, 12, 30, 23, 59, 59, kUsPerSecond - 1, 0, &hi);
  return t_us >= lo && t_us <= hi;
}

std::string format_offset(OffsetSec offset) {
  const char sign = offset < 0 ? '-' : '+';
  const int mag = offset < 0 ? -offset : offset;
  return fmt::format("{}{:02}:{:02}", sign, mag / 3600, mag / 60 % 60);
}

std::string format_time(TimeUs at_us, OffsetSec offset) {
  const Civil c = civil_of(at_us, offset);
  std::int64_t micros = at_us % kUsPerSecond;
  if (micros < 0) micros += kUsPerSecond;
  std::string frac;
  if (micros != 0) {
    frac = fmt::format(".{:06}", micros);
    while (frac.back() == '0') frac.pop_back();
  }
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}{}", c.year, c.month, c.day, c.hour, c.minute,
                     c.second, frac, format_offset(offset));
}

TimeUs local_midnight_at_or_before(TimeUs t_us, OffsetSec offset) {
  const std::int64_t off_us = std::int64_t{offset} * kUsPerSecond;
  std::int64_t local = t_us + off_us;
  std::int64_t rem = local % kUsPerDay;
  if (rem < 0) rem += kUsPerDay;
  return t_us - rem;
}

TimeUs next_midnight(TimeUs t_us, OffsetSec offset) {
  return local_midnight_at_or_before(t_us, offset) + kUsPerDay;
}

TimeUs settlement_day_after(TimeUs t_us, int day, OffsetSec offset) {
  const Civil c = civil_of(t_us, offset);
  int year = c.year, month = c.month + 1;
  if (month == 13) {
    month = 1;
    ++year;
  }
  TimeUs out = 0;
  // Year 9999 December has no following month: an instant past every supported time, which callers
  // refuse (in_supported_range), never the input itself.
  if (!civil_to_us(year, month, day, 0, 0, 0, 0, offset, &out)) return INT64_MAX;
  return out;
}

std::string month_of(TimeUs t_us, OffsetSec offset) {
  const Civil c = civil_of(t_us, offset);
  return fmt::format("{:04}-{:02}", c.year, c.month);
}

Result<std::pair<TimeUs, TimeUs>> month_range(std::string_view s, OffsetSec offset) {
  int year = 0, month = 0;
  if (s.size() != 7 || !digits(s, 0, 4, &year) || s[4] != '-' || !digits(s, 5, 2, &month)) {
    return make_error(fmt::format("\"{}\" is not a month such as \"2026-10\"", s));
  }
  TimeUs start = 0, end = 0;
  if (!civil_to_us(year, month, 1, 0, 0, 0, 0, offset, &start)) {
    return make_error(fmt::format("\"{}\" is not a month such as \"2026-10\"", s));
  }
  const int ny = month == 12 ? year + 1 : year, nm = month == 12 ? 1 : month + 1;
  if (!civil_to_us(ny, nm, 1, 0, 0, 0, 0, offset, &end)) end = start + 31 * kUsPerDay;
  return std::pair{start, end};
}

std::string format_duration(DurationUs d_us) {
  if (d_us == 0) return "0s";
  std::string out;
  const bool negative = d_us < 0;
  std::uint64_t v =
      negative ? std::uint64_t{0} - static_cast<std::uint64_t>(d_us) : static_cast<std::uint64_t>(d_us);
  const std::uint64_t micros = v % kUsPerSecond;
  v /= kUsPerSecond;
  const std::uint64_t parts[] = {v / 86400, v / 3600 % 24, v / 60 % 60, v % 60};
  const char* units[] = {"d", "h", "m", "s"};
  for (int i = 0; i < 4; ++i) {
    if (parts[i] == 0) continue;
    if (!out.empty()) out += ' ';
    out += fmt::format("{}{}", parts[i], units[i]);
  }
  if (micros != 0) out += fmt::format("{}{}us", out.empty() ? "" : " ", micros);
  return (negative ? "-" : "") + out;
}

}  // namespace fz
