#pragma once
// Instants of calendar dates for tests of the calendar and the counters:
// durations in milliseconds, Unix milliseconds of a UTC wall-clock time, and
// IANA zones by name. Header-only; needs tally_core (core/calendar.h).

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string_view>

#include "core/billing_calendar.h"
#include "core/calendar.h"

namespace tally::fixtures {

inline constexpr int64_t kMinuteMs = 60'000;
inline constexpr int64_t kHourMs = 3'600'000;
inline constexpr int64_t kDayMs = 86'400'000;

// Days since 1970-01-01 of a proleptic Gregorian date.
inline int64_t DaysFromCivil(int y, unsigned m, unsigned d) {
  return core::DaysFromCivil(core::CivilDate{y, static_cast<int>(m), static_cast<int>(d)});
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
