// Billing periods, anchors and durations (core/billing_calendar.h) on fixed
// instants: no clock, no engine.

#include "core/billing_calendar.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "civil_time.h"

namespace tally::core {
namespace {

using fixtures::kHourMs;
using fixtures::Utc;
using fixtures::Zone;

CivilDate Date(int64_t y, int m, int d) { return CivilDate{y, m, d}; }

QuotaPeriod Period(const char* text) {
  std::string error;
  auto period = ParseQuotaPeriod(text, &error);
  EXPECT_TRUE(period.has_value()) << text << ": " << error;
  return period.value_or(QuotaPeriod{});
}

TEST(BillingCalendarTest, MonthsFromAnAnchorClampWithoutDrifting) {
  const CivilDate jan31 = Date(2027, 1, 31);
  EXPECT_EQ(AddMonthsClamped(jan31, 1), Date(2027, 2, 28));
  EXPECT_EQ(AddMonthsClamped(jan31, 2), Date(2027, 3, 31));
  EXPECT_EQ(AddMonthsClamped(jan31, 3), Date(2027, 4, 30));
  EXPECT_EQ(AddMonthsClamped(jan31, 13), Date(2028, 2, 29));  // leap year
  EXPECT_EQ(AddMonthsClamped(jan31, -2), Date(2026, 11, 30));
  const CivilDate jan30 = Date(2027, 1, 30);
  EXPECT_EQ(AddMonthsClamped(jan30, 1), Date(2027, 2, 28));
  EXPECT_EQ(AddMonthsClamped(jan30, 2), Date(2027, 3, 30));
}

TEST(BillingCalendarTest, AnchorThirtyOneResetsOnTheMonthsLastDayAcrossFebruary2027And2028) {
  const auto utc = TimeZone::Utc();
  const QuotaPeriod month = Period("month");
  for (int64_t year : {2027, 2028}) {
    SCOPED_TRACE(year);
    const int feb_last = year == 2028 ? 29 : 28;
    const std::optional<CivilDate> anchor = Date(year, 1, 31);
    QuotaWindow w = WindowOf(month, anchor, Utc(year, 2, 15, 12), utc);
    EXPECT_EQ(w.start_ms, Utc(year, 1, 31));
    EXPECT_EQ(w.end_ms, Utc(year, 2, feb_last));
    // The last millisecond of the period, then the reset instant.
    EXPECT_EQ(WindowOf(month, anchor, Utc(year, 2, feb_last) - 1, utc).start_ms, Utc(year, 1, 31));
    w = WindowOf(month, anchor, Utc(year, 2, feb_last), utc);
    EXPECT_EQ(w.start_ms, Utc(year, 2, feb_last));
    EXPECT_EQ(w.end_ms, Utc(year, 3, 31));
    w = WindowOf(month, anchor, Utc(year, 4, 1), utc);
    EXPECT_EQ(w.start_ms, Utc(year, 3, 31));
    EXPECT_EQ(w.end_ms, Utc(year, 4, 30));
  }
}

TEST(BillingCalendarTest, AnchorThirtyGoesJan30Feb28Mar30) {
  const auto utc = TimeZone::Utc();
  const std::optional<CivilDate> anchor = Date(2027, 1, 30);
  EXPECT_EQ(WindowOf(Period("month"), anchor, Utc(2027, 2, 1), utc).start_ms, Utc(2027, 1, 30));
  EXPECT_EQ(WindowOf(Period("month"), anchor, Utc(2027, 3, 1), utc).start_ms, Utc(2027, 2, 28));
  EXPECT_EQ(WindowOf(Period("month"), anchor, Utc(2027, 3, 29), utc).end_ms, Utc(2027, 3, 30));
}

TEST(BillingCalendarTest, AnAnchorBeforeOrAfterNowAndInAZoneGivesLocalMidnights) {
  const auto berlin = Zone("Europe/Berlin");
  const std::optional<CivilDate> anchor = Date(2030, 6, 15);  // in the future: periods run backwards from it
  QuotaWindow w = WindowOf(Period("month"), anchor, Utc(2027, 1, 20), berlin);
  EXPECT_EQ(w.start_ms, Utc(2027, 1, 14, 23));  // 2027-01-15 00:00 CET
  EXPECT_EQ(w.end_ms, Utc(2027, 2, 14, 23));
  // Quarters and years from the anchor.
  w = WindowOf(Period("quarter"), Date(2027, 2, 10), Utc(2027, 6, 1), TimeZone::Utc());
  EXPECT_EQ(w.start_ms, Utc(2027, 5, 10));
  EXPECT_EQ(w.end_ms, Utc(2027, 8, 10));
  w = WindowOf(Period("year"), Date(2024, 2, 29), Utc(2027, 3, 1), TimeZone::Utc());
  EXPECT_EQ(w.start_ms, Utc(2027, 2, 28));
  EXPECT_EQ(w.end_ms, Utc(2028, 2, 29));
  // Days and weeks ignore the anchor.
  w = WindowOf(Period("day"), Date(2027, 1, 31), Utc(2027, 3, 5, 10), TimeZone::Utc());
  EXPECT_EQ(w.start_ms, Utc(2027, 3, 5));
}

TEST(BillingCalendarTest, CalendarAndTotalWindowsWithoutAnAnchor) {
  const auto utc = TimeZone::Utc();
  QuotaWindow w = WindowOf(Period("month"), std::nullopt, Utc(2027, 2, 10, 5), utc);
  EXPECT_EQ(w.start_ms, Utc(2027, 2, 1));
  EXPECT_EQ(w.end_ms, Utc(2027, 3, 1));
  EXPECT_TRUE(w.resets());
  w = WindowOf(Period("total"), std::nullopt, Utc(2027, 2, 10), utc);
  EXPECT_FALSE(w.resets());
  EXPECT_EQ(w.start_ms, std::numeric_limits<int64_t>::min());
}

TEST(BillingCalendarTest, Rolling24hMovesAtTheHourBoundary) {
  const auto utc = TimeZone::Utc();
  const QuotaPeriod rolling = Period("rolling:24h");
  EXPECT_EQ(rolling.rolling_hours, 24);
  QuotaWindow before = WindowOf(rolling, std::nullopt, Utc(2027, 3, 10, 10, 59, 59), utc);
  EXPECT_EQ(before.start_ms, Utc(2027, 3, 9, 11));
  EXPECT_EQ(before.end_ms, Utc(2027, 3, 10, 11));
  QuotaWindow after = WindowOf(rolling, std::nullopt, Utc(2027, 3, 10, 11), utc);
  EXPECT_EQ(after.start_ms, Utc(2027, 3, 9, 12));
  EXPECT_EQ(after.end_ms, Utc(2027, 3, 10, 12));
  EXPECT_EQ(after.end_ms - after.start_ms, 24 * kHourMs);
  EXPECT_EQ(Period("rolling:30d").rolling_hours, 720);
  EXPECT_EQ(QuotaPeriodName(Period("rolling:30d")), "rolling:30d");
  EXPECT_EQ(QuotaPeriodName(Period("rolling:36h")), "rolling:36h");
}

TEST(BillingCalendarTest, BadPeriodsAreErrorsNamingThem) {
  for (const char* text : {"fortnight", "rolling:", "rolling:0h", "rolling:24", "rolling:1.5d", "rolling:367d",
                           "rolling:-1h", "", "Rolling:24h"}) {
    std::string error;
    EXPECT_FALSE(ParseQuotaPeriod(text, &error).has_value()) << text;
    EXPECT_NE(error.find(std::string("'") + text + "'"), std::string::npos) << error;
  }
  std::string error;
  EXPECT_TRUE(ParseQuotaPeriod("rolling:366d", &error).has_value()) << error;
  EXPECT_TRUE(ParseQuotaPeriod("Month", &error).has_value()) << error;  // interval names are case-insensitive
}

TEST(BillingCalendarTest, AOneMonthGrantFromJan31EndsFeb28NeverMar3) {
  std::string error;
  auto month = ParseDuration("1mo", &error);
  ASSERT_TRUE(month) << error;
  EXPECT_EQ(AddDuration(Utc(2027, 1, 31, 10, 30), *month, TimeZone::Utc()), Utc(2027, 2, 28, 10, 30));
  auto year = ParseDuration("1y", &error);
  ASSERT_TRUE(year) << error;
  EXPECT_EQ(AddDuration(Utc(2028, 2, 29), *year, TimeZone::Utc()), Utc(2029, 2, 28));
  auto days = ParseDuration("30d", &error);
  ASSERT_TRUE(days) << error;
  EXPECT_EQ(AddDuration(Utc(2027, 1, 31), *days, TimeZone::Utc()), Utc(2027, 3, 2));
  // In a zone: the local time of day is kept.
  EXPECT_EQ(AddDuration(Utc(2027, 1, 31, 9), *month, Zone("Europe/Berlin")), Utc(2027, 2, 28, 9));
  for (const char* ok : {"1s", "90m", "12h", "2w", "100y", "1200mo"}) {
    EXPECT_TRUE(ParseDuration(ok, &error).has_value()) << ok << ": " << error;
  }
  for (const char* bad : {"", "mo", "0d", "1.5d", "1", "1x", "101y", "-1d", "1 d", "d1"}) {
    error.clear();
    EXPECT_FALSE(ParseDuration(bad, &error).has_value()) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
}

TEST(BillingCalendarTest, CivilDatesParseOnlyRealDays) {
  EXPECT_EQ(ParseCivilDate("2027-01-31"), Date(2027, 1, 31));
  EXPECT_EQ(ParseCivilDate("2028-02-29"), Date(2028, 2, 29));
  for (const char* bad : {"2027-02-29", "2027-13-01", "2027-00-10", "2027-1-31", "27-01-31", "2027-01-32", "1969-12-31",
                          "2027/01/31", "2027-01-3x"}) {
    EXPECT_FALSE(ParseCivilDate(bad).has_value()) << bad;
  }
  EXPECT_EQ(FormatCivilDate(Date(2027, 3, 5)), "2027-03-05");
  for (int64_t days : {-1000, 0, 365, 20000, 2932896}) EXPECT_EQ(DaysFromCivil(CivilFromDays(days)), days);
}

}  // namespace
}  // namespace tally::core
