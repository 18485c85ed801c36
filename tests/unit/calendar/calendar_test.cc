// core/calendar: which hour, day, ISO week, month, quarter and year an
// instant falls in (in an IANA zone), labels, parsing and normalising period
// arguments, stepping, period bounds, DST changes and :30/:45 zones.
#include "core/calendar.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "civil_time.h"
#include "core/clock.h"

namespace tally::core {
namespace {

using fixtures::DaysFromCivil;
using fixtures::kDayMs;
using fixtures::kHourMs;
using fixtures::kMinuteMs;
using fixtures::Utc;
using fixtures::Zone;

const TimeZone kUtc = TimeZone::Utc();

// ParsePeriod, or nullopt (with the error message checked to be non-empty).
std::optional<PeriodId> Parse(Interval interval, std::string_view label, const TimeZone& tz = kUtc,
                              int64_t now_ms = Utc(2024, 12, 4, 10, 15)) {
  PeriodId period = -12345;
  std::string error;
  if (ParsePeriod(interval, label, tz, now_ms, &period, &error)) {
    EXPECT_TRUE(error.empty()) << error;
    return period;
  }
  EXPECT_FALSE(error.empty()) << "no message for '" << label << "'";
  return std::nullopt;
}

// The label a period argument normalises to (or "<error>").
std::string Normalise(Interval interval, std::string_view label, const TimeZone& tz = kUtc) {
  std::optional<PeriodId> period = Parse(interval, label, tz);
  return period ? PeriodLabel(interval, *period, tz) : std::string("<error>");
}

std::string LabelAt(Interval interval, int64_t unix_ms, const TimeZone& tz = kUtc) {
  return PeriodLabel(interval, PeriodOf(interval, unix_ms, tz), tz);
}

// Every hour period that starts within [start, end), in order.
std::vector<PeriodId> HoursBetween(int64_t start_ms, int64_t end_ms, const TimeZone& tz) {
  std::vector<PeriodId> hours;
  for (PeriodId h = PeriodOf(Interval::kHour, start_ms, tz); PeriodStartMs(Interval::kHour, h, tz) < end_ms;
       h = StepPeriod(Interval::kHour, h, 1, tz)) {
    hours.push_back(h);
    if (hours.size() > 100) break;
  }
  return hours;
}

// ---------------------------------------------------------------------------
// Interval names

TEST(IntervalTest, NamesParseCaseInsensitively) {
  EXPECT_EQ(ParseInterval("total"), Interval::kTotal);
  EXPECT_EQ(ParseInterval("TOTAL"), Interval::kTotal);
  EXPECT_EQ(ParseInterval("hour"), Interval::kHour);
  EXPECT_EQ(ParseInterval("HOUR"), Interval::kHour);
  EXPECT_EQ(ParseInterval("Day"), Interval::kDay);
  EXPECT_EQ(ParseInterval("wEeK"), Interval::kWeek);
  EXPECT_EQ(ParseInterval("Month"), Interval::kMonth);
  EXPECT_EQ(ParseInterval("QUARTER"), Interval::kQuarter);
  EXPECT_EQ(ParseInterval("yeAR"), Interval::kYear);
}

TEST(IntervalTest, UnknownNamesAreRejected) {
  for (std::string_view bad : {"", "days", "hours", "minute", "yearly", "w", "total ", " day", "da"}) {
    EXPECT_EQ(ParseInterval(bad), std::nullopt) << "'" << bad << "'";
  }
}

TEST(IntervalTest, NamesRoundTrip) {
  for (int i = 0; i < kIntervalCount; ++i) {
    Interval interval = static_cast<Interval>(i);
    EXPECT_EQ(ParseInterval(IntervalName(interval)), interval) << IntervalName(interval);
  }
  EXPECT_EQ(IntervalName(Interval::kQuarter), "quarter");
}

TEST(TimeZoneTest, FindsIanaZonesAndRejectsUnknownOnes) {
  EXPECT_TRUE(TimeZone::Find("Europe/Berlin").has_value());
  EXPECT_TRUE(TimeZone::Find("UTC").has_value());
  EXPECT_EQ(TimeZone::Find("Europe/Berlin")->name(), "Europe/Berlin");
  EXPECT_EQ(TimeZone::Find("Mars/Olympus_Mons"), std::nullopt);
  EXPECT_EQ(TimeZone::Find(""), std::nullopt);
  EXPECT_EQ(TimeZone::Find(std::string(200, 'A')), std::nullopt);
  EXPECT_TRUE(*TimeZone::Find("UTC") == TimeZone::Utc());
  EXPECT_FALSE(Zone("Europe/Berlin") == TimeZone::Utc());
}

// ---------------------------------------------------------------------------
// Periods of an instant (UTC)

TEST(PeriodOfTest, EveryIntervalOfAnInstantInUtc) {
  const int64_t t = Utc(2024, 12, 4, 10, 15, 30);  // a Wednesday
  EXPECT_EQ(LabelAt(Interval::kHour, t), "2024-12-04T10");
  EXPECT_EQ(LabelAt(Interval::kDay, t), "2024-12-04");
  EXPECT_EQ(LabelAt(Interval::kWeek, t), "2024-W49");
  EXPECT_EQ(LabelAt(Interval::kMonth, t), "2024-12");
  EXPECT_EQ(LabelAt(Interval::kQuarter, t), "2024-Q4");
  EXPECT_EQ(LabelAt(Interval::kYear, t), "2024");
  EXPECT_EQ(LabelAt(Interval::kTotal, t), "total");
  EXPECT_EQ(PeriodOf(Interval::kTotal, t, kUtc), 0);
}

TEST(PeriodOfTest, PeriodIdsAreHourStartMinutesAndFirstDays) {
  const int64_t t = Utc(2024, 12, 4, 10, 15, 30);
  EXPECT_EQ(PeriodOf(Interval::kHour, t, kUtc), Utc(2024, 12, 4, 10) / kMinuteMs);
  EXPECT_EQ(PeriodOf(Interval::kDay, t, kUtc), DaysFromCivil(2024, 12, 4));
  EXPECT_EQ(PeriodOf(Interval::kWeek, t, kUtc), DaysFromCivil(2024, 12, 2));  // Monday
  EXPECT_EQ(PeriodOf(Interval::kMonth, t, kUtc), DaysFromCivil(2024, 12, 1));
  EXPECT_EQ(PeriodOf(Interval::kQuarter, t, kUtc), DaysFromCivil(2024, 10, 1));
  EXPECT_EQ(PeriodOf(Interval::kYear, t, kUtc), DaysFromCivil(2024, 1, 1));
}

TEST(PeriodOfTest, BoundariesBelongToTheLaterPeriod) {
  const int64_t midnight = Utc(2025, 1, 1);
  EXPECT_EQ(LabelAt(Interval::kDay, midnight - 1), "2024-12-31");
  EXPECT_EQ(LabelAt(Interval::kDay, midnight), "2025-01-01");
  EXPECT_EQ(LabelAt(Interval::kHour, midnight - 1), "2024-12-31T23");
  EXPECT_EQ(LabelAt(Interval::kHour, midnight), "2025-01-01T00");
  EXPECT_EQ(LabelAt(Interval::kYear, midnight - 1), "2024");
  EXPECT_EQ(LabelAt(Interval::kYear, midnight), "2025");
  EXPECT_EQ(LabelAt(Interval::kQuarter, midnight - 1), "2024-Q4");
  EXPECT_EQ(LabelAt(Interval::kQuarter, midnight), "2025-Q1");
}

TEST(PeriodOfTest, InstantsBeforeTheEpoch) {
  const int64_t t = Utc(1969, 12, 31, 23, 30);
  EXPECT_LT(t, 0);
  EXPECT_EQ(LabelAt(Interval::kHour, t), "1969-12-31T23");
  EXPECT_EQ(LabelAt(Interval::kDay, t), "1969-12-31");
  EXPECT_EQ(PeriodOf(Interval::kDay, t, kUtc), -1);
  EXPECT_EQ(LabelAt(Interval::kYear, t), "1969");
}

// ---------------------------------------------------------------------------
// ISO weeks

TEST(IsoWeekTest, MondayDec30_2024IsInWeek1Of2025) {
  EXPECT_EQ(LabelAt(Interval::kWeek, Utc(2024, 12, 30, 12)), "2025-W01");
  EXPECT_EQ(LabelAt(Interval::kWeek, Utc(2024, 12, 29, 23, 59)), "2024-W52");  // Sunday before
  EXPECT_EQ(LabelAt(Interval::kWeek, Utc(2025, 1, 5, 23, 59)), "2025-W01");    // Sunday after
  EXPECT_EQ(LabelAt(Interval::kWeek, Utc(2025, 1, 6)), "2025-W02");
  EXPECT_EQ(PeriodOf(Interval::kWeek, Utc(2025, 1, 1), kUtc), DaysFromCivil(2024, 12, 30));
  EXPECT_EQ(Normalise(Interval::kWeek, "2024-12-30"), "2025-W01");
  EXPECT_EQ(Parse(Interval::kWeek, "2025-W01"), DaysFromCivil(2024, 12, 30));
}

TEST(IsoWeekTest, SundayJan3_2021IsInWeek53Of2020) {
  EXPECT_EQ(LabelAt(Interval::kWeek, Utc(2021, 1, 3, 12)), "2020-W53");
  EXPECT_EQ(LabelAt(Interval::kWeek, Utc(2021, 1, 4)), "2021-W01");
  EXPECT_EQ(Normalise(Interval::kWeek, "2021-01-03"), "2020-W53");
  EXPECT_EQ(Parse(Interval::kWeek, "2020-W53"), DaysFromCivil(2020, 12, 28));
  EXPECT_EQ(Parse(Interval::kWeek, "2021-W01"), DaysFromCivil(2021, 1, 4));
}

TEST(IsoWeekTest, Week53ExistsOnlyInLongYears) {
  EXPECT_EQ(Normalise(Interval::kWeek, "2020-W53"), "2020-W53");
  EXPECT_EQ(Normalise(Interval::kWeek, "2026-W53"), "2026-W53");  // 2026 starts on a Thursday
  EXPECT_EQ(Parse(Interval::kWeek, "2026-W53"), DaysFromCivil(2026, 12, 28));
  EXPECT_EQ(Parse(Interval::kWeek, "2021-W53"), std::nullopt);
  EXPECT_EQ(Parse(Interval::kWeek, "2024-W53"), std::nullopt);
  EXPECT_EQ(Parse(Interval::kWeek, "2025-W53"), std::nullopt);
  EXPECT_EQ(Parse(Interval::kWeek, "2024-W54"), std::nullopt);
  EXPECT_EQ(Normalise(Interval::kWeek, "2024-W52"), "2024-W52");
}

TEST(IsoWeekTest, WeekOfYearStartingOnMonday) {
  EXPECT_EQ(Parse(Interval::kWeek, "2024-W01"), DaysFromCivil(2024, 1, 1));
  EXPECT_EQ(LabelAt(Interval::kWeek, Utc(2024, 1, 1)), "2024-W01");
  EXPECT_EQ(LabelAt(Interval::kWeek, Utc(2023, 12, 31)), "2023-W52");
}

TEST(IsoWeekTest, WeeksStartOnMondayForEveryDayOfTheWeek) {
  // 2024-12-02 (Mon) .. 2024-12-08 (Sun) are all 2024-W49.
  for (unsigned d = 2; d <= 8; ++d) {
    EXPECT_EQ(PeriodOf(Interval::kWeek, Utc(2024, 12, d, 13), kUtc), DaysFromCivil(2024, 12, 2)) << d;
  }
  EXPECT_EQ(LabelAt(Interval::kWeek, Utc(2024, 12, 1, 23)), "2024-W48");
  EXPECT_EQ(LabelAt(Interval::kWeek, Utc(2024, 12, 9)), "2024-W50");
}

// ---------------------------------------------------------------------------
// Quarters, months, leap days

TEST(QuarterTest, QuartersStartInJanAprJulOct) {
  const unsigned first_month[] = {1, 1, 1, 4, 4, 4, 7, 7, 7, 10, 10, 10};
  for (unsigned m = 1; m <= 12; ++m) {
    EXPECT_EQ(PeriodOf(Interval::kQuarter, Utc(2024, m, 15), kUtc), DaysFromCivil(2024, first_month[m - 1], 1)) << m;
  }
  EXPECT_EQ(LabelAt(Interval::kQuarter, Utc(2024, 3, 31, 23, 59)), "2024-Q1");
  EXPECT_EQ(LabelAt(Interval::kQuarter, Utc(2024, 4, 1)), "2024-Q2");
  EXPECT_EQ(LabelAt(Interval::kQuarter, Utc(2024, 6, 30, 23)), "2024-Q2");
  EXPECT_EQ(LabelAt(Interval::kQuarter, Utc(2024, 7, 1)), "2024-Q3");
  EXPECT_EQ(LabelAt(Interval::kQuarter, Utc(2024, 10, 1)), "2024-Q4");
  EXPECT_EQ(Parse(Interval::kQuarter, "2024-Q1"), DaysFromCivil(2024, 1, 1));
  EXPECT_EQ(Parse(Interval::kQuarter, "2024-Q2"), DaysFromCivil(2024, 4, 1));
  EXPECT_EQ(Parse(Interval::kQuarter, "2024-Q3"), DaysFromCivil(2024, 7, 1));
  EXPECT_EQ(Parse(Interval::kQuarter, "2024-Q4"), DaysFromCivil(2024, 10, 1));
}

TEST(LeapDayTest, Feb29ExistsOnlyInLeapYears) {
  EXPECT_EQ(Normalise(Interval::kDay, "2024-02-29"), "2024-02-29");
  EXPECT_EQ(Parse(Interval::kDay, "2024-02-29"), DaysFromCivil(2024, 2, 29));
  EXPECT_EQ(Normalise(Interval::kMonth, "2024-02-29"), "2024-02");
  EXPECT_EQ(Normalise(Interval::kDay, "2000-02-29"), "2000-02-29");
  EXPECT_EQ(Parse(Interval::kDay, "2023-02-29"), std::nullopt);
  EXPECT_EQ(Parse(Interval::kMonth, "2023-02-29"), std::nullopt);
  EXPECT_EQ(Parse(Interval::kDay, "2100-02-29"), std::nullopt);
  EXPECT_EQ(Parse(Interval::kDay, "2024-02-30"), std::nullopt);
  EXPECT_EQ(LabelAt(Interval::kDay, Utc(2024, 2, 28, 23, 59) + kMinuteMs), "2024-02-29");
  EXPECT_EQ(LabelAt(Interval::kDay, Utc(2023, 2, 28, 23, 59) + kMinuteMs), "2023-03-01");
}

TEST(MonthEndTest, LastDaysOfMonthsAndTheirEnds) {
  const unsigned days_2024[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  for (unsigned m = 1; m <= 12; ++m) {
    std::string last =
        "2024-" + std::string(m < 10 ? "0" : "") + std::to_string(m) + "-" + std::to_string(days_2024[m - 1]);
    std::string past =
        "2024-" + std::string(m < 10 ? "0" : "") + std::to_string(m) + "-" + std::to_string(days_2024[m - 1] + 1);
    EXPECT_EQ(Normalise(Interval::kDay, last), last);
    EXPECT_EQ(Parse(Interval::kDay, past), std::nullopt) << past;
    PeriodId month = *Parse(Interval::kMonth, last);
    EXPECT_EQ(month, DaysFromCivil(2024, m, 1));
    EXPECT_EQ(PeriodEndMs(Interval::kMonth, month, kUtc) - PeriodStartMs(Interval::kMonth, month, kUtc),
              days_2024[m - 1] * kDayMs)
        << m;
  }
  EXPECT_EQ(Parse(Interval::kDay, "2024-04-31"), std::nullopt);
  EXPECT_EQ(Parse(Interval::kDay, "2024-12-32"), std::nullopt);
  EXPECT_EQ(Parse(Interval::kDay, "2024-12-00"), std::nullopt);
}

// ---------------------------------------------------------------------------
// Labels: round trip and normalisation

TEST(LabelTest, LabelsRoundTripForEveryInterval) {
  struct Case {
    Interval interval;
    std::vector<std::string> labels;
  };
  const Case cases[] = {
      {Interval::kHour, {"2024-12-04T10", "2024-01-05T00", "2024-02-29T23", "1970-01-01T00", "2025-12-31T23"}},
      {Interval::kDay, {"2024-12-04", "2024-01-01", "2024-02-29", "1970-01-01", "2099-12-31"}},
      {Interval::kWeek, {"2024-W49", "2024-W01", "2020-W53", "2025-W01", "2024-W52", "1970-W02"}},
      {Interval::kMonth, {"2024-12", "2024-01", "2024-02", "1970-01", "9999-12"}},
      {Interval::kQuarter, {"2024-Q4", "2024-Q1", "2024-Q2", "2024-Q3", "1970-Q1"}},
      {Interval::kYear, {"2024", "1970", "2000", "9999"}},
      {Interval::kTotal, {"total"}},
  };
  for (const Case& c : cases) {
    for (const std::string& label : c.labels) {
      std::optional<PeriodId> period = Parse(c.interval, label);
      ASSERT_TRUE(period.has_value()) << IntervalName(c.interval) << " " << label;
      EXPECT_EQ(PeriodLabel(c.interval, *period, kUtc), label) << IntervalName(c.interval);
    }
  }
}

TEST(LabelTest, LabelsRoundTripInOtherZones) {
  for (std::string_view name : {"Europe/Berlin", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu"}) {
    TimeZone tz = Zone(name);
    for (std::string_view label : {"2024-12-04T10", "2024-07-01T00", "2024-03-31T23"}) {
      std::optional<PeriodId> period = Parse(Interval::kHour, label, tz);
      ASSERT_TRUE(period.has_value()) << name << " " << label;
      EXPECT_EQ(PeriodLabel(Interval::kHour, *period, tz), label) << name;
    }
    for (std::string_view label : {"2024-12-04", "2024-03-31", "2024-10-27"}) {
      EXPECT_EQ(Normalise(Interval::kDay, label, tz), label) << name;
    }
    EXPECT_EQ(Normalise(Interval::kWeek, "2025-W01", tz), "2025-W01") << name;
    EXPECT_EQ(Normalise(Interval::kMonth, "2024-03", tz), "2024-03") << name;
    EXPECT_EQ(Normalise(Interval::kQuarter, "2024-Q2", tz), "2024-Q2") << name;
    EXPECT_EQ(Normalise(Interval::kYear, "2024", tz), "2024") << name;
  }
}

TEST(LabelTest, ADayLabelNamesItsContainingPeriod) {
  EXPECT_EQ(Normalise(Interval::kDay, "2024-12-04"), "2024-12-04");
  EXPECT_EQ(Normalise(Interval::kWeek, "2024-12-04"), "2024-W49");
  EXPECT_EQ(Normalise(Interval::kMonth, "2024-12-04"), "2024-12");
  EXPECT_EQ(Normalise(Interval::kQuarter, "2024-12-04"), "2024-Q4");
  EXPECT_EQ(Normalise(Interval::kYear, "2024-12-04"), "2024");
  EXPECT_EQ(Normalise(Interval::kQuarter, "2024-05-15"), "2024-Q2");
  EXPECT_EQ(Normalise(Interval::kMonth, "2024-02-29"), "2024-02");
}

TEST(LabelTest, CoarserLabelsNameTheirContainingPeriod) {
  EXPECT_EQ(Normalise(Interval::kDay, "2024-12-04T10"), "2024-12-04");
  EXPECT_EQ(Normalise(Interval::kWeek, "2024-12-04T10"), "2024-W49");
  EXPECT_EQ(Normalise(Interval::kMonth, "2024-12-04T23"), "2024-12");
  EXPECT_EQ(Normalise(Interval::kQuarter, "2024-11"), "2024-Q4");
  EXPECT_EQ(Normalise(Interval::kYear, "2024-11"), "2024");
  EXPECT_EQ(Normalise(Interval::kYear, "2024-Q3"), "2024");
}

TEST(LabelTest, ALabelThatDoesNotNameAPeriodOfTheIntervalIsAnError) {
  // A week can straddle months, quarters and years.
  EXPECT_EQ(Parse(Interval::kMonth, "2024-W49"), std::nullopt);
  EXPECT_EQ(Parse(Interval::kQuarter, "2024-W49"), std::nullopt);
  EXPECT_EQ(Parse(Interval::kYear, "2024-W49"), std::nullopt);
  EXPECT_EQ(Parse(Interval::kDay, "2024-W49"), std::nullopt);
  EXPECT_EQ(Parse(Interval::kHour, "2024-W49"), std::nullopt);
  // Coarser labels never name a finer period.
  EXPECT_EQ(Parse(Interval::kDay, "2024-12"), std::nullopt);
  EXPECT_EQ(Parse(Interval::kHour, "2024-12-04"), std::nullopt);
  EXPECT_EQ(Parse(Interval::kWeek, "2024-12"), std::nullopt);
  EXPECT_EQ(Parse(Interval::kMonth, "2024-Q4"), std::nullopt);
  EXPECT_EQ(Parse(Interval::kMonth, "2024"), std::nullopt);
  EXPECT_EQ(Parse(Interval::kQuarter, "2024"), std::nullopt);
  EXPECT_EQ(Parse(Interval::kDay, "total"), std::nullopt);
  EXPECT_EQ(Parse(Interval::kTotal, "2024"), std::nullopt);
  EXPECT_EQ(Parse(Interval::kTotal, "2024-12-04"), std::nullopt);
}

TEST(LabelTest, GarbageLabelsAreErrors) {
  const std::string_view garbage[] = {
      "",
      "2024-1",
      "2024-W00",
      "2024-Q5",
      "abcd",
      "2024-12-04T24",
      "2024-Q0",
      "2024-13",
      "2024-00",
      "2024-12-4",
      "2024-12-04T1",
      "2024-12-04T",
      "24",
      "202",
      "20245",
      "2024-",
      "2024-W",
      "2024-Q",
      " 2024",
      "2024 ",
      "2024-12 ",
      "2024/12",
      "2024-12-04 10",
      "2024-12-04T10:00",
      "2024-12-04X",
      "1969",
      "1969-12-31",
      "-2024",
      "+2024",
      "2024-W1",
      "2024-W123",
      "2024-Q12",
      "2024-12-04T10+25:00",
      "2024-12-04T10+0100",
      "2024-12-04Tab",
      "current ",
      "xcurrent",
      "2024-12-04T-1",
      "2024-W4a",
      "2024-1a",
      "tot",
      "2024-12-04T10Zjunk",
  };
  const Interval intervals[] = {Interval::kHour,  Interval::kDay,     Interval::kWeek,
                                Interval::kMonth, Interval::kQuarter, Interval::kYear};
  for (std::string_view label : garbage) {
    for (Interval interval : intervals) {
      EXPECT_EQ(Parse(interval, label), std::nullopt) << IntervalName(interval) << " '" << label << "'";
    }
  }
}

TEST(LabelTest, ErrorMessagesNameTheLabel) {
  PeriodId period = 0;
  std::string error;
  ASSERT_FALSE(ParsePeriod(Interval::kMonth, "2024-W49", kUtc, 0, &period, &error));
  EXPECT_NE(error.find("2024-W49"), std::string::npos) << error;
  error.clear();
  ASSERT_FALSE(ParsePeriod(Interval::kDay, "2023-02-29", kUtc, 0, &period, &error));
  EXPECT_NE(error.find("2023-02-29"), std::string::npos) << error;
}

TEST(LabelTest, HourLabelsAcceptAnExplicitMatchingOffset) {
  EXPECT_EQ(Parse(Interval::kHour, "2024-12-04T10Z"), Utc(2024, 12, 4, 10) / kMinuteMs);
  EXPECT_EQ(Parse(Interval::kHour, "2024-12-04T10+00:00"), Utc(2024, 12, 4, 10) / kMinuteMs);
  EXPECT_EQ(Parse(Interval::kHour, "2024-12-04T10+01:00"), std::nullopt);  // UTC is never +01:00
  TimeZone berlin = Zone("Europe/Berlin");
  EXPECT_EQ(Parse(Interval::kHour, "2024-12-04T10+01:00", berlin), Utc(2024, 12, 4, 9) / kMinuteMs);
  EXPECT_EQ(Parse(Interval::kHour, "2024-12-04T10+02:00", berlin), std::nullopt);  // winter: +01:00
  EXPECT_EQ(Parse(Interval::kHour, "2024-07-04T10+02:00", berlin), Utc(2024, 7, 4, 8) / kMinuteMs);
}

// ---------------------------------------------------------------------------
// current

TEST(CurrentTest, CurrentIsThePeriodContainingNow) {
  ManualClock clock(Utc(2024, 12, 4, 10, 15));
  const int64_t now = clock.NowMs();
  for (int i = 0; i < kIntervalCount; ++i) {
    Interval interval = static_cast<Interval>(i);
    EXPECT_EQ(Parse(interval, "current", kUtc, now), PeriodOf(interval, now, kUtc)) << IntervalName(interval);
    EXPECT_EQ(Parse(interval, "CURRENT", kUtc, now), PeriodOf(interval, now, kUtc)) << IntervalName(interval);
  }
  EXPECT_EQ(PeriodLabel(Interval::kHour, *Parse(Interval::kHour, "current", kUtc, now), kUtc), "2024-12-04T10");
  EXPECT_EQ(PeriodLabel(Interval::kWeek, *Parse(Interval::kWeek, "current", kUtc, now), kUtc), "2024-W49");
  clock.Advance(2 * kHourMs);
  EXPECT_EQ(PeriodLabel(Interval::kHour, *Parse(Interval::kHour, "current", kUtc, clock.NowMs()), kUtc),
            "2024-12-04T12");
}

TEST(CurrentTest, CurrentFollowsTheZone) {
  ManualClock clock(Utc(2024, 12, 31, 23, 30));
  TimeZone berlin = Zone("Europe/Berlin");
  auto current = [&](Interval interval, const TimeZone& tz) {
    std::optional<PeriodId> p = Parse(interval, "current", tz, clock.NowMs());
    return p ? PeriodLabel(interval, *p, tz) : std::string("<error>");
  };
  EXPECT_EQ(current(Interval::kDay, kUtc), "2024-12-31");
  EXPECT_EQ(current(Interval::kDay, berlin), "2025-01-01");
  EXPECT_EQ(current(Interval::kMonth, kUtc), "2024-12");
  EXPECT_EQ(current(Interval::kMonth, berlin), "2025-01");
  EXPECT_EQ(current(Interval::kYear, kUtc), "2024");
  EXPECT_EQ(current(Interval::kYear, berlin), "2025");
  EXPECT_EQ(current(Interval::kHour, berlin), "2025-01-01T00");
}

// ---------------------------------------------------------------------------
// Stepping and bounds

TEST(StepTest, StepsForwardAndBackwardAcrossMonthAndYearEnds) {
  auto step = [](Interval interval, std::string_view label, int64_t steps) {
    std::optional<PeriodId> p = Parse(interval, label);
    return p ? PeriodLabel(interval, StepPeriod(interval, *p, steps, kUtc), kUtc) : std::string("<error>");
  };
  EXPECT_EQ(step(Interval::kHour, "2024-12-31T23", 1), "2025-01-01T00");
  EXPECT_EQ(step(Interval::kHour, "2025-01-01T00", -1), "2024-12-31T23");
  EXPECT_EQ(step(Interval::kHour, "2024-02-28T22", 3), "2024-02-29T01");
  EXPECT_EQ(step(Interval::kDay, "2024-02-28", 1), "2024-02-29");
  EXPECT_EQ(step(Interval::kDay, "2024-02-28", 2), "2024-03-01");
  EXPECT_EQ(step(Interval::kDay, "2023-02-28", 1), "2023-03-01");
  EXPECT_EQ(step(Interval::kDay, "2024-03-01", -1), "2024-02-29");
  EXPECT_EQ(step(Interval::kDay, "2024-12-31", 1), "2025-01-01");
  EXPECT_EQ(step(Interval::kDay, "2025-01-01", -1), "2024-12-31");
  EXPECT_EQ(step(Interval::kDay, "2024-01-01", 366), "2025-01-01");
  EXPECT_EQ(step(Interval::kWeek, "2024-W52", 1), "2025-W01");
  EXPECT_EQ(step(Interval::kWeek, "2025-W01", -1), "2024-W52");
  EXPECT_EQ(step(Interval::kWeek, "2020-W53", 1), "2021-W01");
  EXPECT_EQ(step(Interval::kWeek, "2021-W01", -1), "2020-W53");
  EXPECT_EQ(step(Interval::kMonth, "2024-01", 1), "2024-02");
  EXPECT_EQ(step(Interval::kMonth, "2024-12", 1), "2025-01");
  EXPECT_EQ(step(Interval::kMonth, "2025-01", -1), "2024-12");
  EXPECT_EQ(step(Interval::kMonth, "2024-03", -13), "2023-02");
  EXPECT_EQ(step(Interval::kMonth, "2024-11", 14), "2026-01");
  EXPECT_EQ(step(Interval::kQuarter, "2024-Q4", 1), "2025-Q1");
  EXPECT_EQ(step(Interval::kQuarter, "2025-Q1", -1), "2024-Q4");
  EXPECT_EQ(step(Interval::kQuarter, "2024-Q2", -6), "2022-Q4");
  EXPECT_EQ(step(Interval::kYear, "2024", 1), "2025");
  EXPECT_EQ(step(Interval::kYear, "2024", -24), "2000");
  EXPECT_EQ(step(Interval::kMonth, "2024-06", 0), "2024-06");
  EXPECT_EQ(StepPeriod(Interval::kTotal, 0, 5, kUtc), 0);
}

TEST(StepTest, StepIsTheInverseOfStepBack) {
  TimeZone berlin = Zone("Europe/Berlin");
  const int64_t t = Utc(2024, 10, 26, 21, 30);
  for (Interval interval : kRollupIntervals) {
    PeriodId p = PeriodOf(interval, t, berlin);
    for (int64_t n : {1, 2, 3, 5, 30}) {
      EXPECT_EQ(StepPeriod(interval, StepPeriod(interval, p, n, berlin), -n, berlin), p)
          << IntervalName(interval) << " n=" << n;
    }
  }
}

TEST(BoundsTest, StartAndEndOfPeriodsInUtc) {
  PeriodId hour = *Parse(Interval::kHour, "2024-12-04T10");
  EXPECT_EQ(PeriodStartMs(Interval::kHour, hour, kUtc), Utc(2024, 12, 4, 10));
  EXPECT_EQ(PeriodEndMs(Interval::kHour, hour, kUtc), Utc(2024, 12, 4, 11));
  PeriodId day = *Parse(Interval::kDay, "2024-12-31");
  EXPECT_EQ(PeriodStartMs(Interval::kDay, day, kUtc), Utc(2024, 12, 31));
  EXPECT_EQ(PeriodEndMs(Interval::kDay, day, kUtc), Utc(2025, 1, 1));
  PeriodId week = *Parse(Interval::kWeek, "2025-W01");
  EXPECT_EQ(PeriodStartMs(Interval::kWeek, week, kUtc), Utc(2024, 12, 30));
  EXPECT_EQ(PeriodEndMs(Interval::kWeek, week, kUtc), Utc(2025, 1, 6));
  PeriodId month = *Parse(Interval::kMonth, "2024-02");
  EXPECT_EQ(PeriodStartMs(Interval::kMonth, month, kUtc), Utc(2024, 2, 1));
  EXPECT_EQ(PeriodEndMs(Interval::kMonth, month, kUtc), Utc(2024, 3, 1));
  PeriodId quarter = *Parse(Interval::kQuarter, "2024-Q4");
  EXPECT_EQ(PeriodStartMs(Interval::kQuarter, quarter, kUtc), Utc(2024, 10, 1));
  EXPECT_EQ(PeriodEndMs(Interval::kQuarter, quarter, kUtc), Utc(2025, 1, 1));
  PeriodId year = *Parse(Interval::kYear, "2024");
  EXPECT_EQ(PeriodStartMs(Interval::kYear, year, kUtc), Utc(2024, 1, 1));
  EXPECT_EQ(PeriodEndMs(Interval::kYear, year, kUtc), Utc(2025, 1, 1));
  EXPECT_EQ(PeriodEndMs(Interval::kYear, year, kUtc) - PeriodStartMs(Interval::kYear, year, kUtc), 366 * kDayMs);
  EXPECT_EQ(PeriodStartMs(Interval::kTotal, 0, kUtc), 0);
  EXPECT_EQ(PeriodEndMs(Interval::kTotal, 0, kUtc), std::numeric_limits<int64_t>::max());
}

TEST(BoundsTest, StartAndEndOfPeriodsInBerlin) {
  TimeZone berlin = Zone("Europe/Berlin");
  PeriodId month = *Parse(Interval::kMonth, "2024-03", berlin);
  EXPECT_EQ(PeriodStartMs(Interval::kMonth, month, berlin), Utc(2024, 2, 29, 23));  // CET
  EXPECT_EQ(PeriodEndMs(Interval::kMonth, month, berlin), Utc(2024, 3, 31, 22));    // CEST
  PeriodId year = *Parse(Interval::kYear, "2025", berlin);
  EXPECT_EQ(PeriodStartMs(Interval::kYear, year, berlin), Utc(2024, 12, 31, 23));
  PeriodId day = *Parse(Interval::kDay, "2024-07-01", berlin);
  EXPECT_EQ(PeriodStartMs(Interval::kDay, day, berlin), Utc(2024, 6, 30, 22));
  EXPECT_EQ(PeriodEndMs(Interval::kDay, day, berlin), Utc(2024, 7, 1, 22));
}

// Invariants of one zone over [from, to), every `step_ms`.
void CheckInvariants(std::string_view name, int64_t from, int64_t to, int64_t step_ms) {
  TimeZone tz = Zone(name);
  for (int64_t t = from; t < to; t += step_ms) {
    for (Interval interval : kRollupIntervals) {
      PeriodId p = PeriodOf(interval, t, tz);
      const int64_t start = PeriodStartMs(interval, p, tz);
      const int64_t end = PeriodEndMs(interval, p, tz);
      const std::string label = PeriodLabel(interval, p, tz);
      ASSERT_LE(start, t) << name << " " << IntervalName(interval) << " " << label << " t=" << t;
      ASSERT_LT(t, end) << name << " " << IntervalName(interval) << " " << label << " t=" << t;
      ASSERT_EQ(PeriodOf(interval, start, tz), p) << name << " " << IntervalName(interval) << " " << label;
      ASSERT_EQ(PeriodOf(interval, end, tz), StepPeriod(interval, p, 1, tz))
          << name << " " << IntervalName(interval) << " " << label;
      ASSERT_EQ(Parse(interval, label, tz), p) << name << " " << IntervalName(interval) << " " << label;
    }
  }
}

TEST(BoundsTest, ZoneWithDstChangesAtMidnight) {
  // Santiago changes at midnight: 2024-04-07 00:00 -> 2024-04-06 23:00, 2024-09-08 00:00 -> 01:00.
  CheckInvariants("America/Santiago", Utc(2024, 4, 6, 22), Utc(2024, 4, 7, 8), 5 * kMinuteMs);
  CheckInvariants("America/Santiago", Utc(2024, 9, 7, 22), Utc(2024, 9, 8, 8), 5 * kMinuteMs);
  TimeZone santiago = Zone("America/Santiago");
  // 2024-09-08 starts at 01:00 local (midnight is skipped): a 23-hour day.
  PeriodId day = *Parse(Interval::kDay, "2024-09-08", santiago);
  EXPECT_EQ(PeriodStartMs(Interval::kDay, day, santiago), Utc(2024, 9, 8, 4));
  EXPECT_EQ(PeriodEndMs(Interval::kDay, day, santiago) - PeriodStartMs(Interval::kDay, day, santiago), 23 * kHourMs);
  EXPECT_EQ(Parse(Interval::kHour, "2024-09-08T00", santiago), std::nullopt);
}

TEST(BoundsTest, ZoneWithHalfHourDstChange) {
  // Lord Howe moves its clocks by 30 minutes (+11:00 -> +10:30 on 2024-04-07
  // at 02:00, +10:30 -> +11:00 on 2024-10-06 at 02:00): every instant must
  // still lie in exactly one hour cell whose start and end contain it.
  CheckInvariants("Australia/Lord_Howe", Utc(2024, 4, 6, 12), Utc(2024, 4, 6, 18), 5 * kMinuteMs);
  CheckInvariants("Australia/Lord_Howe", Utc(2024, 10, 5, 12), Utc(2024, 10, 5, 18), 5 * kMinuteMs);
}

TEST(BoundsTest, EveryInstantLiesWithinItsPeriod) {
  for (std::string_view name : {"UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu",
                                "Australia/Adelaide", "Pacific/Chatham"}) {
    TimeZone tz = Zone(name);
    // Every 37 minutes over a span covering both DST changes of 2024.
    for (int64_t t = Utc(2024, 3, 8); t < Utc(2024, 11, 6); t += 37 * kMinuteMs) {
      if ((t / (37 * kMinuteMs)) % 17 != 0 && !(t > Utc(2024, 3, 9) && t < Utc(2024, 4, 8)) &&
          !(t > Utc(2024, 9, 28) && t < Utc(2024, 11, 5))) {
        continue;  // dense around the changes, sparse elsewhere
      }
      for (Interval interval : kRollupIntervals) {
        PeriodId p = PeriodOf(interval, t, tz);
        const int64_t start = PeriodStartMs(interval, p, tz);
        const int64_t end = PeriodEndMs(interval, p, tz);
        ASSERT_LE(start, t) << name << " " << IntervalName(interval) << " " << PeriodLabel(interval, p, tz);
        ASSERT_LT(t, end) << name << " " << IntervalName(interval) << " " << PeriodLabel(interval, p, tz);
        ASSERT_EQ(PeriodOf(interval, start, tz), p) << name << " " << IntervalName(interval);
        ASSERT_EQ(PeriodOf(interval, end, tz), StepPeriod(interval, p, 1, tz)) << name << " " << IntervalName(interval);
      }
    }
  }
}

// ---------------------------------------------------------------------------
// DST: hour cells are real hours

TEST(DstTest, BerlinSpringForwardDayHas23Hours) {
  TimeZone berlin = Zone("Europe/Berlin");
  PeriodId day = *Parse(Interval::kDay, "2024-03-31", berlin);
  const int64_t start = PeriodStartMs(Interval::kDay, day, berlin);
  const int64_t end = PeriodEndMs(Interval::kDay, day, berlin);
  EXPECT_EQ(start, Utc(2024, 3, 30, 23));
  EXPECT_EQ(end, Utc(2024, 3, 31, 22));
  EXPECT_EQ(end - start, 23 * kHourMs);
  std::vector<PeriodId> hours = HoursBetween(start, end, berlin);
  ASSERT_EQ(hours.size(), 23u);
  std::vector<std::string> labels;
  for (PeriodId h : hours) labels.push_back(PeriodLabel(Interval::kHour, h, berlin));
  EXPECT_EQ(labels[0], "2024-03-31T00");
  EXPECT_EQ(labels[1], "2024-03-31T01");
  EXPECT_EQ(labels[2], "2024-03-31T03");
  EXPECT_EQ(labels[22], "2024-03-31T23");
  for (size_t i = 0; i < hours.size(); ++i) {
    EXPECT_EQ(PeriodStartMs(Interval::kHour, hours[i], berlin), start + static_cast<int64_t>(i) * kHourMs);
    EXPECT_EQ(PeriodEndMs(Interval::kHour, hours[i], berlin) - PeriodStartMs(Interval::kHour, hours[i], berlin),
              kHourMs);
    EXPECT_EQ(Parse(Interval::kHour, labels[i], berlin), hours[i]) << labels[i];
    EXPECT_EQ(PeriodOf(Interval::kDay, PeriodStartMs(Interval::kHour, hours[i], berlin), berlin), day);
  }
  EXPECT_EQ(Parse(Interval::kHour, "2024-03-31T02", berlin), std::nullopt);
  EXPECT_EQ(Parse(Interval::kHour, "2024-03-31T02+01:00", berlin), std::nullopt);
  EXPECT_EQ(Parse(Interval::kHour, "2024-03-31T02+02:00", berlin), std::nullopt);
  // The 02 hour exists on other days.
  EXPECT_TRUE(Parse(Interval::kHour, "2024-03-30T02", berlin).has_value());
}

TEST(DstTest, BerlinFallBackDayHas25HoursAndTheSecond02CarriesItsOffset) {
  TimeZone berlin = Zone("Europe/Berlin");
  PeriodId day = *Parse(Interval::kDay, "2024-10-27", berlin);
  const int64_t start = PeriodStartMs(Interval::kDay, day, berlin);
  const int64_t end = PeriodEndMs(Interval::kDay, day, berlin);
  EXPECT_EQ(start, Utc(2024, 10, 26, 22));
  EXPECT_EQ(end, Utc(2024, 10, 27, 23));
  EXPECT_EQ(end - start, 25 * kHourMs);
  std::vector<PeriodId> hours = HoursBetween(start, end, berlin);
  ASSERT_EQ(hours.size(), 25u);
  std::vector<std::string> labels;
  for (PeriodId h : hours) labels.push_back(PeriodLabel(Interval::kHour, h, berlin));
  EXPECT_EQ(labels[0], "2024-10-27T00");
  EXPECT_EQ(labels[1], "2024-10-27T01");
  EXPECT_EQ(labels[2], "2024-10-27T02");
  EXPECT_EQ(labels[3], "2024-10-27T02+01:00");
  EXPECT_EQ(labels[4], "2024-10-27T03");
  EXPECT_EQ(labels[24], "2024-10-27T23");
  for (size_t i = 0; i < hours.size(); ++i) {
    EXPECT_EQ(PeriodStartMs(Interval::kHour, hours[i], berlin), start + static_cast<int64_t>(i) * kHourMs);
    EXPECT_EQ(Parse(Interval::kHour, labels[i], berlin), hours[i]) << labels[i];
  }
  // Without an offset the earlier 02 is meant; with one, either can be named.
  EXPECT_EQ(Parse(Interval::kHour, "2024-10-27T02", berlin), Utc(2024, 10, 27, 0) / kMinuteMs);
  EXPECT_EQ(Parse(Interval::kHour, "2024-10-27T02+02:00", berlin), Utc(2024, 10, 27, 0) / kMinuteMs);
  EXPECT_EQ(Parse(Interval::kHour, "2024-10-27T02+01:00", berlin), Utc(2024, 10, 27, 1) / kMinuteMs);
  EXPECT_EQ(Parse(Interval::kHour, "2024-10-27T03+02:00", berlin), std::nullopt);
  // Instants in the two 02 hours land in different hour cells but the same day.
  const int64_t first = Utc(2024, 10, 27, 0, 30);
  const int64_t second = Utc(2024, 10, 27, 1, 30);
  EXPECT_NE(PeriodOf(Interval::kHour, first, berlin), PeriodOf(Interval::kHour, second, berlin));
  EXPECT_EQ(LabelAt(Interval::kHour, first, berlin), "2024-10-27T02");
  EXPECT_EQ(LabelAt(Interval::kHour, second, berlin), "2024-10-27T02+01:00");
  EXPECT_EQ(PeriodOf(Interval::kDay, first, berlin), PeriodOf(Interval::kDay, second, berlin));
  // Stepping walks through both.
  PeriodId h01 = *Parse(Interval::kHour, "2024-10-27T01", berlin);
  EXPECT_EQ(PeriodLabel(Interval::kHour, StepPeriod(Interval::kHour, h01, 2, berlin), berlin), "2024-10-27T02+01:00");
  EXPECT_EQ(PeriodLabel(Interval::kHour, StepPeriod(Interval::kHour, h01, 3, berlin), berlin), "2024-10-27T03");
  PeriodId h03 = *Parse(Interval::kHour, "2024-10-27T03", berlin);
  EXPECT_EQ(PeriodLabel(Interval::kHour, StepPeriod(Interval::kHour, h03, -1, berlin), berlin), "2024-10-27T02+01:00");
  EXPECT_EQ(PeriodLabel(Interval::kHour, StepPeriod(Interval::kHour, h03, -2, berlin), berlin), "2024-10-27T02");
}

TEST(DstTest, NewYorkSpringForwardAndFallBack) {
  TimeZone ny = Zone("America/New_York");
  {
    PeriodId day = *Parse(Interval::kDay, "2024-03-10", ny);
    const int64_t start = PeriodStartMs(Interval::kDay, day, ny);
    const int64_t end = PeriodEndMs(Interval::kDay, day, ny);
    EXPECT_EQ(start, Utc(2024, 3, 10, 5));
    EXPECT_EQ(end, Utc(2024, 3, 11, 4));
    std::vector<PeriodId> hours = HoursBetween(start, end, ny);
    ASSERT_EQ(hours.size(), 23u);
    EXPECT_EQ(PeriodLabel(Interval::kHour, hours[1], ny), "2024-03-10T01");
    EXPECT_EQ(PeriodLabel(Interval::kHour, hours[2], ny), "2024-03-10T03");
    for (PeriodId h : hours) EXPECT_EQ(Parse(Interval::kHour, PeriodLabel(Interval::kHour, h, ny), ny), h);
    EXPECT_EQ(Parse(Interval::kHour, "2024-03-10T02", ny), std::nullopt);
  }
  {
    PeriodId day = *Parse(Interval::kDay, "2024-11-03", ny);
    const int64_t start = PeriodStartMs(Interval::kDay, day, ny);
    const int64_t end = PeriodEndMs(Interval::kDay, day, ny);
    EXPECT_EQ(start, Utc(2024, 11, 3, 4));
    EXPECT_EQ(end, Utc(2024, 11, 4, 5));
    std::vector<PeriodId> hours = HoursBetween(start, end, ny);
    ASSERT_EQ(hours.size(), 25u);
    EXPECT_EQ(PeriodLabel(Interval::kHour, hours[1], ny), "2024-11-03T01");
    EXPECT_EQ(PeriodLabel(Interval::kHour, hours[2], ny), "2024-11-03T01-05:00");
    EXPECT_EQ(PeriodLabel(Interval::kHour, hours[3], ny), "2024-11-03T02");
    for (PeriodId h : hours) EXPECT_EQ(Parse(Interval::kHour, PeriodLabel(Interval::kHour, h, ny), ny), h);
    EXPECT_EQ(Parse(Interval::kHour, "2024-11-03T01", ny), Utc(2024, 11, 3, 5) / kMinuteMs);
    EXPECT_EQ(Parse(Interval::kHour, "2024-11-03T01-04:00", ny), Utc(2024, 11, 3, 5) / kMinuteMs);
    EXPECT_EQ(Parse(Interval::kHour, "2024-11-03T01-05:00", ny), Utc(2024, 11, 3, 6) / kMinuteMs);
  }
}

TEST(DstTest, DayWeekAndMonthOfAnInstantFollowLocalTime) {
  TimeZone berlin = Zone("Europe/Berlin");
  const int64_t t = Utc(2024, 12, 31, 23, 30);  // 2025-01-01 00:30 in Berlin
  EXPECT_EQ(LabelAt(Interval::kHour, t, berlin), "2025-01-01T00");
  EXPECT_EQ(LabelAt(Interval::kDay, t, berlin), "2025-01-01");
  EXPECT_EQ(LabelAt(Interval::kWeek, t, berlin), "2025-W01");
  EXPECT_EQ(LabelAt(Interval::kMonth, t, berlin), "2025-01");
  EXPECT_EQ(LabelAt(Interval::kQuarter, t, berlin), "2025-Q1");
  EXPECT_EQ(LabelAt(Interval::kYear, t, berlin), "2025");
  EXPECT_EQ(LabelAt(Interval::kDay, t), "2024-12-31");
  EXPECT_EQ(LabelAt(Interval::kYear, t), "2024");
  // West of UTC the local date is earlier.
  TimeZone ny = Zone("America/New_York");
  const int64_t u = Utc(2025, 1, 1, 3);  // 2024-12-31 22:00 in New York
  EXPECT_EQ(LabelAt(Interval::kHour, u, ny), "2024-12-31T22");
  EXPECT_EQ(LabelAt(Interval::kDay, u, ny), "2024-12-31");
  EXPECT_EQ(LabelAt(Interval::kMonth, u, ny), "2024-12");
  EXPECT_EQ(LabelAt(Interval::kYear, u, ny), "2024");
  // A Sunday-night instant in UTC is Monday (the next ISO week) further east.
  TimeZone tokyo = Zone("Asia/Tokyo");
  const int64_t sunday = Utc(2024, 12, 8, 20);  // Mon 2024-12-09 05:00 in Tokyo
  EXPECT_EQ(LabelAt(Interval::kWeek, sunday), "2024-W49");
  EXPECT_EQ(LabelAt(Interval::kWeek, sunday, tokyo), "2024-W50");
}

// ---------------------------------------------------------------------------
// Zones with :30 and :45 offsets

TEST(OddOffsetTest, KolkataHoursStartAtTheLocalFullHour) {
  TimeZone kolkata = Zone("Asia/Kolkata");    // +05:30
  const int64_t t = Utc(2024, 12, 4, 10, 0);  // 15:30 IST
  PeriodId hour = PeriodOf(Interval::kHour, t, kolkata);
  EXPECT_EQ(PeriodStartMs(Interval::kHour, hour, kolkata), Utc(2024, 12, 4, 9, 30));
  EXPECT_EQ(PeriodEndMs(Interval::kHour, hour, kolkata), Utc(2024, 12, 4, 10, 30));
  EXPECT_EQ(PeriodLabel(Interval::kHour, hour, kolkata), "2024-12-04T15");
  EXPECT_EQ(Parse(Interval::kHour, "2024-12-04T15", kolkata), hour);
  EXPECT_EQ(Parse(Interval::kHour, "2024-12-04T15+05:30", kolkata), hour);
  EXPECT_EQ(LabelAt(Interval::kHour, Utc(2024, 12, 4, 10, 29, 59), kolkata), "2024-12-04T15");
  EXPECT_EQ(LabelAt(Interval::kHour, Utc(2024, 12, 4, 10, 30), kolkata), "2024-12-04T16");
  PeriodId day = *Parse(Interval::kDay, "2024-12-04", kolkata);
  EXPECT_EQ(PeriodStartMs(Interval::kDay, day, kolkata), Utc(2024, 12, 3, 18, 30));
  EXPECT_EQ(PeriodEndMs(Interval::kDay, day, kolkata), Utc(2024, 12, 4, 18, 30));
  EXPECT_EQ(
      HoursBetween(PeriodStartMs(Interval::kDay, day, kolkata), PeriodEndMs(Interval::kDay, day, kolkata), kolkata)
          .size(),
      24u);
  EXPECT_EQ(LabelAt(Interval::kDay, Utc(2024, 12, 31, 18, 30), kolkata), "2025-01-01");
  EXPECT_EQ(LabelAt(Interval::kDay, Utc(2024, 12, 31, 18, 29), kolkata), "2024-12-31");
}

TEST(OddOffsetTest, KathmanduHoursStartAtTheLocalFullHour) {
  TimeZone kathmandu = Zone("Asia/Kathmandu");  // +05:45
  const int64_t t = Utc(2024, 12, 4, 10, 0);    // 15:45 NPT
  PeriodId hour = PeriodOf(Interval::kHour, t, kathmandu);
  EXPECT_EQ(PeriodStartMs(Interval::kHour, hour, kathmandu), Utc(2024, 12, 4, 9, 15));
  EXPECT_EQ(PeriodEndMs(Interval::kHour, hour, kathmandu), Utc(2024, 12, 4, 10, 15));
  EXPECT_EQ(PeriodLabel(Interval::kHour, hour, kathmandu), "2024-12-04T15");
  EXPECT_EQ(Parse(Interval::kHour, "2024-12-04T15", kathmandu), hour);
  PeriodId next = StepPeriod(Interval::kHour, hour, 1, kathmandu);
  EXPECT_EQ(PeriodStartMs(Interval::kHour, next, kathmandu), Utc(2024, 12, 4, 10, 15));
  EXPECT_EQ(PeriodLabel(Interval::kHour, next, kathmandu), "2024-12-04T16");
  PeriodId day = *Parse(Interval::kDay, "2024-12-04", kathmandu);
  EXPECT_EQ(PeriodStartMs(Interval::kDay, day, kathmandu), Utc(2024, 12, 3, 18, 15));
}

TEST(OddOffsetTest, AdelaideHalfHourZoneAcrossItsDstChange) {
  // +10:30 (ACDT) -> +09:30 (ACST) on 2024-04-07 at 03:00 local.
  TimeZone adelaide = Zone("Australia/Adelaide");
  PeriodId day = *Parse(Interval::kDay, "2024-04-07", adelaide);
  const int64_t start = PeriodStartMs(Interval::kDay, day, adelaide);
  const int64_t end = PeriodEndMs(Interval::kDay, day, adelaide);
  EXPECT_EQ(start, Utc(2024, 4, 6, 13, 30));
  EXPECT_EQ(end - start, 25 * kHourMs);
  std::vector<PeriodId> hours = HoursBetween(start, end, adelaide);
  ASSERT_EQ(hours.size(), 25u);
  EXPECT_EQ(PeriodLabel(Interval::kHour, hours[2], adelaide), "2024-04-07T02");
  EXPECT_EQ(PeriodLabel(Interval::kHour, hours[3], adelaide), "2024-04-07T02+09:30");
  for (PeriodId h : hours) {
    EXPECT_EQ(Parse(Interval::kHour, PeriodLabel(Interval::kHour, h, adelaide), adelaide), h);
  }
}

}  // namespace
}  // namespace tally::core
