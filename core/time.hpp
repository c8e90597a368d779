// Time: instants are UTC microseconds since 1970-01-01 (std::int64_t, names end in _us).
//
// Text is RFC 3339 with an explicit offset. Calendar questions (local midnight, day of month, month
// names) are answered in a fixed UTC offset, the ruleset's `timezone`, in seconds east of UTC.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace fz {

using TimeUs = std::int64_t;
using DurationUs = std::int64_t;
using OffsetSec = std::int32_t;

inline constexpr std::int64_t kUsPerSecond = 1'000'000;
inline constexpr std::int64_t kUsPerDay = 86'400 * kUsPerSecond;
inline constexpr OffsetSec kDefaultOffsetSec = 8 * 3600;  // +08:00, China Standard Time

// "2026-10-05T15:00:00+08:00", "2026-10-05T07:00:00.250Z"; seconds may be omitted ("…T15:00+08:00").
// Years 0001-9999, fractional seconds up to 6 digits, offsets up to ±23:59.
Result<TimeUs> parse_rfc3339(std::string_view text);

// "+08:00", "-05:30", "Z" (as +00:00).
Result<OffsetSec> parse_utc_offset(std::string_view text);

// The instants fenzhang accepts: a day's margin inside years 0001-9999 in UTC, so that every instant
// prints as a four-digit year in every offset (times are shown in the ruleset's timezone) and parses
// back. kSupportedRange is the text error messages quote.
[[nodiscard]] bool in_supported_range(TimeUs t_us);
inline constexpr std::string_view kSupportedRange = "0001-01-02 to 9999-12-30 UTC";

// Local wall-clock fields -> instant; false when a field is out of range.
bool civil_to_us(int year, int month, int day, int hour, int minute, int second, std::int64_t micros,
                 OffsetSec offset, TimeUs* out);

// RFC 3339 in the given offset: "2026-10-06T00:00:00+08:00" (fraction only when non-zero).
std::string format_time(TimeUs at_us, OffsetSec offset = kDefaultOffsetSec);
std::string format_offset(OffsetSec offset);  // "+08:00"

// Calendar helpers in a fixed offset.
TimeUs local_midnight_at_or_before(TimeUs t_us, OffsetSec offset);
TimeUs next_midnight(TimeUs t_us, OffsetSec offset);  // first local midnight strictly after t
// Local midnight of `day` (1-28) of the month after t's local month; INT64_MAX (outside the supported
// range) when that month is past year 9999.
TimeUs settlement_day_after(TimeUs t_us, int day, OffsetSec offset);
std::string month_of(TimeUs t_us, OffsetSec offset);  // "2026-10"
// [start, end) of a "YYYY-MM" month in the given offset.
Result<std::pair<TimeUs, TimeUs>> month_range(std::string_view yyyy_mm, OffsetSec offset);

// "14d 12h", "30m"; formatting of a duration as the same unit syntax ("14d", "1d 2h 30m 5s").
std::string format_duration(DurationUs d_us);

}  // namespace fz
