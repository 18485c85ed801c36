#pragma once
// Instants of calendar dates for tests of the calendar and the counters:
// durations in milliseconds, Unix milliseconds of a UTC wall-clock time, and
// IANA zones by name. Header-only; needs tally_core (core/calendar.h).

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/calendar.h"

namespace tally::fixtures {

inline constexpr int64_t kMinuteMs = 60'000;
inline constexpr int64_t kHourMs = 3'600'000;
inline constexpr int64_t kDayMs = 86'400'000;

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
inline int64_t DaysFromCivil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<int64_t>(era) * 146097 + static_cast<int64_t>(doe) - 719468;
}

// Unix milliseconds of a UTC wall-clock time.
inline int64_t Utc(int y, unsigned m, unsigned d, int h = 0, int min = 0, int s = 0) {
  return DaysFromCivil(y, m, d) * kDayMs + h * kHourMs + min * kMinuteMs + s * 1000;
}

// The zone named `name`; an unknown name fails the test (and gives UTC).
inline core::TimeZone Zone(std::string_view name) {
  std::optional<core::TimeZone> zone = core::TimeZone::Find(name);
  if (!zone) {
    ADD_FAILURE() << "unknown zone " << name;
    return core::TimeZone::Utc();
  }
  return *zone;
}

}  // namespace tally::fixtures
