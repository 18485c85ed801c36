// Counter engine semantics (docs/counters.md): one increment
// updates the total and every interval cell; rollover; late events; SET and
// RECOUNT; DEL; ranges and sums; TOP; OWNERS; owner time zones; event id
// dedupe; overflow. Every TEST_P runs its body under each restart mode
// (live, compacted, replayed, compacted + reopened, mixed), with Restart()
// between the phases, so each behaviour is also checked to survive recovery.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "counter_test_util.h"

namespace tally::core::counters_test {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

using Strs = std::vector<std::string>;

TEST(CounterFixtureTest, StartIsASaturdayAfternoonInJune) {
  EXPECT_EQ(CounterFixture::kStartMs, Utc(2024, 6, 15, 12, 20));
  EXPECT_EQ(PeriodLabel(Interval::kWeek, PeriodOf(Interval::kWeek, CounterFixture::kStartMs, TimeZone::Utc()),
                        TimeZone::Utc()),
            "2024-W24");
}

// Names applications already have: Laravel morph names, e-mail addresses,
// paths, auth0 ids, Redis hash tags, URL-ish text.
TEST(NameTest, NamesApplicationsAlreadyHaveAreValid) {
  for (const char* name : {"App\\Models\\Post:1", "ada+billing@example.com", "team/42/project/7", "auth0|5f7c8ec7",
                           "user{42}", "tenant=acme;plan=pro", "page?id=7#top", "100%", "(a)[b]!*~^$&"}) {
    EXPECT_TRUE(ValidName(name)) << name;
  }
}

// Exactly the printable ASCII bytes 0x21-0x7E, minus , " ' ` < >; nothing
// else, one byte at a time.
TEST(NameTest, EveryByteOneByOne) {
  const std::string refused = ",\"'`<>";
  for (int byte = 0; byte < 256; ++byte) {
    const char c = static_cast<char>(byte);
    const bool expected = byte >= 0x21 && byte <= 0x7e && refused.find(c) == std::string::npos;
    EXPECT_EQ(ValidName(std::string(1, c)), expected) << "byte " << byte;
    EXPECT_EQ(ValidName("user:" + std::string(1, c) + ":1"), expected) << "byte " << byte << " inside a name";
  }
}

TEST(NameTest, OwnerAndKeyNames) {
  EXPECT_TRUE(ValidName("user:42"));
  EXPECT_TRUE(ValidName("ai_response.tokens"));
  EXPECT_TRUE(ValidName("a@b-c.d:E_9"));
  EXPECT_TRUE(ValidName(std::string(128, 'x')));
  EXPECT_FALSE(ValidName(""));
  EXPECT_FALSE(ValidName(std::string(129, 'x')));
  EXPECT_FALSE(ValidName("user 42"));
  EXPECT_FALSE(ValidName("user,42"));
  EXPECT_FALSE(ValidName("ü"));
  EXPECT_FALSE(ValidName(std::string("a\0b", 3)));
  EXPECT_TRUE(ValidEventId("req-7f3a"));
  EXPECT_TRUE(ValidEventId("{json:\"ok\"}"));
  EXPECT_FALSE(ValidEventId(""));
  EXPECT_FALSE(ValidEventId("has space"));
  EXPECT_FALSE(ValidEventId(std::string(129, 'x')));
}

// ---------------------------------------------------------------------------
// Increments and rollups

using IncrementTest = CounterModeTest;

TEST_P(IncrementTest, UpdatesTheTotalAndEveryIntervalCell) {
  EXPECT_EQ(Incr("user:42", "downloads", 3), 3);
  EXPECT_EQ(Incr("user:42", "downloads", 4), 7);
  auto check = [&](int64_t expected) {
    EXPECT_EQ(Total("user:42", "downloads"), expected);
    for (Interval interval : kRollupIntervals) {
      EXPECT_EQ(CellAt("user:42", "downloads", interval), expected) << IntervalName(interval);
      EXPECT_EQ(CellOf("user:42", "downloads", interval, "current"), expected) << IntervalName(interval);
    }
    EXPECT_EQ(CellOf("user:42", "downloads", Interval::kHour, "2024-06-15T12"), expected);
    EXPECT_EQ(CellOf("user:42", "downloads", Interval::kDay, "2024-06-15"), expected);
    EXPECT_EQ(CellOf("user:42", "downloads", Interval::kWeek, "2024-W24"), expected);
    EXPECT_EQ(CellOf("user:42", "downloads", Interval::kMonth, "2024-06"), expected);
    EXPECT_EQ(CellOf("user:42", "downloads", Interval::kQuarter, "2024-Q2"), expected);
    EXPECT_EQ(CellOf("user:42", "downloads", Interval::kYear, "2024"), expected);
    // Neighbouring periods, other keys and other owners are untouched.
    EXPECT_EQ(CellOf("user:42", "downloads", Interval::kHour, "2024-06-15T11"), 0);
    EXPECT_EQ(CellOf("user:42", "downloads", Interval::kHour, "2024-06-15T13"), 0);
    EXPECT_EQ(CellOf("user:42", "downloads", Interval::kDay, "2024-06-14"), 0);
    EXPECT_EQ(CellOf("user:42", "downloads", Interval::kWeek, "2024-W23"), 0);
    EXPECT_EQ(CellOf("user:42", "downloads", Interval::kMonth, "2024-07"), 0);
    EXPECT_EQ(CellOf("user:42", "downloads", Interval::kYear, "2023"), 0);
    EXPECT_EQ(Total("user:42", "uploads"), 0);
    EXPECT_EQ(Total("user:43", "downloads"), 0);
  };
  check(7);
  Restart();
  check(7);
  EXPECT_EQ(Incr("user:42", "downloads", 1), 8);
  check(8);
  Restart();
  check(8);
  EXPECT_EQ(Incr("user:42", "downloads", -10), -2);  // DECRBY
  check(-2);
  Restart();
  check(-2);
}

TEST_P(IncrementTest, ManyKeysOfOneOwnerAndManyOwnersOfOneKey) {
  for (int i = 0; i < 20; ++i) {
    Incr("user:1", "k" + std::to_string(i), i + 1);
    if (i == 10) Restart();  // half before, half after the first checkpoint
    Incr("user:" + std::to_string(100 + i), "shared", 2 * i + 1);
  }
  Restart();
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(Total("user:1", "k" + std::to_string(i)), i + 1);
    EXPECT_EQ(CellAt("user:1", "k" + std::to_string(i), Interval::kDay), i + 1);
    EXPECT_EQ(Total("user:" + std::to_string(100 + i), "shared"), 2 * i + 1);
    EXPECT_EQ(CellAt("user:" + std::to_string(100 + i), "shared", Interval::kMonth), 2 * i + 1);
  }
  auto cells =
      engine_->counters().ReadOwnerCells("user:1", Interval::kDay, Period("user:1", Interval::kDay, "current"));
  ASSERT_TRUE(cells.ok());
  ASSERT_EQ(cells.value.size(), 20u);
  EXPECT_EQ(cells.value[0].first, "k0");  // sorted by key
  EXPECT_EQ(cells.value[1].first, "k1");
  EXPECT_EQ(cells.value[2].first, "k10");
  EXPECT_EQ(cells.value[2].second, 11);
}

TEST_P(IncrementTest, RolloverToTheNextHourDayAndMonth) {
  clock_.Set(Utc(2024, 1, 31, 23, 30));  // Wednesday of 2024-W05
  EXPECT_EQ(Incr("user:1", "hits", 5), 5);
  Restart();
  clock_.Advance(kHourMs);  // 2024-02-01T00:30
  EXPECT_EQ(Incr("user:1", "hits", 2), 7);
  auto check = [&](int64_t later) {  // `later`: what came after 2024-02-01T00
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kHour, "2024-01-31T23"), 5);
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kHour, "2024-02-01T00"), 2);
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kDay, "2024-01-31"), 5);
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kDay, "2024-02-01"), 2 + later);
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kWeek, "2024-W05"), 7 + later);
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kMonth, "2024-01"), 5);
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kMonth, "2024-02"), 2 + later);
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kQuarter, "2024-Q1"), 7 + later);
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kYear, "2024"), 7 + later);
    EXPECT_EQ(Total("user:1", "hits"), 7 + later);
  };
  check(0);
  Restart();
  check(0);
  // Hours pass without events: they stay empty; the next event lands in its own hour.
  clock_.Advance(2 * kHourMs);  // 02:30
  EXPECT_EQ(CellAt("user:1", "hits", Interval::kHour), 0);
  EXPECT_EQ(CellOf("user:1", "hits", Interval::kHour, "current"), 0);
  EXPECT_EQ(CellAt("user:1", "hits", Interval::kDay), 2);
  EXPECT_EQ(Incr("user:1", "hits", 1), 8);
  Restart();
  check(1);
  EXPECT_EQ(CellOf("user:1", "hits", Interval::kHour, "2024-02-01T01"), 0);
  EXPECT_EQ(CellOf("user:1", "hits", Interval::kHour, "2024-02-01T02"), 1);
  // Days later, a new week and month.
  clock_.Set(Utc(2024, 3, 4, 8));  // Monday of 2024-W10
  EXPECT_EQ(Incr("user:1", "hits", 10), 18);
  Restart();
  EXPECT_EQ(CellOf("user:1", "hits", Interval::kWeek, "2024-W05"), 8);
  EXPECT_EQ(CellOf("user:1", "hits", Interval::kWeek, "2024-W10"), 10);
  EXPECT_EQ(CellOf("user:1", "hits", Interval::kMonth, "2024-02"), 3);
  EXPECT_EQ(CellOf("user:1", "hits", Interval::kMonth, "2024-03"), 10);
  EXPECT_EQ(CellOf("user:1", "hits", Interval::kQuarter, "2024-Q1"), 18);
  EXPECT_EQ(Total("user:1", "hits"), 18);
}

TEST_P(IncrementTest, YearEndRollsEveryInterval) {
  clock_.Set(Utc(2024, 12, 31, 23, 59, 59) + 999);
  EXPECT_EQ(Incr("user:1", "hits", 1), 1);
  Restart();
  clock_.Set(Utc(2025, 1, 1));
  EXPECT_EQ(Incr("user:1", "hits", 10), 11);
  auto check = [&] {
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kHour, "2024-12-31T23"), 1);
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kHour, "2025-01-01T00"), 10);
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kDay, "2024-12-31"), 1);
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kDay, "2025-01-01"), 10);
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kWeek, "2025-W01"), 11);  // Tue and Wed of one ISO week
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kMonth, "2024-12"), 1);
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kMonth, "2025-01"), 10);
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kQuarter, "2024-Q4"), 1);
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kQuarter, "2025-Q1"), 10);
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kYear, "2024"), 1);
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kYear, "2025"), 10);
    EXPECT_EQ(Total("user:1", "hits"), 11);
  };
  check();
  Restart();
  check();
}

TEST_P(IncrementTest, LateEventsLandInTheirOwnPeriods) {
  EXPECT_EQ(Incr("user:1", "hits", 1), 1);                                // now: Sat 2024-06-15T12
  EXPECT_EQ(Incr("user:1", "hits", 10, Utc(2024, 6, 13, 9, 5)), 11);      // Thursday, same week
  EXPECT_EQ(Incr("user:1", "hits", 100, Utc(2024, 5, 31, 23, 59)), 111);  // Friday of 2024-W22, May
  auto check = [&](int64_t thursday) {
    EXPECT_EQ(Total("user:1", "hits"), 111 + thursday - 10);
    EXPECT_EQ(CellAt("user:1", "hits", Interval::kHour), 1);  // current hour and day: only the live event
    EXPECT_EQ(CellAt("user:1", "hits", Interval::kDay), 1);
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kHour, "2024-06-13T09"), thursday);
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kHour, "2024-06-13T10"), 0);
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kDay, "2024-06-13"), thursday);
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kDay, "2024-05-31"), 100);
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kDay, "2024-06-01"), 0);
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kWeek, "2024-W24"), 1 + thursday);
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kWeek, "2024-W22"), 100);
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kMonth, "2024-06"), 1 + thursday);
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kMonth, "2024-05"), 100);
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kQuarter, "2024-Q2"), 101 + thursday);
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kYear, "2024"), 101 + thursday);
  };
  check(10);
  Restart();
  check(10);
  // Another late event adds to the (now stored) past cell.
  EXPECT_EQ(Incr("user:1", "hits", 5, Utc(2024, 6, 13, 9, 59)), 116);
  check(15);
  Restart();
  check(15);
}

TEST_P(IncrementTest, ALateEventInTheHourThatJustRolledOver) {
  EXPECT_EQ(Incr("user:1", "hits", 1), 1);  // 12:20
  clock_.Advance(kHourMs);                  // 13:20
  EXPECT_EQ(Incr("user:1", "hits", 2), 3);
  Restart();
  EXPECT_EQ(Incr("user:1", "hits", 4, Utc(2024, 6, 15, 12, 59)), 7);  // back into the 12 hour
  Restart();
  EXPECT_EQ(CellOf("user:1", "hits", Interval::kHour, "2024-06-15T12"), 5);
  EXPECT_EQ(CellOf("user:1", "hits", Interval::kHour, "2024-06-15T13"), 2);
  EXPECT_EQ(CellAt("user:1", "hits", Interval::kDay), 7);
  EXPECT_EQ(Total("user:1", "hits"), 7);
}

TEST_P(IncrementTest, AFutureEventWithinTheSkewLandsInItsPeriod) {
  clock_.Set(Utc(2024, 6, 30, 23, 58));
  EXPECT_EQ(Incr("user:1", "hits", 1), 1);
  EXPECT_EQ(Incr("user:1", "hits", 2, Utc(2024, 7, 1, 0, 2)), 3);  // 4 minutes ahead: next month, quarter
  Restart();
  EXPECT_EQ(Incr("user:1", "hits", 4), 7);
  Restart();
  EXPECT_EQ(CellOf("user:1", "hits", Interval::kMonth, "2024-06"), 5);
  EXPECT_EQ(CellOf("user:1", "hits", Interval::kMonth, "2024-07"), 2);
  EXPECT_EQ(CellOf("user:1", "hits", Interval::kQuarter, "2024-Q2"), 5);
  EXPECT_EQ(CellOf("user:1", "hits", Interval::kQuarter, "2024-Q3"), 2);
  EXPECT_EQ(Total("user:1", "hits"), 7);
  clock_.Set(Utc(2024, 7, 1, 0, 10));
  EXPECT_EQ(Incr("user:1", "hits", 8), 15);
  Restart();
  EXPECT_EQ(CellOf("user:1", "hits", Interval::kMonth, "2024-07"), 10);
  EXPECT_EQ(CellOf("user:1", "hits", Interval::kMonth, "2024-06"), 5);
}

INSTANTIATE_TEST_SUITE_P(Modes, IncrementTest, AllRestartModes(), RestartModeParamName);

// ---------------------------------------------------------------------------
// SET, RESET, RECOUNT

using AssignTest = CounterModeTest;

TEST_P(AssignTest, SetOverridesOnlyThatCellAndLaterIncrementsAddToIt) {
  Incr("user:1", "hits", 5);
  Restart();
  const PeriodId today = Period("user:1", Interval::kDay, "current");
  Assign("user:1", "hits", {{Interval::kDay, today, 100}});
  auto check = [&](int64_t day, int64_t rest) {
    EXPECT_EQ(CellAt("user:1", "hits", Interval::kDay), day);
    EXPECT_EQ(Total("user:1", "hits"), rest);
    EXPECT_EQ(CellAt("user:1", "hits", Interval::kHour), rest);
    EXPECT_EQ(CellAt("user:1", "hits", Interval::kWeek), rest);
    EXPECT_EQ(CellAt("user:1", "hits", Interval::kMonth), rest);
    EXPECT_EQ(CellAt("user:1", "hits", Interval::kYear), rest);
  };
  check(100, 5);
  Restart();
  check(100, 5);
  EXPECT_EQ(Incr("user:1", "hits", 1), 6);
  check(101, 6);
  Restart();
  check(101, 6);
}

TEST_P(AssignTest, SetOfTheTotalLeavesTheIntervalCells) {
  Incr("user:1", "hits", 5);
  Assign("user:1", "hits", {{Interval::kTotal, 0, 1000}});
  EXPECT_EQ(Total("user:1", "hits"), 1000);
  EXPECT_EQ(CellAt("user:1", "hits", Interval::kDay), 5);
  Restart();
  EXPECT_EQ(Incr("user:1", "hits", 1), 1001);
  Restart();
  EXPECT_EQ(Total("user:1", "hits"), 1001);
  EXPECT_EQ(CellAt("user:1", "hits", Interval::kDay), 6);
  EXPECT_EQ(CellAt("user:1", "hits", Interval::kYear), 6);
}

TEST_P(AssignTest, SetOfPastAndFuturePeriods) {
  Incr("user:1", "hits", 5);
  const PeriodId yesterday = Period("user:1", Interval::kDay, "2024-06-14");
  const PeriodId next_month = Period("user:1", Interval::kMonth, "2024-07");
  Assign("user:1", "hits", {{Interval::kDay, yesterday, 7}});
  Assign("user:1", "hits", {{Interval::kMonth, next_month, 3}});
  Restart();
  EXPECT_EQ(Cell("user:1", "hits", Interval::kDay, yesterday), 7);
  EXPECT_EQ(Cell("user:1", "hits", Interval::kMonth, next_month), 3);
  EXPECT_EQ(CellAt("user:1", "hits", Interval::kMonth), 5);
  EXPECT_EQ(Total("user:1", "hits"), 5);
  // A late event adds to the set value.
  EXPECT_EQ(Incr("user:1", "hits", 1, Utc(2024, 6, 14, 8)), 6);
  EXPECT_EQ(Cell("user:1", "hits", Interval::kDay, yesterday), 8);
  Restart();
  EXPECT_EQ(Cell("user:1", "hits", Interval::kDay, yesterday), 8);
  // Time reaches the month that was set ahead: increments add to it.
  clock_.Set(Utc(2024, 7, 2, 9));
  EXPECT_EQ(Incr("user:1", "hits", 2), 8);
  Restart();
  EXPECT_EQ(Cell("user:1", "hits", Interval::kMonth, next_month), 5);
  EXPECT_EQ(CellOf("user:1", "hits", Interval::kMonth, "2024-06"), 6);
  EXPECT_EQ(Total("user:1", "hits"), 8);
}

TEST_P(AssignTest, ResetSetsZero) {
  Incr("user:1", "hits", 5);
  Restart();
  Assign("user:1", "hits", {{Interval::kDay, Period("user:1", Interval::kDay, "current"), 0}});
  Assign("user:1", "hits", {{Interval::kTotal, 0, 0}});
  Restart();
  EXPECT_EQ(CellAt("user:1", "hits", Interval::kDay), 0);
  EXPECT_EQ(Total("user:1", "hits"), 0);
  EXPECT_EQ(CellAt("user:1", "hits", Interval::kHour), 5);
  EXPECT_EQ(Incr("user:1", "hits", 2), 2);
  Restart();
  EXPECT_EQ(CellAt("user:1", "hits", Interval::kDay), 2);
  EXPECT_EQ(CellAt("user:1", "hits", Interval::kHour), 7);
}

TEST_P(AssignTest, RecountSetsSeveralPeriodsAtOnce) {
  Incr("user:1", "hits", 5);  // June
  Restart();
  Assign("user:1", "hits",
         {{Interval::kMonth, Period("user:1", Interval::kMonth, "2024-04"), 50},
          {Interval::kMonth, Period("user:1", Interval::kMonth, "2024-05"), 60},
          {Interval::kMonth, Period("user:1", Interval::kMonth, "2024-06"), 70}});
  auto check = [&](int64_t june, int64_t total) {
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kMonth, "2024-04"), 50);
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kMonth, "2024-05"), 60);
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kMonth, "2024-06"), june);
    EXPECT_EQ(Total("user:1", "hits"), total);
    EXPECT_EQ(CellAt("user:1", "hits", Interval::kDay), total);
    EXPECT_EQ(CellAt("user:1", "hits", Interval::kQuarter), total);
    EXPECT_EQ(Range("user:1", "hits", Interval::kMonth, "2024-03", "2024-07"),
              (std::vector<int64_t>{0, 50, 60, june, 0}));
  };
  check(70, 5);
  Restart();
  check(70, 5);
  EXPECT_EQ(Incr("user:1", "hits", 1), 6);
  check(71, 6);
  Restart();
  check(71, 6);
  // A second recount replaces what the first one set.
  Assign("user:1", "hits",
         {{Interval::kMonth, Period("user:1", Interval::kMonth, "2024-04"), 50},
          {Interval::kMonth, Period("user:1", Interval::kMonth, "2024-05"), 60},
          {Interval::kMonth, Period("user:1", Interval::kMonth, "2024-06"), 71}});
  Assign("user:1", "hits",
         {{Interval::kDay, Period("user:1", Interval::kDay, "2024-06-01"), 9},
          {Interval::kDay, Period("user:1", Interval::kDay, "2024-06-02"), 8}});
  Restart();
  check(71, 6);
  EXPECT_EQ(Range("user:1", "hits", Interval::kDay, "2024-05-31", "2024-06-03"), (std::vector<int64_t>{0, 9, 8, 0}));
}

INSTANTIATE_TEST_SUITE_P(Modes, AssignTest, AllRestartModes(), RestartModeParamName);

// ---------------------------------------------------------------------------
// DEL

using DeleteTest = CounterModeTest;

TEST_P(DeleteTest, DeleteAllCellsReturnsHowManyExisted) {
  Incr("user:1", "hits", 1);                           // Sat 12:20
  Incr("user:1", "hits", 1, Utc(2024, 6, 14, 12, 0));  // Fri: same week, month, quarter, year
  Incr("user:2", "hits", 4);
  Restart();
  // total, hour x2, day x2, week, month, quarter, year.
  EXPECT_EQ(Delete("user:1", "hits"), 9);
  auto check_gone = [&] {
    EXPECT_EQ(Total("user:1", "hits"), 0);
    for (Interval interval : kRollupIntervals) {
      EXPECT_EQ(CellAt("user:1", "hits", interval), 0) << IntervalName(interval);
      EXPECT_EQ(CellAt("user:1", "hits", interval, Utc(2024, 6, 14, 12, 0)), 0) << IntervalName(interval);
    }
    EXPECT_EQ(Sum("user:1", "hits", Interval::kDay), 0);
    EXPECT_EQ(Total("user:2", "hits"), 4);
    EXPECT_EQ(CellAt("user:2", "hits", Interval::kDay), 4);
  };
  check_gone();
  Restart();
  check_gone();
  EXPECT_EQ(Delete("user:1", "hits"), 0) << "nothing left to delete";
  EXPECT_EQ(Incr("user:1", "hits", 2), 2);
  Restart();
  EXPECT_EQ(Total("user:1", "hits"), 2);
  EXPECT_EQ(CellAt("user:1", "hits", Interval::kDay), 2);
  EXPECT_EQ(CellAt("user:1", "hits", Interval::kWeek), 2);
  EXPECT_EQ(CellAt("user:1", "hits", Interval::kDay, Utc(2024, 6, 14, 12, 0)), 0);
  EXPECT_EQ(Delete("user:1", "hits"), 7);
}

TEST_P(DeleteTest, DeleteOneIntervalKeepsTheOthers) {
  Incr("user:1", "hits", 1);
  Incr("user:1", "hits", 1, Utc(2024, 6, 14, 12, 0));
  Restart();
  EXPECT_EQ(Delete("user:1", "hits", Interval::kDay), 2);
  auto check = [&] {
    EXPECT_EQ(CellAt("user:1", "hits", Interval::kDay), 0);
    EXPECT_EQ(CellAt("user:1", "hits", Interval::kDay, Utc(2024, 6, 14, 12, 0)), 0);
    EXPECT_EQ(CellAt("user:1", "hits", Interval::kHour), 1);
    EXPECT_EQ(CellAt("user:1", "hits", Interval::kHour, Utc(2024, 6, 14, 12, 0)), 1);
    EXPECT_EQ(CellAt("user:1", "hits", Interval::kWeek), 2);
    EXPECT_EQ(CellAt("user:1", "hits", Interval::kMonth), 2);
    EXPECT_EQ(Total("user:1", "hits"), 2);
  };
  check();
  Restart();
  check();
  EXPECT_EQ(Delete("user:1", "hits", Interval::kDay), 0);
  EXPECT_EQ(Delete("user:1", "hits", Interval::kHour), 2);
  EXPECT_EQ(Incr("user:1", "hits", 3), 5);
  Restart();
  EXPECT_EQ(CellAt("user:1", "hits", Interval::kDay), 3);
  EXPECT_EQ(CellAt("user:1", "hits", Interval::kHour), 3);
  EXPECT_EQ(CellAt("user:1", "hits", Interval::kHour, Utc(2024, 6, 14, 12, 0)), 0);
  EXPECT_EQ(CellAt("user:1", "hits", Interval::kWeek), 5);
  EXPECT_EQ(Total("user:1", "hits"), 5);
  EXPECT_EQ(Delete("user:1", "hits", Interval::kTotal), 1);
  EXPECT_EQ(Total("user:1", "hits"), 0);
  EXPECT_EQ(CellAt("user:1", "hits", Interval::kWeek), 5);
}

TEST_P(DeleteTest, DeleteCountsOnlyCellsThatWereWritten) {
  // Only the total was ever set: one cell exists, however the state is stored.
  Assign("user:1", "hits", {{Interval::kTotal, 0, 100}});
  Restart();
  EXPECT_EQ(Delete("user:1", "hits"), 1);
  // A counter with cells in one interval only.
  Assign("user:2", "hits", {{Interval::kMonth, Period("user:2", Interval::kMonth, "2024-01"), 5}});
  Restart();
  EXPECT_EQ(Delete("user:2", "hits"), 1);
  // A counter that was never written.
  EXPECT_EQ(Delete("user:3", "hits"), 0);
}

TEST_P(DeleteTest, DeletedCounterLeavesTop) {
  Incr("user:1", "hits", 5);
  Incr("user:2", "hits", 3);
  Restart();
  const PeriodId day = Period("user:1", Interval::kDay, "current");
  EXPECT_EQ(TopOf("hits", Interval::kTotal, 0), (Strs{"user:1=5", "user:2=3"}));
  EXPECT_EQ(Delete("user:1", "hits"), 7);
  EXPECT_EQ(TopOf("hits", Interval::kTotal, 0), (Strs{"user:2=3"}));
  EXPECT_EQ(TopOf("hits", Interval::kDay, day), (Strs{"user:2=3"}));
  Restart();
  EXPECT_EQ(TopOf("hits", Interval::kTotal, 0), (Strs{"user:2=3"}));
  EXPECT_EQ(TopOf("hits", Interval::kDay, day), (Strs{"user:2=3"}));
  Incr("user:1", "hits", 1);
  Restart();
  EXPECT_EQ(TopOf("hits", Interval::kTotal, 0), (Strs{"user:2=3", "user:1=1"}));
}

INSTANTIATE_TEST_SUITE_P(Modes, DeleteTest, AllRestartModes(), RestartModeParamName);

// ---------------------------------------------------------------------------
// HISTORY / SUM

using RangeTest = CounterModeTest;

TEST_P(RangeTest, RangesHaveZerosForGapsAndSumsAddEveryPeriod) {
  Incr("user:1", "hits", 1, Utc(2024, 6, 10, 8));   // Monday
  Incr("user:1", "hits", 2, Utc(2024, 6, 13, 22));  // Thursday
  Incr("user:1", "hits", 3);                        // Saturday 12:20
  auto check = [&](int64_t january) {
    EXPECT_EQ(Range("user:1", "hits", Interval::kDay, "2024-06-09", "2024-06-15"),
              (std::vector<int64_t>{0, 1, 0, 0, 2, 0, 3}));
    EXPECT_EQ(Range("user:1", "hits", Interval::kDay, "2024-06-15", "2024-06-17"), (std::vector<int64_t>{3, 0, 0}));
    EXPECT_EQ(Range("user:1", "hits", Interval::kHour, "2024-06-13T21", "2024-06-13T23"),
              (std::vector<int64_t>{0, 2, 0}));
    EXPECT_EQ(Range("user:1", "hits", Interval::kHour, "2024-06-15T10", "2024-06-15T12"),
              (std::vector<int64_t>{0, 0, 3}));
    EXPECT_EQ(Range("user:1", "hits", Interval::kWeek, "2024-W23", "2024-W25"), (std::vector<int64_t>{0, 6, 0}));
    EXPECT_EQ(Range("user:1", "hits", Interval::kMonth, "2024-01", "2024-06"),
              (std::vector<int64_t>{january, 0, 0, 0, 0, 6}));
    EXPECT_EQ(Range("user:1", "hits", Interval::kQuarter, "2024-Q1", "2024-Q3"), (std::vector<int64_t>{0, 6, 0}));
    EXPECT_EQ(Range("user:1", "hits", Interval::kYear, "2023", "2024"), (std::vector<int64_t>{0, 6}));
    EXPECT_EQ(Sum("user:1", "hits", Interval::kTotal), 6);
    EXPECT_EQ(Sum("user:1", "hits", Interval::kHour), 6);
    EXPECT_EQ(Sum("user:1", "hits", Interval::kDay), 6);
    EXPECT_EQ(Sum("user:1", "hits", Interval::kWeek), 6);
    EXPECT_EQ(Sum("user:1", "hits", Interval::kMonth), 6 + january);
    EXPECT_EQ(Sum("user:1", "hits", Interval::kYear), 6);
    EXPECT_EQ(Sum("user:2", "hits", Interval::kDay), 0);
  };
  check(0);
  Restart();
  check(0);
  Assign("user:1", "hits", {{Interval::kMonth, Period("user:1", Interval::kMonth, "2024-01"), 10}});
  check(10);
  Restart();
  check(10);
  clock_.Set(Utc(2024, 6, 17, 9));  // the next Monday
  Incr("user:1", "hits", 4);
  Restart();
  EXPECT_EQ(Range("user:1", "hits", Interval::kDay, "2024-06-14", "2024-06-17"), (std::vector<int64_t>{0, 3, 0, 4}));
  EXPECT_EQ(Range("user:1", "hits", Interval::kWeek, "2024-W24", "2024-W25"), (std::vector<int64_t>{6, 4}));
  EXPECT_EQ(Sum("user:1", "hits", Interval::kDay), 10);
  EXPECT_EQ(Sum("user:1", "hits", Interval::kMonth), 20);
}

TEST_P(RangeTest, RangeOverDstDaysInTheOwnersZone) {
  ASSERT_TRUE(engine_->owners().SetTimeZone("user:1", Zone("Europe/Berlin")).ok());
  clock_.Set(Utc(2024, 10, 27, 2, 30));                 // 03:30 CET, after the fall-back
  Incr("user:1", "hits", 1, Utc(2024, 10, 27, 0, 30));  // first 02:00-03:00 (CEST)
  Restart();
  Incr("user:1", "hits", 2, Utc(2024, 10, 27, 1, 30));  // second 02:00-03:00 (CET)
  Incr("user:1", "hits", 4);
  Restart();
  EXPECT_EQ(Range("user:1", "hits", Interval::kHour, "2024-10-27T01", "2024-10-27T04"),
            (std::vector<int64_t>{0, 1, 2, 4, 0}));
  EXPECT_EQ(CellOf("user:1", "hits", Interval::kHour, "2024-10-27T02"), 1);
  EXPECT_EQ(CellOf("user:1", "hits", Interval::kHour, "2024-10-27T02+01:00"), 2);
  EXPECT_EQ(CellOf("user:1", "hits", Interval::kDay, "2024-10-27"), 7);
  EXPECT_EQ(Sum("user:1", "hits", Interval::kHour), 7);
}

INSTANTIATE_TEST_SUITE_P(Modes, RangeTest, AllRestartModes(), RestartModeParamName);

// ---------------------------------------------------------------------------
// TOP and OWNERS

using TopTest = CounterModeTest;

TEST_P(TopTest, HighestFirstTiesByOwnerWithLimitAndPrefix) {
  Incr("user:a", "downloads", 5);
  Incr("user:b", "downloads", 9);
  Incr("user:c", "downloads", 5);
  Restart();
  Incr("user:d", "downloads", 1);
  Incr("user:e", "downloads", 9);
  Incr("org:x", "downloads", 20);
  Incr("user:neg", "downloads", -3);
  Incr("user:zero", "downloads", 5);
  Incr("user:zero", "downloads", -5);
  Incr("user:z", "uploads", 100);
  Incr("user:old", "downloads", 50, Utc(2024, 5, 1, 10));  // May only
  const PeriodId today = Period("user:a", Interval::kDay, "current");
  const PeriodId june = Period("user:a", Interval::kMonth, "2024-06");
  const PeriodId may = Period("user:a", Interval::kMonth, "2024-05");
  auto check = [&] {
    EXPECT_EQ(TopOf("downloads", Interval::kTotal, 0), (Strs{"user:old=50", "org:x=20", "user:b=9", "user:e=9",
                                                             "user:a=5", "user:c=5", "user:d=1", "user:neg=-3"}));
    EXPECT_EQ(TopOf("downloads", Interval::kDay, today),
              (Strs{"org:x=20", "user:b=9", "user:e=9", "user:a=5", "user:c=5", "user:d=1", "user:neg=-3"}));
    EXPECT_EQ(TopOf("downloads", Interval::kMonth, june, 3), (Strs{"org:x=20", "user:b=9", "user:e=9"}));
    EXPECT_EQ(TopOf("downloads", Interval::kMonth, june, 4, "user:"),
              (Strs{"user:b=9", "user:e=9", "user:a=5", "user:c=5"}));
    EXPECT_EQ(TopOf("downloads", Interval::kMonth, may), (Strs{"user:old=50"}));
    EXPECT_EQ(TopOf("downloads", Interval::kTotal, 0, 1, "org:"), (Strs{"org:x=20"}));
    EXPECT_EQ(TopOf("downloads", Interval::kTotal, 0, 10, "user:n"), (Strs{"user:neg=-3"}));
    EXPECT_TRUE(TopOf("downloads", Interval::kTotal, 0, 10, "nobody:").empty());
    EXPECT_TRUE(TopOf("downloads", Interval::kTotal, 0, 0).empty());
    EXPECT_TRUE(TopOf("nothing", Interval::kTotal, 0).empty());
    EXPECT_EQ(TopOf("uploads", Interval::kTotal, 0), (Strs{"user:z=100"}));
  };
  check();
  Restart();
  check();
  Incr("user:d", "downloads", 10);
  Restart();
  EXPECT_EQ(TopOf("downloads", Interval::kDay, today, 2), (Strs{"org:x=20", "user:d=11"}));
  EXPECT_EQ(TopOf("downloads", Interval::kTotal, 0, 3), (Strs{"user:old=50", "org:x=20", "user:d=11"}));
}

TEST_P(TopTest, TopSeesSetAndLateValues) {
  Incr("user:a", "hits", 5);
  Incr("user:b", "hits", 3);
  Restart();
  const PeriodId yesterday = Period("user:a", Interval::kDay, "2024-06-14");
  Assign("user:b", "hits", {{Interval::kTotal, 0, 100}});
  Incr("user:a", "hits", 7, Utc(2024, 6, 14, 9));
  EXPECT_EQ(TopOf("hits", Interval::kTotal, 0), (Strs{"user:b=100", "user:a=12"}));
  EXPECT_EQ(TopOf("hits", Interval::kDay, yesterday), (Strs{"user:a=7"}));
  Restart();
  EXPECT_EQ(TopOf("hits", Interval::kTotal, 0), (Strs{"user:b=100", "user:a=12"}));
  EXPECT_EQ(TopOf("hits", Interval::kDay, yesterday), (Strs{"user:a=7"}));
}

INSTANTIATE_TEST_SUITE_P(Modes, TopTest, AllRestartModes(), RestartModeParamName);

using OwnersTest = CounterModeTest;

TEST_P(OwnersTest, PagesThroughOwnersWithACursor) {
  auto user = [](int i) { return std::string("user:") + (i < 10 ? "0" : "") + std::to_string(i); };
  for (int i = 0; i < 25; i += 2) Incr(user(i), "hits", 1);
  Incr("org:2", "hits", 1);
  Restart();
  for (int i = 1; i < 25; i += 2) Incr(user(i), "hits", 1);
  Incr("org:1", "hits", 1);
  Incr("team:x", "other", 1);
  auto check = [&] {
    std::vector<std::string> users;
    for (int i = 0; i < 25; ++i) users.push_back(user(i));
    int pages = 0;
    EXPECT_EQ(AllOwners("user:", 10, &pages), users);
    EXPECT_EQ(pages, 3);
    EXPECT_EQ(AllOwners("user:", 5, &pages), users);
    EXPECT_EQ(pages, 5);  // no empty page at the end
    EXPECT_EQ(AllOwners("user:", 25, &pages), users);
    EXPECT_EQ(pages, 1);
    EXPECT_EQ(AllOwners("user:", 1, &pages), users);
    EXPECT_EQ(pages, 25);
    OwnersPage first = engine_->owners().List("user:", "", 10).value;
    EXPECT_EQ(first.owners, std::vector<std::string>(users.begin(), users.begin() + 10));
    EXPECT_EQ(first.next_cursor, "user:09");
    OwnersPage second = engine_->owners().List("user:", first.next_cursor, 10).value;
    EXPECT_EQ(second.owners, std::vector<std::string>(users.begin() + 10, users.begin() + 20));
    OwnersPage third = engine_->owners().List("user:", second.next_cursor, 10).value;
    EXPECT_EQ(third.owners, std::vector<std::string>(users.begin() + 20, users.end()));
    EXPECT_EQ(third.next_cursor, "");
    std::vector<std::string> everyone{"org:1", "org:2"};
    everyone.push_back("team:x");
    everyone.insert(everyone.end(), users.begin(), users.end());
    EXPECT_EQ(AllOwners("", 7), everyone);
    EXPECT_EQ(AllOwners("org:", 10), (std::vector<std::string>{"org:1", "org:2"}));
    OwnersPage none = engine_->owners().List("zzz", "", 10).value;
    EXPECT_TRUE(none.owners.empty());
    EXPECT_EQ(none.next_cursor, "");
  };
  check();
  Restart();
  check();
}

INSTANTIATE_TEST_SUITE_P(Modes, OwnersTest, AllRestartModes(), RestartModeParamName);

TEST_F(CounterTest, ReadingAnUnknownCounterCreatesNoOwner) {
  Incr("user:real", "hits", 1);
  EXPECT_EQ(Total("user:ghost", "hits"), 0);
  EXPECT_EQ(CellAt("user:ghost", "hits", Interval::kDay), 0);
  EXPECT_EQ(Sum("user:ghost", "hits", Interval::kDay), 0);
  EXPECT_EQ(AllOwners("user:", 10), std::vector<std::string>{"user:real"});
  Compact();
  Reopen();
  EXPECT_EQ(AllOwners("user:", 10), std::vector<std::string>{"user:real"});
  EXPECT_EQ(TopOf("hits", Interval::kTotal, 0), (Strs{"user:real=1"}));
}

TEST_F(CounterTest, ReadingAnUnknownKeyDoesNotAddItToTheOwner) {
  Incr("user:1", "hits", 1);
  EXPECT_EQ(Total("user:1", "never-written"), 0);
  auto cells = engine_->counters().ReadOwnerCells("user:1", Interval::kTotal, 0);
  ASSERT_TRUE(cells.ok());
  std::vector<std::string> keys;
  for (const auto& [key, value] : cells.value) keys.push_back(key);
  EXPECT_EQ(keys, Strs{"hits"});
}

TEST_F(CounterTest, SumAllCoversPeriodsFarApart) {
  engine_.reset();
  for (int64_t& keep : options_.counters.retention_ms) keep = 0;  // keep old hour cells
  Open();
  Assign("user:1", "hits", {{Interval::kHour, PeriodOf(Interval::kHour, Utc(2010, 1, 1, 5), TimeZone::Utc()), 5}});
  Assign("user:1", "hits", {{Interval::kDay, PeriodOf(Interval::kDay, Utc(1970, 1, 2), TimeZone::Utc()), 7}});
  Incr("user:1", "hits", 1);  // 2024-06-15, more than 100,000 hours after 2010
  EXPECT_EQ(Sum("user:1", "hits", Interval::kHour), 6);
  EXPECT_EQ(Sum("user:1", "hits", Interval::kDay), 8);
  Compact();
  Reopen();
  EXPECT_EQ(Sum("user:1", "hits", Interval::kHour), 6);
  EXPECT_EQ(Sum("user:1", "hits", Interval::kDay), 8);
}

TEST_F(CounterTest, SumAllOfHourCellsAfterAZoneChange) {
  // Hour cells in UTC start at :00, in Asia/Kolkata at :30: after a zone
  // change the counter holds both kinds, and the sum must include both.
  Incr("user:1", "hits", 5, Utc(2024, 6, 15, 10, 10));  // UTC hour 10:00Z
  Incr("user:1", "hits", 2, Utc(2024, 6, 15, 12, 10));  // UTC hour 12:00Z
  ASSERT_TRUE(engine_->owners().SetTimeZone("user:1", Zone("Asia/Kolkata")).ok());
  Incr("user:1", "hits", 3, Utc(2024, 6, 15, 12, 15));  // IST hour 17:30-18:30 = 11:30Z
  EXPECT_EQ(Total("user:1", "hits"), 10);
  const TimeZone utc = TimeZone::Utc();
  EXPECT_EQ(Cell("user:1", "hits", Interval::kHour, PeriodOf(Interval::kHour, Utc(2024, 6, 15, 10, 10), utc)), 5);
  EXPECT_EQ(Cell("user:1", "hits", Interval::kHour, PeriodOf(Interval::kHour, Utc(2024, 6, 15, 12, 10), utc)), 2);
  EXPECT_EQ(CellOf("user:1", "hits", Interval::kHour, "2024-06-15T17"), 3);
  EXPECT_EQ(Sum("user:1", "hits", Interval::kDay), 10);
  EXPECT_EQ(Sum("user:1", "hits", Interval::kHour), 10);
  Compact();
  Reopen();
  EXPECT_EQ(Sum("user:1", "hits", Interval::kHour), 10);
}

// ---------------------------------------------------------------------------
// Owner time zones

using TimeZoneTest = CounterModeTest;

TEST_P(TimeZoneTest, AnOwnersZoneAppliesToLaterEvents) {
  clock_.Set(Utc(2024, 12, 31, 23, 30));  // 2025-01-01 00:30 in Berlin
  EXPECT_TRUE(ZoneFor("user:tz") == TimeZone::Utc());
  Incr("user:tz", "hits", 1);  // UTC periods: 2024-12-31, 2024
  Incr("user:utc", "hits", 1);
  Restart();
  ASSERT_TRUE(engine_->owners().SetTimeZone("user:tz", Zone("Europe/Berlin")).ok());
  EXPECT_EQ(ZoneFor("user:tz").name(), "Europe/Berlin");
  Incr("user:tz", "hits", 2);  // Berlin periods: 2025-01-01, 2025
  Incr("user:utc", "hits", 2);
  auto check = [&] {
    EXPECT_EQ(ZoneFor("user:tz").name(), "Europe/Berlin");
    EXPECT_EQ(ZoneFor("user:utc").name(), "UTC");
    EXPECT_EQ(CellOf("user:tz", "hits", Interval::kDay, "2024-12-31"), 1);
    EXPECT_EQ(CellOf("user:tz", "hits", Interval::kDay, "2025-01-01"), 2);
    EXPECT_EQ(CellOf("user:tz", "hits", Interval::kDay, "current"), 2);
    EXPECT_EQ(CellOf("user:tz", "hits", Interval::kMonth, "2024-12"), 1);
    EXPECT_EQ(CellOf("user:tz", "hits", Interval::kMonth, "2025-01"), 2);
    EXPECT_EQ(CellOf("user:tz", "hits", Interval::kYear, "2024"), 1);
    EXPECT_EQ(CellOf("user:tz", "hits", Interval::kYear, "2025"), 2);
    EXPECT_EQ(CellOf("user:tz", "hits", Interval::kWeek, "2025-W01"), 3);
    // 23:00Z-24:00Z is the UTC hour 23 and the Berlin hour 00: the same instants, one cell.
    EXPECT_EQ(CellOf("user:tz", "hits", Interval::kHour, "2025-01-01T00"), 3);
    EXPECT_EQ(Total("user:tz", "hits"), 3);
    EXPECT_EQ(CellOf("user:utc", "hits", Interval::kDay, "2024-12-31"), 3);
    EXPECT_EQ(CellOf("user:utc", "hits", Interval::kYear, "2024"), 3);
  };
  check();
  Restart();
  check();
  // After a restart the zone still applies to new events.
  clock_.Set(Utc(2025, 1, 31, 23, 30));  // 2025-02-01 00:30 in Berlin
  Incr("user:tz", "hits", 4);
  Restart();
  EXPECT_EQ(CellOf("user:tz", "hits", Interval::kMonth, "2025-02"), 4);
  EXPECT_EQ(CellOf("user:tz", "hits", Interval::kMonth, "2025-01"), 2);
  EXPECT_EQ(CellOf("user:tz", "hits", Interval::kDay, "2025-02-01"), 4);
}

TEST_P(TimeZoneTest, HalfHourZoneHourCells) {
  ASSERT_TRUE(engine_->owners().SetTimeZone("user:in", Zone("Asia/Kolkata")).ok());
  clock_.Set(Utc(2024, 6, 15, 10, 40));                  // 16:10 IST
  Incr("user:in", "hits", 1, Utc(2024, 6, 15, 10, 20));  // 15:50 IST
  Incr("user:in", "hits", 2);
  Restart();
  EXPECT_EQ(CellOf("user:in", "hits", Interval::kHour, "2024-06-15T15"), 1);
  EXPECT_EQ(CellOf("user:in", "hits", Interval::kHour, "2024-06-15T16"), 2);
  EXPECT_EQ(CellOf("user:in", "hits", Interval::kHour, "current"), 2);
  EXPECT_EQ(CellOf("user:in", "hits", Interval::kDay, "2024-06-15"), 3);
  clock_.Set(Utc(2024, 6, 15, 18, 35));  // 00:05 IST on the 16th
  Incr("user:in", "hits", 4);
  Restart();
  EXPECT_EQ(CellOf("user:in", "hits", Interval::kDay, "2024-06-15"), 3);
  EXPECT_EQ(CellOf("user:in", "hits", Interval::kDay, "2024-06-16"), 4);
  EXPECT_EQ(CellOf("user:in", "hits", Interval::kHour, "2024-06-16T00"), 4);
}

INSTANTIATE_TEST_SUITE_P(Modes, TimeZoneTest, AllRestartModes(), RestartModeParamName);

TEST_F(CounterTest, TheDaemonsDefaultZoneAppliesToOwnersWithoutOne) {
  engine_.reset();
  options_.counters.default_time_zone = Zone("America/New_York");
  Open();
  clock_.Set(Utc(2025, 1, 1, 3));  // 2024-12-31 22:00 in New York
  Incr("user:1", "hits", 1);
  EXPECT_EQ(ZoneFor("user:1").name(), "America/New_York");
  EXPECT_EQ(CellOf("user:1", "hits", Interval::kYear, "2024"), 1);
  EXPECT_EQ(CellOf("user:1", "hits", Interval::kHour, "2024-12-31T22"), 1);
  ASSERT_TRUE(engine_->owners().SetTimeZone("user:2", TimeZone::Utc()).ok());
  Incr("user:2", "hits", 1);
  EXPECT_EQ(CellOf("user:2", "hits", Interval::kYear, "2025"), 1);
  Reopen();
  EXPECT_EQ(ZoneFor("user:2").name(), "UTC");
  EXPECT_EQ(ZoneFor("user:1").name(), "America/New_York");
  Compact();
  Reopen();
  EXPECT_EQ(ZoneFor("user:2").name(), "UTC");
  EXPECT_EQ(CellOf("user:2", "hits", Interval::kYear, "2025"), 1);
  EXPECT_EQ(CellOf("user:1", "hits", Interval::kYear, "2024"), 1);
}

// ---------------------------------------------------------------------------
// Event ids

using DedupeTest = CounterModeTest;

TEST_P(DedupeTest, ARepeatedIdIsNotAppliedAgainWithinTheWindow) {
  const int64_t window = options_.counters.dedupe_window_ms;
  ASSERT_EQ(window, 7 * kDayMs);
  bool duplicate = true;
  EXPECT_EQ(Incr("user:1", "api", 1, std::nullopt, "req-1", &duplicate), 1);
  EXPECT_FALSE(duplicate);
  EXPECT_EQ(Incr("user:1", "api", 1, std::nullopt, "req-1", &duplicate), 1);
  EXPECT_TRUE(duplicate);
  EXPECT_EQ(Incr("user:1", "api", 5, std::nullopt, "req-2", &duplicate), 6);
  EXPECT_FALSE(duplicate);
  EXPECT_EQ(Incr("user:2", "api", 1, std::nullopt, "req-1", &duplicate), 1);  // ids are per owner
  EXPECT_FALSE(duplicate);
  EXPECT_EQ(Incr("user:1", "other", 1, std::nullopt, "req-1", &duplicate), 1);  // ... and per counter
  EXPECT_FALSE(duplicate);
  EXPECT_EQ(CellAt("user:1", "api", Interval::kDay), 6);
  Restart();
  EXPECT_EQ(Incr("user:1", "api", 1, std::nullopt, "req-1", &duplicate), 6);
  EXPECT_TRUE(duplicate);
  EXPECT_EQ(Incr("user:1", "api", 5, std::nullopt, "req-2", &duplicate), 6);  // a retry: same arguments
  EXPECT_TRUE(duplicate);
  EXPECT_EQ(Total("user:1", "api"), 6);
  EXPECT_EQ(CellAt("user:1", "api", Interval::kHour), 6);
  EXPECT_EQ(Total("user:1", "other"), 1);
  // Just inside the window: still a duplicate, also after a restart.
  clock_.Advance(window - 1);
  EXPECT_EQ(Incr("user:1", "api", 1, std::nullopt, "req-1", &duplicate), 6);
  EXPECT_TRUE(duplicate);
  Restart();
  EXPECT_EQ(Incr("user:1", "api", 1, std::nullopt, "req-1", &duplicate), 6);
  EXPECT_TRUE(duplicate);
  // At the end of the window the id is new again, and starts a new window.
  clock_.Advance(1);
  EXPECT_EQ(Incr("user:1", "api", 1, std::nullopt, "req-1", &duplicate), 7);
  EXPECT_FALSE(duplicate);
  EXPECT_EQ(Incr("user:1", "api", 1, std::nullopt, "req-1", &duplicate), 7);
  EXPECT_TRUE(duplicate);
  Restart();
  EXPECT_EQ(Incr("user:1", "api", 1, std::nullopt, "req-1", &duplicate), 7);
  EXPECT_TRUE(duplicate);
  EXPECT_EQ(Incr("user:1", "api", 1, std::nullopt, "req-2", &duplicate), 8);  // req-2 expired too
  EXPECT_FALSE(duplicate);
  Restart();
  EXPECT_EQ(Total("user:1", "api"), 8);
  EXPECT_EQ(CellOf("user:1", "api", Interval::kDay, "2024-06-15"), 6);
  EXPECT_EQ(CellAt("user:1", "api", Interval::kDay), 2);
}

TEST_P(DedupeTest, ADuplicateLateEventChangesNoCell) {
  bool duplicate = false;
  Incr("user:1", "api", 3, Utc(2024, 6, 10, 9), "ev-1");
  Restart();
  EXPECT_EQ(Incr("user:1", "api", 3, Utc(2024, 6, 10, 9), "ev-1", &duplicate), 3);
  EXPECT_TRUE(duplicate);
  // Another time with the same id is not a retry: an id conflict, nothing applied.
  EXPECT_EQ(TryIncr("user:1", "api", 3, Utc(2024, 6, 11, 9), "ev-1").status, OpStatus::kIdConflict);
  Restart();
  EXPECT_EQ(CellOf("user:1", "api", Interval::kDay, "2024-06-10"), 3);
  EXPECT_EQ(CellOf("user:1", "api", Interval::kDay, "2024-06-11"), 0);
  EXPECT_EQ(CellAt("user:1", "api", Interval::kDay), 0);
  EXPECT_EQ(Total("user:1", "api"), 3);
}

TEST_P(DedupeTest, ShortWindow) {
  engine_.reset();
  options_.counters.dedupe_window_ms = 60'000;
  Open();
  bool duplicate = false;
  Incr("user:1", "api", 1, std::nullopt, "x");
  clock_.Advance(59'999);
  Restart();
  EXPECT_EQ(Incr("user:1", "api", 1, std::nullopt, "x", &duplicate), 1);
  EXPECT_TRUE(duplicate);
  clock_.Advance(1);
  Restart();
  EXPECT_EQ(Incr("user:1", "api", 1, std::nullopt, "x", &duplicate), 2);
  EXPECT_FALSE(duplicate);
}

INSTANTIATE_TEST_SUITE_P(Modes, DedupeTest, AllRestartModes(), RestartModeParamName);

// ---------------------------------------------------------------------------
// Overflow

using OverflowTest = CounterModeTest;

TEST_P(OverflowTest, AnIncrementThatWouldOverflowChangesNothing) {
  EXPECT_EQ(Incr("user:1", "big", kMax - 1), kMax - 1);
  EXPECT_EQ(Incr("user:1", "big", 1), kMax);
  Restart();
  auto check_max = [&] {
    EXPECT_EQ(Total("user:1", "big"), kMax);
    for (Interval interval : kRollupIntervals) {
      EXPECT_EQ(CellAt("user:1", "big", interval), kMax) << IntervalName(interval);
    }
  };
  OpResult<IncrementResult> r = TryIncr("user:1", "big", 1);
  EXPECT_EQ(r.status, OpStatus::kOverflow);
  check_max();
  EXPECT_EQ(TryIncr("user:1", "big", kMax).status, OpStatus::kOverflow);
  Restart();
  check_max();
  EXPECT_EQ(TryIncr("user:1", "big", 1).status, OpStatus::kOverflow);
  EXPECT_EQ(Incr("user:1", "big", -1), kMax - 1);
  Restart();
  EXPECT_EQ(Total("user:1", "big"), kMax - 1);
  EXPECT_EQ(CellAt("user:1", "big", Interval::kDay), kMax - 1);
  // Downwards.
  EXPECT_EQ(Incr("user:2", "small", kMin), kMin);
  EXPECT_EQ(TryIncr("user:2", "small", -1).status, OpStatus::kOverflow);
  Restart();
  EXPECT_EQ(Total("user:2", "small"), kMin);
  EXPECT_EQ(CellAt("user:2", "small", Interval::kYear), kMin);
}

TEST_P(OverflowTest, AnOverflowInOneCellRefusesTheWholeIncrement) {
  Incr("user:1", "hits", 5);
  Assign("user:1", "hits", {{Interval::kWeek, Period("user:1", Interval::kWeek, "current"), kMax}});
  Restart();
  EXPECT_EQ(TryIncr("user:1", "hits", 1).status, OpStatus::kOverflow);
  auto check = [&] {
    EXPECT_EQ(Total("user:1", "hits"), 5);
    EXPECT_EQ(CellAt("user:1", "hits", Interval::kHour), 5);
    EXPECT_EQ(CellAt("user:1", "hits", Interval::kDay), 5);
    EXPECT_EQ(CellAt("user:1", "hits", Interval::kWeek), kMax);
    EXPECT_EQ(CellAt("user:1", "hits", Interval::kMonth), 5);
  };
  check();
  Restart();
  check();
  // A late event whose past cell would overflow.
  const PeriodId past_day = Period("user:1", Interval::kDay, "2024-06-01");
  Assign("user:1", "hits", {{Interval::kDay, past_day, kMax}});
  Restart();
  EXPECT_EQ(TryIncr("user:1", "hits", 1, Utc(2024, 6, 1, 10)).status, OpStatus::kOverflow);
  Restart();
  check();
  EXPECT_EQ(Cell("user:1", "hits", Interval::kDay, past_day), kMax);
  EXPECT_EQ(CellOf("user:1", "hits", Interval::kMonth, "2024-06"), 5);
  // A refused increment does not record its event id.
  EXPECT_EQ(TryIncr("user:1", "hits", 1, std::nullopt, "id-1").status, OpStatus::kOverflow);
  Assign("user:1", "hits", {{Interval::kWeek, Period("user:1", Interval::kWeek, "current"), 0}});
  Restart();
  bool duplicate = true;
  EXPECT_EQ(Incr("user:1", "hits", 1, std::nullopt, "id-1", &duplicate), 6);
  EXPECT_FALSE(duplicate);
  Restart();
  EXPECT_EQ(Total("user:1", "hits"), 6);
  EXPECT_EQ(CellAt("user:1", "hits", Interval::kWeek), 1);
}

INSTANTIATE_TEST_SUITE_P(Modes, OverflowTest, AllRestartModes(), RestartModeParamName);

}  // namespace
}  // namespace tally::core::counters_test

namespace tally::core::counters_test {
namespace {

// After a restart, LoadStoredCounters brings every stored counter into memory
// (tallyd runs it in the background); from then on CTR.TOP ranks from memory
// alone and must still see every owner, including one whose total is zero but
// whose day cell is not.
TEST_F(CounterTest, TopAfterLoadingStoredCountersSeesEveryOwner) {
  const int64_t yesterday = clock_.NowMs() - kDayMs;
  Incr("user:a", "hits", 5);
  Incr("user:b", "hits", 9);
  Incr("user:c", "hits", 4, yesterday);
  Incr("user:c", "hits", -4);  // total 0, yesterday's cell 4, today's cell -4
  Compact();
  Reopen();
  EXPECT_FALSE(engine_->counters().all_loaded());
  ASSERT_TRUE(engine_->counters().LoadStoredCounters().ok());
  EXPECT_TRUE(engine_->counters().all_loaded());
  const PeriodId day = PeriodOf(Interval::kDay, yesterday, TimeZone::Utc());
  std::vector<RankedOwner> top = engine_->counters().Top("hits", Interval::kDay, day, 10, "").value;
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(top[0].owner, "user:c");
  EXPECT_EQ(top[0].value, 4);
  top = engine_->counters().Top("hits", Interval::kTotal, 0, 10, "").value;
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(top[0].owner, "user:b");
  EXPECT_EQ(top[1].owner, "user:a");
  // Owners loaded this way are not "new": nothing to rewrite at compaction.
  Compact();
  EXPECT_EQ(engine_->owners().List("", "", 10).value.owners.size(), 3u);
}

}  // namespace
}  // namespace tally::core::counters_test
