#include "core/billing_calendar.h"

#include <charconv>
#include <cstdio>
#include <limits>

namespace tally::core {
namespace {

constexpr int64_t kHourMs = 3600 * 1000;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0); }

// A whole decimal number, the entire text; nullopt on anything else.
std::optional<int64_t> ParseCount(std::string_view text) {
  int64_t value = 0;
  if (text.empty() || text.size() > 12) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

int64_t LocalMidnightMs(const CivilDate& date, const TimeZone& tz) {
  return PeriodStartMs(Interval::kDay, DaysFromCivil(date), tz);
}

CivilDate LocalDate(int64_t unix_ms, const TimeZone& tz) {
  return CivilFromDays(PeriodOf(Interval::kDay, unix_ms, tz));
}

int MonthsPer(Interval interval) {
  switch (interval) {
    case Interval::kMonth:
      return 1;
    case Interval::kQuarter:
      return 3;
    case Interval::kYear:
      return 12;
    default:
      return 0;
  }
}

}  // namespace

// Howard Hinnant's days_from_civil / civil_from_days (public domain).
int64_t DaysFromCivil(const CivilDate& date) {
  const int64_t y = date.year - (date.month <= 2 ? 1 : 0);
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t mp = (date.month + 9) % 12;
  const int64_t doy = (153 * mp + 2) / 5 + date.day - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

CivilDate CivilFromDays(int64_t days) {
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return CivilDate{yoe + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

int DaysInMonth(int64_t year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

std::optional<CivilDate> ParseCivilDate(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  auto year = ParseCount(text.substr(0, 4));
  auto month = ParseCount(text.substr(5, 2));
  auto day = ParseCount(text.substr(8, 2));
  if (!year || !month || !day || *year < 1970 || *month < 1 || *month > 12 || *day < 1) return std::nullopt;
  if (*day > DaysInMonth(*year, static_cast<int>(*month))) return std::nullopt;
  return CivilDate{*year, static_cast<int>(*month), static_cast<int>(*day)};
}

std::string FormatCivilDate(const CivilDate& date) {
  char text[32];
  std::snprintf(text, sizeof(text), "%04lld-%02d-%02d", static_cast<long long>(date.year), date.month, date.day);
  return text;
}

CivilDate AddMonthsClamped(const CivilDate& anchor, int64_t months) {
  const int64_t index = anchor.year * 12 + (anchor.month - 1) + months;
  const int64_t year = FloorDiv(index, 12);
  const int month = static_cast<int>(index - year * 12) + 1;
  const int day = std::min(anchor.day, DaysInMonth(year, month));
  return CivilDate{year, month, day};
}

std::optional<QuotaPeriod> ParseQuotaPeriod(std::string_view text, std::string* error) {
  constexpr std::string_view kRolling = "rolling:";
  if (text.substr(0, kRolling.size()) == kRolling) {
    std::string_view window = text.substr(kRolling.size());
    const char unit = window.empty() ? '\0' : window.back();
    auto count = ParseCount(window.substr(0, window.empty() ? 0 : window.size() - 1));
    if ((unit != 'h' && unit != 'd') || !count || *count < 1) {
      *error = "period '" + std::string(text) + "': a rolling window is rolling:<n>h or rolling:<n>d, n ≥ 1";
      return std::nullopt;
    }
    const int64_t hours = unit == 'd' ? *count * 24 : *count;
    if (hours > kMaxRollingHours) {
      *error = "period '" + std::string(text) + "': a rolling window is at most 366 days";
      return std::nullopt;
    }
    return QuotaPeriod{QuotaPeriod::Kind::kRolling, Interval::kTotal, hours};
  }
  auto interval = ParseInterval(text);
  if (!interval) {
    *error = "unknown period '" + std::string(text) +
             "': one of total, hour, day, week, month, quarter, year, rolling:<n>h, rolling:<n>d";
    return std::nullopt;
  }
  if (*interval == Interval::kTotal) return QuotaPeriod{};
  return QuotaPeriod{QuotaPeriod::Kind::kCalendar, *interval, 0};
}

std::string QuotaPeriodName(const QuotaPeriod& period) {
  switch (period.kind) {
    case QuotaPeriod::Kind::kTotal:
      return "total";
    case QuotaPeriod::Kind::kCalendar:
      return std::string(IntervalName(period.interval));
    case QuotaPeriod::Kind::kRolling:
      if (period.rolling_hours % 24 == 0) return "rolling:" + std::to_string(period.rolling_hours / 24) + "d";
      return "rolling:" + std::to_string(period.rolling_hours) + "h";
  }
  return "total";
}

bool QuotaWindow::resets() const { return end_ms != std::numeric_limits<int64_t>::max(); }

QuotaWindow WindowOf(const QuotaPeriod& period, const std::optional<CivilDate>& anchor, int64_t now_ms,
                     const TimeZone& tz) {
  switch (period.kind) {
    case QuotaPeriod::Kind::kTotal:
      return {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()};
    case QuotaPeriod::Kind::kRolling: {
      const int64_t hour_start = PeriodStartMs(Interval::kHour, PeriodOf(Interval::kHour, now_ms, tz), tz);
      return {hour_start - (period.rolling_hours - 1) * kHourMs, hour_start + kHourMs};
    }
    case QuotaPeriod::Kind::kCalendar:
      break;
  }
  const int step = MonthsPer(period.interval);
  if (!anchor || step == 0) {
    const PeriodId id = PeriodOf(period.interval, now_ms, tz);
    return {PeriodStartMs(period.interval, id, tz), PeriodEndMs(period.interval, id, tz)};
  }
  // Anchored: from anchor day to anchor day, every `step` months, each
  // computed from the anchor itself (no drift).
  const CivilDate today = LocalDate(now_ms, tz);
  const int64_t months = (today.year - anchor->year) * 12 + (today.month - anchor->month);
  int64_t k = FloorDiv(months, step) * step;
  if (LocalMidnightMs(AddMonthsClamped(*anchor, k), tz) > now_ms) k -= step;
  return {LocalMidnightMs(AddMonthsClamped(*anchor, k), tz), LocalMidnightMs(AddMonthsClamped(*anchor, k + step), tz)};
}

std::optional<Duration> ParseDuration(std::string_view text, std::string* error) {
  struct UnitSpec {
    std::string_view suffix;
    Duration::Unit unit;
    int64_t scale;  // milliseconds or months per unit
    int64_t max;    // 100 years' worth
  };
  static constexpr UnitSpec kUnits[] = {
      {"mo", Duration::Unit::kMonths, 1, 1200},
      {"y", Duration::Unit::kMonths, 12, 100},
      {"w", Duration::Unit::kMillis, 7 * 24 * kHourMs, 5218},
      {"d", Duration::Unit::kMillis, 24 * kHourMs, 36525},
      {"h", Duration::Unit::kMillis, kHourMs, 876600},
      {"m", Duration::Unit::kMillis, 60 * 1000, 52596000},
      {"s", Duration::Unit::kMillis, 1000, 3155760000},
  };
  for (const UnitSpec& spec : kUnits) {
    if (text.size() <= spec.suffix.size() || text.substr(text.size() - spec.suffix.size()) != spec.suffix) continue;
    auto count = ParseCount(text.substr(0, text.size() - spec.suffix.size()));
    if (!count) break;  // "1xmo": not a number before the unit
    if (*count < 1 || *count > spec.max) {
      *error = "duration '" + std::string(text) + "' must be at least 1 and at most 100 years";
      return std::nullopt;
    }
    return Duration{spec.unit, *count * spec.scale};
  }
  *error = "duration '" + std::string(text) + "': a whole number and a unit: s, m, h, d, w, mo or y (e.g. 30d, 1mo)";
  return std::nullopt;
}

int64_t AddDuration(int64_t from_ms, const Duration& duration, const TimeZone& tz) {
  if (duration.unit == Duration::Unit::kMillis) return from_ms + duration.count;
  const PeriodId day = PeriodOf(Interval::kDay, from_ms, tz);
  const int64_t time_of_day = from_ms - PeriodStartMs(Interval::kDay, day, tz);
  const CivilDate end = AddMonthsClamped(CivilFromDays(day), duration.count);
  return LocalMidnightMs(end, tz) + time_of_day;
}

}  // namespace tally::core
