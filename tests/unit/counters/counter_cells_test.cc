// CountersModule::OwnerCells (CTR.CELLS: the admin table and export): every cell of
// an owner that holds a value, in (key, interval, period) order, whether it
// is hot, cold, compacted or replayed — under every restart mode.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "counter_test_util.h"

namespace tally::core::counters_test {
namespace {

using OwnerCellsTest = CounterModeTest;

// Cells as "key interval period=value" strings, labels in the owner's zone.
std::vector<std::string> Rows(CounterFixture& f, std::string_view owner, const CellFilter& filter = {}) {
  auto result = f.engine_->counters().OwnerCells(owner, filter);
  EXPECT_TRUE(result.ok());
  std::vector<std::string> out;
  TimeZone zone = f.ZoneFor(owner);
  for (const CellRow& row : result.value) {
    out.push_back(row.key + " " + std::string(IntervalName(row.interval)) + " " +
                  PeriodLabel(row.interval, row.period, zone) + "=" + std::to_string(row.value));
  }
  return out;
}

TEST_P(OwnerCellsTest, ListsEveryCellOfEveryKeyInOrder) {
  Incr("user:1", "downloads", 3);
  Incr("user:1", "downloads", 2, Utc(2024, 6, 14, 9));  // a late event: yesterday, hour 09
  Incr("user:1", "api", 1);
  Incr("user:2", "downloads", 100);  // another owner: not listed
  Restart();
  const std::vector<std::string> expected = {
      "api total total=1",
      "api hour 2024-06-15T12=1",
      "api day 2024-06-15=1",
      "api week 2024-W24=1",
      "api month 2024-06=1",
      "api quarter 2024-Q2=1",
      "api year 2024=1",
      "downloads total total=5",
      "downloads hour 2024-06-14T09=2",
      "downloads hour 2024-06-15T12=3",
      "downloads day 2024-06-14=2",
      "downloads day 2024-06-15=3",
      "downloads week 2024-W24=5",
      "downloads month 2024-06=5",
      "downloads quarter 2024-Q2=5",
      "downloads year 2024=5",
  };
  EXPECT_EQ(Rows(*this, "user:1"), expected);
  Restart();
  EXPECT_EQ(Rows(*this, "user:1"), expected);
}

TEST_P(OwnerCellsTest, FiltersByKeyIntervalAndPeriod) {
  Incr("user:1", "downloads", 3);
  Incr("user:1", "downloads", 2, Utc(2024, 6, 14, 9));
  Incr("user:1", "api", 1);
  Restart();
  EXPECT_EQ(Rows(*this, "user:1", {"api", std::nullopt, std::nullopt}),
            (std::vector<std::string>{"api total total=1", "api hour 2024-06-15T12=1", "api day 2024-06-15=1",
                                      "api week 2024-W24=1", "api month 2024-06=1", "api quarter 2024-Q2=1",
                                      "api year 2024=1"}));
  EXPECT_EQ(
      Rows(*this, "user:1", {"", Interval::kDay, std::nullopt}),
      (std::vector<std::string>{"api day 2024-06-15=1", "downloads day 2024-06-14=2", "downloads day 2024-06-15=3"}));
  EXPECT_EQ(Rows(*this, "user:1", {"", Interval::kDay, Period("user:1", Interval::kDay, "2024-06-14")}),
            (std::vector<std::string>{"downloads day 2024-06-14=2"}));
  EXPECT_EQ(Rows(*this, "user:1", {"downloads", Interval::kTotal, std::nullopt}),
            (std::vector<std::string>{"downloads total total=5"}));
  EXPECT_TRUE(Rows(*this, "user:1", {"nothing", std::nullopt, std::nullopt}).empty());
  EXPECT_TRUE(Rows(*this, "user:404").empty());
}

TEST_P(OwnerCellsTest, SetResetAndDeleteAreReflected) {
  Incr("user:1", "downloads", 3);
  Incr("user:1", "api", 4);
  Restart();
  Assign("user:1", "downloads", {{Interval::kMonth, Period("user:1", Interval::kMonth, "2024-05"), 40}});
  Assign("user:1", "api", {{Interval::kTotal, 0, 0}});
  Delete("user:1", "api", Interval::kHour);
  Restart();
  std::vector<std::string> rows = Rows(*this, "user:1");
  EXPECT_EQ(rows, (std::vector<std::string>{
                      "api day 2024-06-15=4", "api week 2024-W24=4", "api month 2024-06=4", "api quarter 2024-Q2=4",
                      "api year 2024=4", "downloads total total=3", "downloads hour 2024-06-15T12=3",
                      "downloads day 2024-06-15=3", "downloads week 2024-W24=3", "downloads month 2024-05=40",
                      "downloads month 2024-06=3", "downloads quarter 2024-Q2=3", "downloads year 2024=3"}));
  Delete("user:1", "downloads");
  Restart();
  EXPECT_EQ(Rows(*this, "user:1", {"downloads", std::nullopt, std::nullopt}), std::vector<std::string>{});
}

TEST_P(OwnerCellsTest, CellsOfPastPeriodsAfterRollover) {
  Incr("user:1", "downloads", 1);
  Restart();
  clock_.Advance(kDayMs);  // 2024-06-16T12: the hour and day cells roll over
  Incr("user:1", "downloads", 2);
  Restart();
  EXPECT_EQ(Rows(*this, "user:1", {"", Interval::kDay, std::nullopt}),
            (std::vector<std::string>{"downloads day 2024-06-15=1", "downloads day 2024-06-16=2"}));
  EXPECT_EQ(Rows(*this, "user:1", {"", Interval::kHour, std::nullopt}),
            (std::vector<std::string>{"downloads hour 2024-06-15T12=1", "downloads hour 2024-06-16T12=2"}));
}

INSTANTIATE_TEST_SUITE_P(Modes, OwnerCellsTest, AllRestartModes(), RestartModeParamName);

}  // namespace
}  // namespace tally::core::counters_test
