#pragma once
// A fixture for counter engine tests: the shared EngineFixture (a real RocksDB
// data dir on RAM, a ManualClock: rollover and dedupe expiry never sleep)
// with helpers that read like the CTR.* commands, and the restart modes so
// that one test body checks live state, compacted state, log replay and
// their mix.

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "civil_time.h"
#include "core/calendar.h"
#include "core/engine.h"
#include "engine_fixture.h"

namespace tally::core::counters_test {

using fixtures::AllRestartModes;
using fixtures::DaysFromCivil;
using fixtures::kDayMs;
using fixtures::kHourMs;
using fixtures::kMinuteMs;
using fixtures::RestartMode;
using fixtures::RestartModeName;
using fixtures::RestartModeParamName;
using fixtures::Utc;
using fixtures::Zone;

class CounterFixture : public fixtures::EngineFixture {
 public:
  // 2024-06-15T12:20:00Z, a Saturday in June (Q2, ISO week 2024-W24).
  static constexpr int64_t kStartMs = 1'718'454'000'000;

  CounterFixture() : EngineFixture(kStartMs) {}

  // CTR.INCRBY; returns the new total (or the current one for a duplicate).
  int64_t Incr(std::string_view owner, std::string_view key, int64_t delta, std::optional<int64_t> at = std::nullopt,
               std::string_view id = {}, bool* duplicate = nullptr) {
    OpResult<IncrementResult> r = TryIncr(owner, key, delta, at, id);
    EXPECT_TRUE(r.ok()) << "INCRBY " << owner << " " << key << " " << delta << " status " << static_cast<int>(r.status);
    if (duplicate != nullptr) *duplicate = r.value.duplicate;
    return r.value.total;
  }
  // CTR.INCRBY that may fail: the whole result.
  OpResult<IncrementResult> TryIncr(std::string_view owner, std::string_view key, int64_t delta,
                                    std::optional<int64_t> at = std::nullopt, std::string_view id = {}) {
    CounterIncrement increment;
    increment.owner = owner;
    increment.key = key;
    increment.delta = delta;
    increment.event_ms = at.value_or(clock_.NowMs());
    increment.event_id = id;
    increment.at_given = at.has_value();
    return engine_->counters().Increment(increment);
  }

  TimeZone ZoneFor(std::string_view owner) { return engine_->owners().TimeZoneOf(owner); }

  // The cell of `interval` that contains instant `at` (default now), in the owner's zone.
  int64_t CellAt(std::string_view owner, std::string_view key, Interval interval,
                 std::optional<int64_t> at = std::nullopt) {
    return Cell(owner, key, interval, PeriodOf(interval, at.value_or(clock_.NowMs()), ZoneFor(owner)));
  }
  int64_t Cell(std::string_view owner, std::string_view key, Interval interval, PeriodId period) {
    OpResult<int64_t> r = engine_->counters().ReadCell(owner, key, interval, period);
    EXPECT_TRUE(r.ok());
    return r.value;
  }
  // A cell named by its label ("2024-06", "current", ...), in the owner's zone.
  int64_t CellOf(std::string_view owner, std::string_view key, Interval interval, std::string_view label) {
    return Cell(owner, key, interval, Period(owner, interval, label));
  }
  PeriodId Period(std::string_view owner, Interval interval, std::string_view label) {
    PeriodId period = 0;
    std::string error;
    EXPECT_TRUE(ParsePeriod(interval, label, ZoneFor(owner), clock_.NowMs(), &period, &error)) << error;
    return period;
  }
  int64_t Total(std::string_view owner, std::string_view key) { return Cell(owner, key, Interval::kTotal, 0); }

  void Assign(std::string_view owner, std::string_view key, const std::vector<CellAssignment>& cells) {
    OpResult<bool> r = engine_->counters().AssignCells(owner, key, cells);
    ASSERT_TRUE(r.ok());
  }
  int64_t Delete(std::string_view owner, std::string_view key, std::optional<Interval> interval = std::nullopt) {
    OpResult<int64_t> r = engine_->counters().DeleteCells(owner, key, interval);
    EXPECT_TRUE(r.ok());
    return r.value;
  }
  int64_t Sum(std::string_view owner, std::string_view key, Interval interval) {
    OpResult<int64_t> r = engine_->counters().SumCells(owner, key, interval, std::nullopt, std::nullopt);
    EXPECT_TRUE(r.ok());
    return r.value;
  }
  // Values of periods [from, to] (labels), oldest first.
  std::vector<int64_t> Range(std::string_view owner, std::string_view key, Interval interval, std::string_view from,
                             std::string_view to) {
    auto r =
        engine_->counters().ReadRange(owner, key, interval, Period(owner, interval, from), Period(owner, interval, to));
    EXPECT_TRUE(r.ok());
    std::vector<int64_t> values;
    for (const auto& [period, value] : r.value) values.push_back(value);
    return values;
  }
  // Top as "owner=value" strings, easy to compare.
  std::vector<std::string> TopOf(std::string_view key, Interval interval, PeriodId period, size_t limit = 100,
                                 std::string_view prefix = {}) {
    std::vector<std::string> out;
    for (const RankedOwner& r : engine_->counters().Top(key, interval, period, limit, prefix)) {
      out.push_back(r.owner + "=" + std::to_string(r.value));
    }
    return out;
  }
  // Every owner with `prefix`, walking the cursor `count` at a time; `pages` receives the page count.
  std::vector<std::string> AllOwners(std::string_view prefix, size_t count, int* pages = nullptr) {
    std::vector<std::string> all;
    std::string cursor;
    int n = 0;
    do {
      OwnersPage page = engine_->owners().List(prefix, cursor, count);
      EXPECT_LE(page.owners.size(), count);
      all.insert(all.end(), page.owners.begin(), page.owners.end());
      cursor = page.next_cursor;
      if (++n > 1000) break;
    } while (!cursor.empty());
    if (pages != nullptr) *pages = n;
    return all;
  }
};

class CounterTest : public ::testing::Test, public CounterFixture {
 protected:
  void SetUp() override { Open(); }
};

// The same body under every restart mode.
class CounterModeTest : public ::testing::TestWithParam<RestartMode>, public CounterFixture {
 protected:
  void SetUp() override { Open(); }
  void Restart() { Checkpoint(GetParam()); }
};

}  // namespace tally::core::counters_test
