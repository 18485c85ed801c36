#pragma once
// Calendar periods: which hour, day, ISO week, month, quarter and year an
// instant falls in, in an IANA time zone; their labels ("2024-12-04T10",
// "2024-12-04", "2024-W49", "2024-12", "2024-Q4", "2024", "total"); parsing and
// normalising labels; stepping from one period to the next.
//
// A period is identified by a PeriodId:
//   hour                 -> its start instant, in minutes since the Unix epoch
//                           (so DST days have 23 or 25 distinct hours, and
//                           zones with :30/:45 offsets work)
//   day, week (Monday), month, quarter, year
//                        -> the local date of its first day, in days since 1970-01-01
//   total                -> 0
// Only calendar.cc includes Howard Hinnant's date/tz (it reads /usr/share/zoneinfo).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace date {
class time_zone;
}

namespace tally::core {

enum class Interval : uint8_t { kTotal = 0, kHour = 1, kDay = 2, kWeek = 3, kMonth = 4, kQuarter = 5, kYear = 6 };
inline constexpr int kIntervalCount = 7;
inline constexpr Interval kRollupIntervals[] = {Interval::kHour,  Interval::kDay,     Interval::kWeek,
                                                Interval::kMonth, Interval::kQuarter, Interval::kYear};

std::optional<Interval> ParseInterval(std::string_view name);  // case-insensitive
std::string_view IntervalName(Interval interval);

using PeriodId = int64_t;

class TimeZone {
 public:
  // nullopt for an unknown IANA name.
  static std::optional<TimeZone> Find(std::string_view name);
  static TimeZone Utc();
  const std::string& name() const;
  const date::time_zone* zone() const { return zone_; }
  bool operator==(const TimeZone& other) const { return zone_ == other.zone_; }

 private:
  explicit TimeZone(const date::time_zone* zone) : zone_(zone) {}
  const date::time_zone* zone_;
};

PeriodId PeriodOf(Interval interval, int64_t unix_ms, const TimeZone& tz);
// PeriodOf of every rollup interval (kRollupIntervals order) for an instant:
// the cells one event lands in. Cached per thread for the last local hour of
// a few zones, so the hot path reads the zone database once an hour.
void PeriodsOf(int64_t unix_ms, const TimeZone& tz, PeriodId (&periods)[6]);
std::string PeriodLabel(Interval interval, PeriodId period, const TimeZone& tz);
// Start and end (exclusive) of the period, Unix milliseconds.
int64_t PeriodStartMs(Interval interval, PeriodId period, const TimeZone& tz);
int64_t PeriodEndMs(Interval interval, PeriodId period, const TimeZone& tz);
// The period `steps` periods later (negative: earlier).
PeriodId StepPeriod(Interval interval, PeriodId period, int64_t steps, const TimeZone& tz);

// Parses a period argument for `interval`: "current", the interval's own label,
// or a finer date label inside it ("2024-12-04" for a month names 2024-12).
// Hour labels may carry an offset ("2024-10-27T02+01:00") to pick one of the
// two hours a DST fall-back repeats; without one, the earlier is meant. On
// failure returns false with a message naming the problem.
bool ParsePeriod(Interval interval, std::string_view label, const TimeZone& tz, int64_t now_ms, PeriodId* period,
                 std::string* error);

}  // namespace tally::core
