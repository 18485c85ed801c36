#pragma once
// Billing arithmetic for plans and credits (docs/quotas.md):
//
//  - Quota periods: `total`, a calendar interval (`hour` … `year`), or a
//    rolling window (`rolling:24h`, `rolling:30d`) summed from hour cells.
//  - Billing anchors: with an anchor date, monthly (and quarterly, yearly)
//    limits reset on the anchor's day of the month at local midnight. Days
//    29–31 clamp to the month's last day, always computed from the anchor
//    itself, so the day never drifts: anchor 31 → Jan 31, Feb 28, Mar 31,
//    Apr 30; anchor 30 → Jan 30, Feb 28, Mar 30.
//  - Durations (`IN 30d`, `IN 1mo`): months and years use the same clamped
//    month arithmetic (a month from Jan 31 ends Feb 28, never Mar 3).
//
// Instants are Unix milliseconds; dates are local to an owner's time zone
// (core/calendar.h). No RocksDB, no date/tz header here.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/calendar.h"

namespace tally::core {

// A date of the proleptic Gregorian calendar.
struct CivilDate {
  int64_t year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
  bool operator==(const CivilDate&) const = default;
};

// "yyyy-mm-dd" (a real date, years 1970..9999); nullopt otherwise.
std::optional<CivilDate> ParseCivilDate(std::string_view text);
std::string FormatCivilDate(const CivilDate& date);
int64_t DaysFromCivil(const CivilDate& date);  // days since 1970-01-01
CivilDate CivilFromDays(int64_t days);
int DaysInMonth(int64_t year, int month);

// The date `months` months after `anchor`'s month, on the anchor's day of the
// month clamped to that month's length (months may be negative).
CivilDate AddMonthsClamped(const CivilDate& anchor, int64_t months);

// What a plan feature's usage is counted over.
struct QuotaPeriod {
  enum class Kind : uint8_t { kTotal, kCalendar, kRolling };
  Kind kind = Kind::kTotal;
  Interval interval = Interval::kTotal;  // kCalendar: hour … year
  int64_t rolling_hours = 0;             // kRolling: the window, in whole hours
  bool operator==(const QuotaPeriod&) const = default;
};

// Longest rolling window: a leap year of hours.
inline constexpr int64_t kMaxRollingHours = 366 * 24;

// "total", "hour" … "year", "rolling:<n>h" or "rolling:<n>d" (1 h up to
// 366 days). On failure nullopt and `error` says why.
std::optional<QuotaPeriod> ParseQuotaPeriod(std::string_view text, std::string* error);
std::string QuotaPeriodName(const QuotaPeriod& period);

// The window a feature's usage is counted in at `now_ms`: [start_ms, end_ms).
// total: [INT64_MIN, INT64_MAX) (never resets). Calendar periods: the
// interval's period in `tz`; with an anchor, month, quarter and year run from
// anchor day to anchor day (1, 3, 12 months) instead. Rolling: the last
// `rolling_hours` whole hours, the current one included; end_ms is the start
// of the next hour, when the window next moves.
struct QuotaWindow {
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  bool resets() const;  // false for total
};
QuotaWindow WindowOf(const QuotaPeriod& period, const std::optional<CivilDate>& anchor, int64_t now_ms,
                     const TimeZone& tz);

// A grant's lifetime: "<n>s", "<n>m", "<n>h", "<n>d", "<n>w", "<n>mo" or
// "<n>y" (n ≥ 1). Months and years use AddMonthsClamped on the local date
// and keep the local time of day.
struct Duration {
  enum class Unit : uint8_t { kMillis, kMonths };
  Unit unit = Unit::kMillis;
  int64_t count = 0;  // milliseconds or months
};
std::optional<Duration> ParseDuration(std::string_view text, std::string* error);
int64_t AddDuration(int64_t from_ms, const Duration& duration, const TimeZone& tz);

}  // namespace tally::core
