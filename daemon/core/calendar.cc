#include "core/calendar.h"

#include <date/date.h>
#include <date/iso_week.h>
#include <date/tz.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>

namespace tally::core {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using SysMs = date::sys_time<milliseconds>;

constexpr std::string_view kIntervalNames[] = {"total", "hour", "day", "week", "month", "quarter", "year"};

bool ParseDigits(std::string_view text, int* value) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return ec == std::errc() && ptr == text.data() + text.size();
}

date::sys_days DaysFromId(PeriodId id) { return date::sys_days(date::days(id)); }
PeriodId IdFromDays(date::sys_days days) { return days.time_since_epoch().count(); }
PeriodId IdFromYmd(date::year_month_day ymd) { return IdFromDays(date::sys_days(ymd)); }

// The local calendar date of an instant in `tz`.
date::year_month_day LocalDate(int64_t unix_ms, const TimeZone& tz) {
  auto local = tz.zone()->to_local(SysMs(milliseconds(unix_ms)));
  return date::year_month_day(date::floor<date::days>(local));
}

PeriodId DayPeriodOf(Interval interval, date::year_month_day ymd) {
  switch (interval) {
    case Interval::kDay:
      return IdFromYmd(ymd);
    case Interval::kWeek: {
      date::sys_days day(ymd);
      date::weekday wd(day);
      // ISO weeks start on Monday: step back (wd - Monday) days.
      return IdFromDays(day - (wd - date::Monday));
    }
    case Interval::kMonth:
      return IdFromYmd(ymd.year() / ymd.month() / 1);
    case Interval::kQuarter: {
      unsigned m = static_cast<unsigned>(ymd.month());
      unsigned first = (m - 1) / 3 * 3 + 1;
      return IdFromYmd(ymd.year() / date::month(first) / 1);
    }
    case Interval::kYear:
      return IdFromYmd(ymd.year() / date::January / 1);
    default:
      return 0;
  }
}

// Start instant (sys) of local midnight of `day` in tz. A midnight that a DST
// change skips starts at the first instant after the gap.
int64_t LocalMidnightMs(date::sys_days day, const TimeZone& tz) {
  date::local_days local(day.time_since_epoch());
  auto info = tz.zone()->get_info(local);
  date::sys_seconds start;
  if (info.result == date::local_info::nonexistent) {
    start = info.second.begin;
  } else {
    start = date::sys_seconds(local.time_since_epoch() - info.first.offset);
  }
  return std::chrono::duration_cast<milliseconds>(start.time_since_epoch()).count();
}

std::string Format2(unsigned v) {
  char buf[3];
  std::snprintf(buf, sizeof(buf), "%02u", v % 100);
  return buf;
}

std::string YearText(date::year y) { return std::to_string(static_cast<int>(y)); }

std::string DateLabel(date::year_month_day ymd) {
  return YearText(ymd.year()) + "-" + Format2(static_cast<unsigned>(ymd.month())) + "-" +
         Format2(static_cast<unsigned>(ymd.day()));
}

std::string OffsetText(std::chrono::seconds offset) {
  long total = static_cast<long>(offset.count()) / 60;
  char sign = total < 0 ? '-' : '+';
  if (total < 0) total = -total;
  return std::string(1, sign) + Format2(static_cast<unsigned>(total / 60)) + ":" +
         Format2(static_cast<unsigned>(total % 60));
}

// What a label names, before it is fitted to an interval.
enum class LabelKind { kHour, kDay, kWeek, kMonth, kQuarter, kYear };

struct ParsedLabel {
  LabelKind kind;
  date::year_month_day first_day{};  // first local day of what the label names
  int hour = 0;
  bool has_offset = false;
  int offset_minutes = 0;
};

bool ParseOffset(std::string_view text, int* minutes) {
  if (text == "Z") {
    *minutes = 0;
    return true;
  }
  if (text.size() != 6 || (text[0] != '+' && text[0] != '-') || text[3] != ':') return false;
  int h = 0, m = 0;
  if (!ParseDigits(text.substr(1, 2), &h) || !ParseDigits(text.substr(4, 2), &m) || h > 23 || m > 59) return false;
  *minutes = (h * 60 + m) * (text[0] == '-' ? -1 : 1);
  return true;
}

bool ParseLabelText(std::string_view text, ParsedLabel* out) {
  int year = 0;
  if (text.size() < 4 || !ParseDigits(text.substr(0, 4), &year) || year < 1970 || year > 9999) return false;
  if (text.size() == 4) {
    out->kind = LabelKind::kYear;
    out->first_day = date::year(year) / date::January / 1;
    return true;
  }
  if (text[4] != '-') return false;
  std::string_view rest = text.substr(5);
  if (rest.size() == 2 && (rest[0] == 'Q' || rest[0] == 'q')) {
    int q = 0;
    if (!ParseDigits(rest.substr(1), &q) || q < 1 || q > 4) return false;
    out->kind = LabelKind::kQuarter;
    out->first_day = date::year(year) / date::month(static_cast<unsigned>((q - 1) * 3 + 1)) / 1;
    return true;
  }
  if (rest.size() == 3 && (rest[0] == 'W' || rest[0] == 'w')) {
    int w = 0;
    if (!ParseDigits(rest.substr(1), &w) || w < 1 || w > 53) return false;
    auto week = iso_week::year(year) / iso_week::weeknum(static_cast<unsigned>(w)) / iso_week::mon;
    if (!week.ok()) return false;  // week 53 in a 52-week year
    out->kind = LabelKind::kWeek;
    out->first_day = date::year_month_day(date::sys_days(week));
    return true;
  }
  int month = 0;
  if (rest.size() < 2 || !ParseDigits(rest.substr(0, 2), &month) || month < 1 || month > 12) return false;
  if (rest.size() == 2) {
    out->kind = LabelKind::kMonth;
    out->first_day = date::year(year) / date::month(static_cast<unsigned>(month)) / 1;
    return true;
  }
  int day = 0;
  if (rest[2] != '-' || rest.size() < 5 || !ParseDigits(rest.substr(3, 2), &day)) return false;
  auto ymd = date::year(year) / date::month(static_cast<unsigned>(month)) / date::day(static_cast<unsigned>(day));
  if (!ymd.ok()) return false;  // 2023-02-29, 2024-04-31
  out->first_day = ymd;
  if (rest.size() == 5) {
    out->kind = LabelKind::kDay;
    return true;
  }
  if (rest[5] != 'T' && rest[5] != 't') return false;
  int hour = 0;
  if (rest.size() < 8 || !ParseDigits(rest.substr(6, 2), &hour) || hour > 23) return false;
  out->kind = LabelKind::kHour;
  out->hour = hour;
  if (rest.size() > 8) {
    out->has_offset = true;
    return ParseOffset(rest.substr(8), &out->offset_minutes);
  }
  return true;
}

// Which label kinds name a period of `interval` (the label's own kind, or a
// finer one inside it). A week is not nested in months, so only day and hour
// labels name a week, and a week label names nothing but a week.
bool Fits(LabelKind kind, Interval interval) {
  switch (interval) {
    case Interval::kHour:
      return kind == LabelKind::kHour;
    case Interval::kDay:
      return kind == LabelKind::kHour || kind == LabelKind::kDay;
    case Interval::kWeek:
      return kind == LabelKind::kHour || kind == LabelKind::kDay || kind == LabelKind::kWeek;
    case Interval::kMonth:
      return kind == LabelKind::kHour || kind == LabelKind::kDay || kind == LabelKind::kMonth;
    case Interval::kQuarter:
      return kind == LabelKind::kHour || kind == LabelKind::kDay || kind == LabelKind::kMonth ||
             kind == LabelKind::kQuarter;
    case Interval::kYear:
      return kind != LabelKind::kWeek;
    case Interval::kTotal:
      return false;
  }
  return false;
}

std::string_view ExampleLabel(Interval interval) {
  switch (interval) {
    case Interval::kHour:
      return "2024-12-04T10";
    case Interval::kDay:
      return "2024-12-04";
    case Interval::kWeek:
      return "2024-W49";
    case Interval::kMonth:
      return "2024-12";
    case Interval::kQuarter:
      return "2024-Q4";
    case Interval::kYear:
      return "2024";
    case Interval::kTotal:
      return "total";
  }
  return "";
}

}  // namespace

std::optional<Interval> ParseInterval(std::string_view name) {
  for (int i = 0; i < kIntervalCount; ++i) {
    std::string_view candidate = kIntervalNames[i];
    if (candidate.size() != name.size()) continue;
    bool same = true;
    for (size_t j = 0; j < name.size() && same; ++j) {
      char c = name[j];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      same = c == candidate[j];
    }
    if (same) return static_cast<Interval>(i);
  }
  return std::nullopt;
}

std::string_view IntervalName(Interval interval) { return kIntervalNames[static_cast<int>(interval)]; }

std::optional<TimeZone> TimeZone::Find(std::string_view name) {
  if (name.empty() || name.size() > 64) return std::nullopt;
  try {
    return TimeZone(date::locate_zone(name));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

TimeZone TimeZone::Utc() {
  static const date::time_zone* utc = date::locate_zone("UTC");
  return TimeZone(utc);
}

const std::string& TimeZone::name() const { return zone_->name(); }

PeriodId PeriodOf(Interval interval, int64_t unix_ms, const TimeZone& tz) {
  if (interval == Interval::kTotal) return 0;
  if (interval == Interval::kHour) {
    SysMs instant{milliseconds(unix_ms)};
    auto info = tz.zone()->get_info(instant);
    auto local = instant + info.offset;  // wall clock, as a sys-typed value
    auto local_hour = date::floor<hours>(local);
    // A zone whose offset changes by less than an hour (Australia/Lord_Howe)
    // starts a new offset mid-hour: the hour then starts when the offset does.
    auto start = std::max<SysMs>(local_hour - info.offset, SysMs(info.begin));
    return date::floor<minutes>(start).time_since_epoch().count();
  }
  return DayPeriodOf(interval, LocalDate(unix_ms, tz));
}

int64_t PeriodStartMs(Interval interval, PeriodId period, const TimeZone& tz) {
  switch (interval) {
    case Interval::kTotal:
      return 0;
    case Interval::kHour:
      return period * 60000;
    default:
      return LocalMidnightMs(DaysFromId(period), tz);
  }
}

PeriodId StepPeriod(Interval interval, PeriodId period, int64_t steps, const TimeZone& tz) {
  switch (interval) {
    case Interval::kTotal:
      return 0;
    case Interval::kHour: {
      // Next local hour: one hour later in absolute time, re-aligned to the
      // local hour (which absorbs DST changes of a whole hour).
      int64_t start_ms = period * 60000 + steps * 3600000;
      return PeriodOf(Interval::kHour, start_ms + 1, tz);
    }
    case Interval::kDay:
      return period + steps;
    case Interval::kWeek:
      return period + 7 * steps;
    case Interval::kMonth:
    case Interval::kQuarter:
    case Interval::kYear: {
      date::year_month_day ymd(DaysFromId(period));
      int64_t months = steps * (interval == Interval::kMonth ? 1 : interval == Interval::kQuarter ? 3 : 12);
      auto shifted = date::year_month(ymd.year(), ymd.month()) + date::months(months);
      return IdFromYmd(shifted / 1);
    }
  }
  return period;
}

int64_t PeriodEndMs(Interval interval, PeriodId period, const TimeZone& tz) {
  if (interval == Interval::kTotal) return INT64_MAX;
  return PeriodStartMs(interval, StepPeriod(interval, period, 1, tz), tz);
}

std::string PeriodLabel(Interval interval, PeriodId period, const TimeZone& tz) {
  switch (interval) {
    case Interval::kTotal:
      return "total";
    case Interval::kHour: {
      SysMs start{milliseconds(period * 60000)};
      auto info = tz.zone()->get_info(start);
      auto local = start + info.offset;
      auto day = date::floor<date::days>(local);
      date::year_month_day ymd(day);
      auto hour = date::floor<hours>(local - day).count();
      std::string label = DateLabel(ymd) + "T" + Format2(static_cast<unsigned>(hour));
      // The second of two hours that share a wall-clock label (DST fall-back)
      // carries its offset, so every hour has a label of its own.
      date::local_seconds wall{date::floor<std::chrono::seconds>(local).time_since_epoch()};
      auto local_info = tz.zone()->get_info(wall);
      if (local_info.result == date::local_info::ambiguous &&
          date::floor<std::chrono::seconds>(start) >= local_info.second.begin) {
        label += OffsetText(info.offset);
      }
      return label;
    }
    case Interval::kDay:
      return DateLabel(date::year_month_day(DaysFromId(period)));
    case Interval::kWeek: {
      iso_week::year_weeknum_weekday week{DaysFromId(period)};
      return std::to_string(static_cast<int>(week.year())) + "-W" + Format2(static_cast<unsigned>(week.weeknum()));
    }
    case Interval::kMonth: {
      date::year_month_day ymd(DaysFromId(period));
      return YearText(ymd.year()) + "-" + Format2(static_cast<unsigned>(ymd.month()));
    }
    case Interval::kQuarter: {
      date::year_month_day ymd(DaysFromId(period));
      return YearText(ymd.year()) + "-Q" + std::to_string((static_cast<unsigned>(ymd.month()) - 1) / 3 + 1);
    }
    case Interval::kYear:
      return YearText(date::year_month_day(DaysFromId(period)).year());
  }
  return "";
}

bool ParsePeriod(Interval interval, std::string_view label, const TimeZone& tz, int64_t now_ms, PeriodId* period,
                 std::string* error) {
  if (label.size() == 7 && (label[0] == 'c' || label[0] == 'C')) {
    std::string lower(label);
    for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    if (lower == "current") {
      *period = PeriodOf(interval, now_ms, tz);
      return true;
    }
  }
  if (interval == Interval::kTotal) {
    if (label == "total" || label == "TOTAL") {
      *period = 0;
      return true;
    }
    *error = "period for interval 'total' must be 'total', got '" + std::string(label.substr(0, 64)) + "'";
    return false;
  }
  ParsedLabel parsed;
  if (!ParseLabelText(label, &parsed) || !Fits(parsed.kind, interval)) {
    *error = "invalid period '" + std::string(label.substr(0, 64)) + "' for interval '" +
             std::string(IntervalName(interval)) + "' (expected e.g. '" + std::string(ExampleLabel(interval)) +
             "' or 'current')";
    return false;
  }
  if (parsed.kind != LabelKind::kHour) {
    *period = DayPeriodOf(interval == Interval::kHour ? Interval::kDay : interval, parsed.first_day);
    return true;
  }
  // An hour label: find its instant in tz.
  date::local_seconds wall{date::sys_days(parsed.first_day).time_since_epoch() + hours(parsed.hour)};
  auto info = tz.zone()->get_info(wall);
  date::sys_seconds instant;
  if (parsed.has_offset) {
    instant = date::sys_seconds(wall.time_since_epoch() - minutes(parsed.offset_minutes));
    auto check = tz.zone()->get_info(instant);
    if (check.offset != minutes(parsed.offset_minutes) && check.end - instant < hours(1)) {
      // The offset may begin inside that wall-clock hour (a sub-hour DST change).
      auto next = tz.zone()->get_info(check.end);
      if (next.offset == minutes(parsed.offset_minutes)) {
        instant = check.end;
        check = next;
      }
    }
    if (check.offset != minutes(parsed.offset_minutes)) {
      *error = "hour '" + std::string(label.substr(0, 64)) + "' does not exist with that offset in " + tz.name();
      return false;
    }
  } else if (info.result == date::local_info::nonexistent &&
             date::local_seconds(info.second.begin.time_since_epoch() + info.second.offset) < wall + hours(1)) {
    // A sub-hour gap (Australia/Lord_Howe): the rest of this wall-clock hour
    // exists and is its own hour cell, starting when the gap ends.
    instant = info.second.begin;
  } else if (info.result == date::local_info::nonexistent) {
    *error = "hour '" + std::string(label.substr(0, 64)) + "' does not exist in " + tz.name() +
             " (skipped by a daylight-saving change)";
    return false;
  } else {
    instant = date::sys_seconds(wall.time_since_epoch() - info.first.offset);
  }
  int64_t ms = std::chrono::duration_cast<milliseconds>(instant.time_since_epoch()).count();
  *period = PeriodOf(interval, ms, tz);
  return true;
}

// Period ids of every rollup interval for an instant. All six are constant
// within one local hour, so the last answer per time zone is cached per
// thread: the hot path computes them from the zone database once an hour.
void PeriodsOf(int64_t unix_ms, const TimeZone& tz, PeriodId (&periods)[6]) {
  struct Cached {
    const date::time_zone* zone = nullptr;
    int64_t hour_start = 0;
    int64_t hour_end = 0;
    int64_t periods[6] = {};
  };
  thread_local Cached cache[4];
  thread_local unsigned next = 0;
  for (const Cached& c : cache) {
    if (c.zone == tz.zone() && unix_ms >= c.hour_start && unix_ms < c.hour_end) {
      std::copy(std::begin(c.periods), std::end(c.periods), periods);
      return;
    }
  }
  for (int i = 0; i < 6; ++i) periods[i] = PeriodOf(kRollupIntervals[i], unix_ms, tz);
  Cached& slot = cache[next++ % 4];
  slot.zone = tz.zone();
  slot.hour_start = periods[0] * 60000;
  slot.hour_end = slot.hour_start + 3600 * 1000;
  std::copy(std::begin(periods), std::end(periods), slot.periods);
}

}  // namespace tally::core
