// Owner counters against the real tallyd, driven with redis-cli (what users
// type, compared with redis-cli's own rendering) and a raw RESP client (exact
// values). One test per command family of docs/counters.md.
//
// The daemon runs in UTC (the default); labels of "now" are computed here the
// same way, and tests that read cells of now keep away from hour boundaries
// (AvoidHourBoundary). Late events use AT at 12:00 UTC some days ago, so
// their labels are stable.

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "counters_util.h"
#include "protocol/errors.h"
#include "tallyd_process.h"

namespace tally::itest::counters {
namespace {

class CounterCommandsTest : public TallydTest {
 protected:
  RespClient& conn() {
    if (!conn_.connected()) conn_ = Connect();
    return conn_;
  }
  void Reconnect() { conn_ = Connect(); }
  // After a restart the old connection is dead.
  void KillAndRestart() {
    conn_.Close();
    ASSERT_TRUE(daemon().KillAndRestart());
    Reconnect();
  }
  void CleanRestart() {
    conn_.Close();
    ASSERT_TRUE(daemon().Restart());
    Reconnect();
  }
  RespValue Call(const std::vector<std::string>& args) { return conn().Call(args); }
  int64_t Get(const std::string& owner, const std::string& key, const std::string& interval = "total",
              const std::string& label = "total") {
    return GetCell(conn(), owner, key, interval, label);
  }
  // Cli() with the exact reply checked.
  void ExpectCli(const std::vector<std::string>& args, const std::string& expected) {
    EXPECT_EQ(Cli(args), expected) << "redis-cli " << ::testing::PrintToString(args);
  }

  RespClient conn_;
};

std::string At(int64_t ms) { return std::to_string(ms); }

// ---------------------------------------------------------------------------

TEST_F(CounterCommandsTest, IncrementsLandInEveryInterval) {
  AvoidHourBoundary();
  const auto now = UtcLabels(NowMs());
  ExpectCli({"CTR.INCRBY", "user:42", "downloads", "3"}, "(integer) 3");
  ExpectCli({"CTR.INCR", "user:42", "downloads"}, "(integer) 4");
  ExpectCli({"CTR.DECRBY", "user:42", "downloads", "1"}, "(integer) 3");
  ExpectCli({"CTR.INCRBY", "user:42", "downloads", "-5"}, "(integer) -2");
  ExpectCli({"CTR.INCRBY", "user:42", "downloads", "10"}, "(integer) 8");
  ExpectCli({"CTR.INCRBY", "user:42", "downloads", "0"}, "(integer) 8");

  // The total: by default, by interval, with its only label.
  ExpectCli({"CTR.GET", "user:42", "downloads"}, "(integer) 8");
  ExpectCli({"CTR.GET", "user:42", "downloads", "total"}, "(integer) 8");
  ExpectCli({"CTR.GET", "user:42", "downloads", "total", "total"}, "(integer) 8");
  // Every interval's cell of now: default period, "current" and the label.
  for (size_t i = 0; i < kIntervals.size(); ++i) {
    SCOPED_TRACE(kIntervals[i]);
    ExpectCli({"CTR.GET", "user:42", "downloads", kIntervals[i]}, "(integer) 8");
    ExpectCli({"CTR.GET", "user:42", "downloads", kIntervals[i], "current"}, "(integer) 8");
    ExpectCli({"CTR.GET", "user:42", "downloads", kIntervals[i], now[i]}, "(integer) 8");
  }
  // Interval names and keywords are case-insensitive.
  EXPECT_TRUE(IsInteger(Call({"CTR.GET", "user:42", "downloads", "DAY", "CURRENT"}), 8));
  // A finer label names the period containing it.
  EXPECT_TRUE(IsInteger(Call({"CTR.GET", "user:42", "downloads", "day", now[0]}), 8));
  EXPECT_TRUE(IsInteger(Call({"CTR.GET", "user:42", "downloads", "week", now[1]}), 8));
  EXPECT_TRUE(IsInteger(Call({"CTR.GET", "user:42", "downloads", "month", now[1]}), 8));
  EXPECT_TRUE(IsInteger(Call({"CTR.GET", "user:42", "downloads", "quarter", now[3]}), 8));
  EXPECT_TRUE(IsInteger(Call({"CTR.GET", "user:42", "downloads", "year", now[1]}), 8));
  // Other periods, keys and owners read 0.
  EXPECT_TRUE(IsInteger(Call({"CTR.GET", "user:42", "downloads", "day", UtcLabel("day", NowMs() - 2 * kDayMs)}), 0));
  EXPECT_TRUE(IsInteger(Call({"CTR.GET", "user:42", "downloads", "year", "2001"}), 0));
  ExpectCli({"CTR.GET", "user:42", "uploads"}, "(integer) 0");
  ExpectCli({"CTR.GET", "user:43", "downloads", "day"}, "(integer) 0");

  // Names at the 128-byte limit, and every allowed character.
  const std::string long_owner(128, 'o'), long_key(128, 'k');
  EXPECT_TRUE(IsInteger(Call({"CTR.INCRBY", long_owner, long_key, "2"}), 2));
  EXPECT_TRUE(IsInteger(Call({"CTR.GET", long_owner, long_key, "day"}), 2));
  const std::string odd = "AZaz09_.:@-";
  EXPECT_TRUE(IsInteger(Call({"CTR.INCRBY", odd, odd, "1"}), 1));
  EXPECT_TRUE(IsInteger(Call({"CTR.GET", odd, odd, "year"}), 1));

  // Everything survives a kill -9 (log replay) and a clean restart (compacted).
  for (int round = 0; round < 2; ++round) {
    if (round == 0) {
      KillAndRestart();
    } else {
      CleanRestart();
    }
    SCOPED_TRACE(round == 0 ? "after kill -9" : "after a clean restart");
    EXPECT_EQ(Get("user:42", "downloads"), 8);
    for (size_t i = 0; i < kIntervals.size(); ++i) EXPECT_EQ(Get("user:42", "downloads", kIntervals[i], now[i]), 8);
    EXPECT_EQ(Get(long_owner, long_key, "hour", now[0]), 2);
  }
  // Increments after the restart add to the recovered cells.
  EXPECT_TRUE(IsInteger(Call({"CTR.INCRBY", "user:42", "downloads", "2"}), 10));
  for (size_t i = 0; i < kIntervals.size(); ++i) EXPECT_EQ(Get("user:42", "downloads", kIntervals[i], now[i]), 10);
}

TEST_F(CounterCommandsTest, AtInThePastLandsInThePastCells) {
  AvoidHourBoundary();
  Model model;
  const int64_t now = NowMs();
  struct Event {
    int64_t at;
    int64_t delta;
  };
  const std::vector<Event> events = {
      {now, 1},
      {NoonUtcDaysAgo(2), 2},
      {NoonUtcDaysAgo(9), 4},
      {NoonUtcDaysAgo(33), 8},
      {now - 35 * kDayMs + kHourMs, 16},  // just inside max_backdate (35 days)
      {now + 2000, 32},                   // just ahead, inside max_future_skew (5 minutes)
      {NoonUtcDaysAgo(2) - 3 * kHourMs, 64},
  };
  int64_t total = 0;
  for (const Event& e : events) {
    total += e.delta;
    ExpectCli({"CTR.INCRBY", "late:1", "hits", std::to_string(e.delta), "AT", At(e.at)},
              "(integer) " + std::to_string(total));
    model.Increment("late:1", "hits", e.delta, e.at);
  }
  ExpectModel(conn(), model, "late:1", "hits");
  // Two days ago at 09:00 and 12:00: one day cell, two hour cells.
  const std::string day2 = UtcLabel("day", NoonUtcDaysAgo(2));
  EXPECT_EQ(Get("late:1", "hits", "day", day2), 66);
  EXPECT_EQ(Get("late:1", "hits", "hour", UtcLabel("hour", NoonUtcDaysAgo(2))), 2);
  EXPECT_EQ(Get("late:1", "hits", "hour", UtcLabel("hour", NoonUtcDaysAgo(2) - 3 * kHourMs)), 64);
  // Today's cell has only the events of now.
  EXPECT_EQ(Get("late:1", "hits", "day", "current"), 33);
  EXPECT_EQ(Get("late:1", "hits"), total);
  // CTR.INCR and CTR.DECRBY take AT too.
  EXPECT_TRUE(IsInteger(Call({"CTR.INCR", "late:1", "hits", "AT", At(NoonUtcDaysAgo(2))}), total + 1));
  EXPECT_TRUE(IsInteger(Call({"CTR.DECRBY", "late:1", "hits", "3", "AT", At(NoonUtcDaysAgo(2))}), total - 2));
  model.Increment("late:1", "hits", -2, NoonUtcDaysAgo(2));
  ExpectModel(conn(), model, "late:1", "hits");

  KillAndRestart();
  ExpectModel(conn(), model, "late:1", "hits", "after kill -9:");
  CleanRestart();
  ExpectModel(conn(), model, "late:1", "hits", "after a clean restart:");
}

// Renders [[label, value], ...] as one line.
std::string Pairs(const RespValue& v) {
  if (v.type != RespValue::Type::kArray) return v.ToString();
  std::string out;
  for (const auto& e : v.elements) {
    if (e.type != RespValue::Type::kArray || e.elements.size() != 2 || e.elements[0].type != RespValue::Type::kBulk ||
        e.elements[1].type != RespValue::Type::kInteger) {
      return "malformed element " + e.ToString() + " in " + v.ToString();
    }
    out += (out.empty() ? "" : " ") + e.elements[0].str + "=" + std::to_string(e.elements[1].integer);
  }
  return out;
}

TEST_F(CounterCommandsTest, HistoryIsNewestFirstWithZerosForGaps) {
  AvoidHourBoundary();
  auto day = [](int ago) { return UtcLabel("day", NoonUtcDaysAgo(ago)); };
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "hist:1", "hits", "5", "AT", At(NoonUtcDaysAgo(5))}), 5));
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "hist:1", "hits", "3", "AT", At(NoonUtcDaysAgo(3))}), 8));
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "hist:1", "hits", "1", "AT", At(NoonUtcDaysAgo(1))}), 9));

  EXPECT_EQ(Pairs(Call({"CTR.HISTORY", "hist:1", "hits", "day", "7", "FROM", day(1)})),
            day(1) + "=1 " + day(2) + "=0 " + day(3) + "=3 " + day(4) + "=0 " + day(5) + "=5 " + day(6) + "=0 " +
                day(7) + "=0");
  // Without FROM it ends at the current period.
  EXPECT_EQ(Pairs(Call({"CTR.HISTORY", "hist:1", "hits", "day", "4"})),
            day(0) + "=0 " + day(1) + "=1 " + day(2) + "=0 " + day(3) + "=3");
  EXPECT_EQ(Pairs(Call({"CTR.HISTORY", "hist:1", "hits", "day", "1", "FROM", day(3)})), day(3) + "=3");
  // What a user sees.
  ExpectCli({"CTR.HISTORY", "hist:1", "hits", "day", "3", "FROM", day(3)},
            "1) 1) \"" + day(3) + "\"\n   2) (integer) 3\n2) 1) \"" + day(4) + "\"\n   2) (integer) 0\n3) 1) \"" +
                day(5) + "\"\n   2) (integer) 5");

  // Hours: 12:00 and 10:00 one day ago.
  const int64_t noon = NoonUtcDaysAgo(1);
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "hist:2", "hits", "2", "AT", At(noon)}), 2));
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "hist:2", "hits", "7", "AT", At(noon - 2 * kHourMs)}), 9));
  auto hour = [&](int back) { return UtcLabel("hour", noon - back * kHourMs); };
  EXPECT_EQ(Pairs(Call({"CTR.HISTORY", "hist:2", "hits", "hour", "4", "FROM", hour(0)})),
            hour(0) + "=2 " + hour(1) + "=0 " + hour(2) + "=7 " + hour(3) + "=0");

  // Months, quarters, weeks and years step across year ends; set cells of
  // long ago with CTR.SET (AT cannot reach them).
  ASSERT_EQ(Call({"CTR.SET", "hist:3", "hits", "9", "month", "2023-12"}).str, "OK");
  ASSERT_EQ(Call({"CTR.SET", "hist:3", "hits", "4", "week", "2024-W52"}).str, "OK");
  ASSERT_EQ(Call({"CTR.SET", "hist:3", "hits", "6", "quarter", "2023-Q4"}).str, "OK");
  ASSERT_EQ(Call({"CTR.SET", "hist:3", "hits", "8", "year", "2022"}).str, "OK");
  EXPECT_EQ(Pairs(Call({"CTR.HISTORY", "hist:3", "hits", "month", "3", "FROM", "2024-01"})),
            "2024-01=0 2023-12=9 2023-11=0");
  // A finer label for FROM names its period.
  EXPECT_EQ(Pairs(Call({"CTR.HISTORY", "hist:3", "hits", "month", "2", "FROM", "2024-01-15"})), "2024-01=0 2023-12=9");
  EXPECT_EQ(Pairs(Call({"CTR.HISTORY", "hist:3", "hits", "week", "3", "FROM", "2025-W01"})),
            "2025-W01=0 2024-W52=4 2024-W51=0");
  // Mon 2024-12-30 is in 2025-W01 (ISO weeks).
  EXPECT_EQ(Pairs(Call({"CTR.HISTORY", "hist:3", "hits", "week", "1", "FROM", "2024-12-30"})), "2025-W01=0");
  EXPECT_EQ(Pairs(Call({"CTR.HISTORY", "hist:3", "hits", "quarter", "2", "FROM", "2024-Q1"})), "2024-Q1=0 2023-Q4=6");
  EXPECT_EQ(Pairs(Call({"CTR.HISTORY", "hist:3", "hits", "year", "3", "FROM", "2023"})), "2023=0 2022=8 2021=0");

  // The same after kill -9 and after compaction.
  for (int round = 0; round < 2; ++round) {
    if (round == 0) {
      KillAndRestart();
    } else {
      CleanRestart();
    }
    SCOPED_TRACE(round == 0 ? "after kill -9" : "after a clean restart");
    EXPECT_EQ(Pairs(Call({"CTR.HISTORY", "hist:1", "hits", "day", "5", "FROM", day(1)})),
              day(1) + "=1 " + day(2) + "=0 " + day(3) + "=3 " + day(4) + "=0 " + day(5) + "=5");
    EXPECT_EQ(Pairs(Call({"CTR.HISTORY", "hist:3", "hits", "month", "3", "FROM", "2024-01"})),
              "2024-01=0 2023-12=9 2023-11=0");
  }
}

TEST_F(CounterCommandsTest, SumOverARange) {
  AvoidHourBoundary();
  auto day = [](int ago) { return UtcLabel("day", NoonUtcDaysAgo(ago)); };
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "sum:1", "hits", "5", "AT", At(NoonUtcDaysAgo(5))}), 5));
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "sum:1", "hits", "3", "AT", At(NoonUtcDaysAgo(3))}), 8));
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "sum:1", "hits", "1", "AT", At(NoonUtcDaysAgo(1))}), 9));
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "sum:1", "hits", "10"}), 19));

  ExpectCli({"CTR.SUM", "sum:1", "hits", "day", "FROM", day(5), "TO", day(1)}, "(integer) 9");
  EXPECT_TRUE(IsInteger(Call({"CTR.SUM", "sum:1", "hits", "day", "FROM", day(3), "TO", day(3)}), 3));
  EXPECT_TRUE(IsInteger(Call({"CTR.SUM", "sum:1", "hits", "day", "FROM", day(4), "TO", day(2)}), 3));
  EXPECT_TRUE(IsInteger(Call({"CTR.SUM", "sum:1", "hits", "day", "FROM", day(20), "TO", day(6)}), 0));
  EXPECT_TRUE(IsInteger(Call({"CTR.SUM", "sum:1", "hits", "day", "FROM", day(5), "TO", "current"}), 19));
  // Without a range: every period of the interval.
  for (const char* interval : {"hour", "day", "week", "month", "quarter", "year", "total"}) {
    EXPECT_TRUE(IsInteger(Call({"CTR.SUM", "sum:1", "hits", interval}), 19)) << interval;
  }
  // Cells set long ago count too; a month range given as day labels.
  ASSERT_EQ(Call({"CTR.SET", "sum:1", "hits", "100", "day", "2023-01-10"}).str, "OK");
  EXPECT_TRUE(IsInteger(Call({"CTR.SUM", "sum:1", "hits", "day"}), 119));
  EXPECT_TRUE(IsInteger(Call({"CTR.SUM", "sum:1", "hits", "day", "FROM", "2023-01-01", "TO", "2023-01-31"}), 100));
  EXPECT_TRUE(IsInteger(Call({"CTR.SUM", "sum:1", "hits", "month", "FROM", "2023-01-05", "TO", "2023-01-06"}), 0));
  EXPECT_TRUE(IsInteger(Call({"CTR.SUM", "nobody:1", "hits", "day"}), 0));

  CleanRestart();
  EXPECT_TRUE(IsInteger(Call({"CTR.SUM", "sum:1", "hits", "day", "FROM", day(5), "TO", day(1)}), 9));
  EXPECT_TRUE(IsInteger(Call({"CTR.SUM", "sum:1", "hits", "day"}), 119));
  EXPECT_TRUE(IsInteger(Call({"CTR.SUM", "sum:1", "hits", "month"}), 19));
}

// A range of more periods than any HISTORY may ask for (hours since 1971)
// sums every period in it, or is refused — never silently cut short.
TEST_F(CounterCommandsTest, SumOverAVeryLongRangeIsNotTruncated) {
  ASSERT_EQ(Call({"CTR.SET", "sum:2", "hits", "5", "hour", "1971-01-01T00"}).str, "OK");
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "sum:2", "hits", "1"}), 1));
  EXPECT_TRUE(IsInteger(Call({"CTR.SUM", "sum:2", "hits", "hour"}), 6));
  RespValue ranged = Call({"CTR.SUM", "sum:2", "hits", "hour", "FROM", "1971-01-01T00", "TO", "current"});
  EXPECT_TRUE(ranged.is_error() || IsInteger(ranged, 6))
      << "CTR.SUM sum:2 hits hour FROM 1971-01-01T00 TO current replied " << ranged
      << "; the cells hold 5 (1971) and 1 (now)";
}

TEST_F(CounterCommandsTest, RecountOfPastPeriods) {
  AvoidHourBoundary();
  Model model;
  auto day = [](int ago) { return UtcLabel("day", NoonUtcDaysAgo(ago)); };
  for (auto [delta, at] : {std::pair<int64_t, int64_t>{3, NoonUtcDaysAgo(2)}, {4, NoonUtcDaysAgo(3)}, {1, NowMs()}}) {
    ASSERT_EQ(Call({"CTR.INCRBY", "rc:1", "hits", std::to_string(delta), "AT", At(at)}).type,
              RespValue::Type::kInteger);
    model.Increment("rc:1", "hits", delta, at);
  }
  // Three day cells in one step; nothing else changes.
  ExpectCli({"CTR.RECOUNT", "rc:1", "hits", "day", day(2), "10", day(3), "20", day(4), "30"}, "OK");
  model.Set("rc:1", "hits", "day", day(2), 10);
  model.Set("rc:1", "hits", "day", day(3), 20);
  model.Set("rc:1", "hits", "day", day(4), 30);
  ExpectModel(conn(), model, "rc:1", "hits");
  EXPECT_EQ(Get("rc:1", "hits"), 8);
  // Later increments add to the recounted value.
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "rc:1", "hits", "2", "AT", At(NoonUtcDaysAgo(2))}), 10));
  model.Increment("rc:1", "hits", 2, NoonUtcDaysAgo(2));
  EXPECT_EQ(Get("rc:1", "hits", "day", day(2)), 12);
  // Months of long ago, one given as a day label; the total.
  ExpectCli({"CTR.RECOUNT", "rc:1", "hits", "month", "2024-10", "50", "2024-11-17", "60"}, "OK");
  model.Set("rc:1", "hits", "month", "2024-10", 50);
  model.Set("rc:1", "hits", "month", "2024-11", 60);
  EXPECT_TRUE(IsInteger(Call({"CTR.SUM", "rc:1", "hits", "month", "FROM", "2024-10", "TO", "2024-11"}), 110));
  ExpectCli({"CTR.RECOUNT", "rc:1", "hits", "total", "total", "500"}, "OK");
  model.Set("rc:1", "hits", "total", "total", 500);
  // The current period can be recounted too.
  ASSERT_EQ(Call({"CTR.RECOUNT", "rc:1", "hits", "hour", "current", "77"}).str, "OK");
  model.Set("rc:1", "hits", "hour", UtcLabel("hour", NowMs()), 77);
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "rc:1", "hits", "1"}), 501));
  model.Increment("rc:1", "hits", 1, NowMs());
  ExpectModel(conn(), model, "rc:1", "hits");

  KillAndRestart();
  ExpectModel(conn(), model, "rc:1", "hits", "after kill -9:");
  CleanRestart();
  ExpectModel(conn(), model, "rc:1", "hits", "after a clean restart:");
}

TEST_F(CounterCommandsTest, SetAndResetTouchOnlyTheirCell) {
  AvoidHourBoundary();
  const auto now = UtcLabels(NowMs());
  const std::string day3 = UtcLabel("day", NoonUtcDaysAgo(3));
  Model model;
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "set:1", "hits", "5"}), 5));
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "set:1", "other", "6"}), 6));
  model.Increment("set:1", "hits", 5, NowMs());
  model.Increment("set:1", "other", 6, NowMs());

  ExpectCli({"CTR.SET", "set:1", "hits", "100"}, "OK");
  model.Set("set:1", "hits", "total", "total", 100);
  ExpectModel(conn(), model, "set:1", "hits");
  ExpectCli({"CTR.SET", "set:1", "hits", "7", "day", "current"}, "OK");
  model.Set("set:1", "hits", "day", now[1], 7);
  ExpectModel(conn(), model, "set:1", "hits");
  ExpectCli({"CTR.RESET", "set:1", "hits", "hour", "current"}, "OK");
  model.Set("set:1", "hits", "hour", now[0], 0);
  ExpectModel(conn(), model, "set:1", "hits");
  ExpectCli({"CTR.SET", "set:1", "hits", "42", "day", day3}, "OK");
  model.Set("set:1", "hits", "day", day3, 42);
  ExpectCli({"CTR.SET", "set:1", "hits", "9", "week"}, "OK");  // interval without period: the current one
  model.Set("set:1", "hits", "week", now[2], 9);
  ExpectModel(conn(), model, "set:1", "hits");

  // Later increments add to the set values.
  ExpectCli({"CTR.INCRBY", "set:1", "hits", "1"}, "(integer) 101");
  model.Increment("set:1", "hits", 1, NowMs());
  EXPECT_EQ(Get("set:1", "hits", "hour", now[0]), 1);
  EXPECT_EQ(Get("set:1", "hits", "day", now[1]), 8);
  EXPECT_EQ(Get("set:1", "hits", "week", now[2]), 10);
  EXPECT_EQ(Get("set:1", "hits", "month", now[3]), 6);
  ExpectModel(conn(), model, "set:1", "hits");

  // RESET of the total; negative and extreme values are fine.
  ExpectCli({"CTR.RESET", "set:1", "hits"}, "OK");
  model.Set("set:1", "hits", "total", "total", 0);
  ExpectModel(conn(), model, "set:1", "hits");
  ExpectCli({"CTR.SET", "set:1", "hits", "-3", "month", now[3]}, "OK");
  model.Set("set:1", "hits", "month", now[3], -3);
  ExpectCli({"CTR.SET", "set:1", "hits", "9223372036854775807", "year", "2020"}, "OK");
  model.Set("set:1", "hits", "year", "2020", INT64_MAX);
  ExpectModel(conn(), model, "set:1", "hits");
  // SET creates a counter that did not exist (only that cell).
  ExpectCli({"CTR.SET", "set:2", "hits", "5", "day", day3}, "OK");
  EXPECT_EQ(Get("set:2", "hits"), 0);
  EXPECT_EQ(Get("set:2", "hits", "day", day3), 5);
  EXPECT_EQ(Get("set:2", "hits", "month", UtcLabel("month", NoonUtcDaysAgo(3))), 0);
  model.Set("set:2", "hits", "day", day3, 5);
  // The other key of the owner never moved.
  ExpectModel(conn(), model, "set:1", "other");

  KillAndRestart();
  for (const char* key : {"hits", "other"}) ExpectModel(conn(), model, "set:1", key, "after kill -9:");
  ExpectModel(conn(), model, "set:2", "hits", "after kill -9:");
  CleanRestart();
  for (const char* key : {"hits", "other"}) ExpectModel(conn(), model, "set:1", key, "after a clean restart:");
  ExpectModel(conn(), model, "set:2", "hits", "after a clean restart:");
}

TEST_F(CounterCommandsTest, DuplicateIdIsNotAppliedTwiceEvenAfterRestart) {
  AvoidHourBoundary();
  const std::string day2 = UtcLabel("day", NoonUtcDaysAgo(2));
  ExpectCli({"CTR.INCRBY", "id:1", "calls", "1", "ID", "req-7f3a"}, "(integer) 1");
  ExpectCli({"CTR.INCRBY", "id:1", "calls", "1", "ID", "req-7f3a"}, "(integer) 1");
  ExpectCli({"CTR.INCRBY", "id:1", "calls", "5", "ID", "req-2"}, "(integer) 6");
  // A repeat with another delta is not a retry: an id conflict, nothing applied.
  const std::string conflict = "(error) ERR " + std::string(protocol::errors::kIdConflict);
  ExpectCli({"CTR.INCRBY", "id:1", "calls", "50", "ID", "req-7f3a"}, conflict);
  ExpectCli({"CTR.INCR", "id:1", "calls", "ID", "req-3"}, "(integer) 7");
  ExpectCli({"CTR.DECRBY", "id:1", "calls", "2", "ID", "req-3"}, conflict);
  ExpectCli({"CTR.INCRBY", "id:1", "calls", "1", "ID", "req-3"}, "(integer) 7");  // INCR is INCRBY 1
  // ID and AT in either order; a late event is deduplicated as well.
  ExpectCli({"CTR.INCRBY", "id:1", "calls", "3", "ID", "late-1", "AT", At(NoonUtcDaysAgo(2))}, "(integer) 10");
  ExpectCli({"CTR.INCRBY", "id:1", "calls", "3", "AT", At(NoonUtcDaysAgo(2)), "ID", "late-1"}, "(integer) 10");
  // Printable punctuation is fine in an id; 128 bytes is the limit.
  const std::string long_id(128, 'x');
  EXPECT_TRUE(IsInteger(Call({"CTR.INCRBY", "id:1", "calls", "1", "ID", long_id}), 11));
  EXPECT_TRUE(IsInteger(Call({"CTR.INCRBY", "id:1", "calls", "1", "ID", long_id}), 11));
  EXPECT_TRUE(IsInteger(Call({"CTR.INCRBY", "id:1", "calls", "1", "ID", "a/b?c=d&e#f\"'"}), 12));
  EXPECT_TRUE(IsInteger(Call({"CTR.INCRBY", "id:1", "calls", "1", "ID", "a/b?c=d&e#f\"'"}), 12));

  auto check = [&](const std::string& when) {
    SCOPED_TRACE(when);
    EXPECT_EQ(Get("id:1", "calls"), 12);
    EXPECT_EQ(Get("id:1", "calls", "day", "current"), 9);
    EXPECT_EQ(Get("id:1", "calls", "hour", "current"), 9);
    EXPECT_EQ(Get("id:1", "calls", "day", day2), 3);
    // Every id seen so far is a duplicate when retried with its arguments:
    // the reply is the total, nothing applied; other arguments conflict.
    for (const std::string& id :
         {std::string("req-7f3a"), std::string("req-3"), long_id, std::string("a/b?c=d&e#f\"'")}) {
      EXPECT_TRUE(IsInteger(Call({"CTR.INCRBY", "id:1", "calls", "1", "ID", id}), 12)) << id;
      EXPECT_EQ(Cli({"CTR.INCRBY", "id:1", "calls", "2", "ID", id}), conflict) << id;
    }
    EXPECT_TRUE(IsInteger(Call({"CTR.INCRBY", "id:1", "calls", "5", "ID", "req-2"}), 12));
    EXPECT_TRUE(IsInteger(Call({"CTR.INCRBY", "id:1", "calls", "3", "AT", At(NoonUtcDaysAgo(2)), "ID", "late-1"}), 12));
    EXPECT_EQ(Cli({"CTR.INCRBY", "id:1", "calls", "3", "ID", "late-1"}), conflict);  // without its AT
    EXPECT_EQ(Get("id:1", "calls"), 12);
    EXPECT_EQ(Get("id:1", "calls", "day", "current"), 9);
    EXPECT_EQ(Get("id:1", "calls", "day", day2), 3);
  };
  check("before any restart");
  KillAndRestart();
  check("after kill -9 (ids from the log)");
  CleanRestart();
  check("after a clean restart (ids compacted)");
  KillAndRestart();
  check("after kill -9 of the compacted state");
  // A new id still applies.
  EXPECT_TRUE(IsInteger(Call({"CTR.INCRBY", "id:1", "calls", "1", "ID", "req-4"}), 13));
}

std::string RankLine(const RespValue& v) { return Pairs(v); }

TEST_F(CounterCommandsTest, TopOrdersByValueThenOwner) {
  AvoidHourBoundary();
  const std::vector<std::pair<std::string, int64_t>> values = {
      {"top:a", 5}, {"top:b", 10}, {"top:c", 10}, {"top:d", 3}, {"top:e", 7}, {"other:x", 10}, {"top:neg", -2}};
  for (const auto& [owner, value] : values) {
    ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", owner, "downloads", std::to_string(value)}), value));
  }
  // Another key does not mix in.
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "top:f", "uploads", "1000"}), 1000));
  const std::string all = "other:x=10 top:b=10 top:c=10 top:e=7 top:a=5 top:d=3 top:neg=-2";
  EXPECT_EQ(RankLine(Call({"CTR.TOP", "downloads", "total"})), all);
  EXPECT_EQ(RankLine(Call({"CTR.TOP", "downloads", "total", "total", "LIMIT", "100"})), all);
  EXPECT_EQ(RankLine(Call({"CTR.TOP", "downloads", "total", "LIMIT", "2"})), "other:x=10 top:b=10");
  EXPECT_EQ(RankLine(Call({"CTR.TOP", "downloads", "total", "LIMIT", "3", "PREFIX", "top:"})),
            "top:b=10 top:c=10 top:e=7");
  EXPECT_EQ(RankLine(Call({"CTR.TOP", "downloads", "total", "PREFIX", "top:", "LIMIT", "1"})), "top:b=10");
  EXPECT_EQ(RankLine(Call({"CTR.TOP", "downloads", "total", "PREFIX", "nobody:"})), "");
  EXPECT_EQ(RankLine(Call({"CTR.TOP", "nothing", "day"})), "");
  ExpectCli({"CTR.TOP", "downloads", "total", "LIMIT", "2"},
            "1) 1) \"other:x\"\n   2) (integer) 10\n2) 1) \"top:b\"\n   2) (integer) 10");
  ExpectCli({"CTR.TOP", "nothing", "day"}, "(empty array)");

  // A past day: only the late events.
  const std::string day2 = UtcLabel("day", NoonUtcDaysAgo(2));
  ASSERT_EQ(Call({"CTR.INCRBY", "top:a", "downloads", "4", "AT", At(NoonUtcDaysAgo(2))}).type,
            RespValue::Type::kInteger);
  ASSERT_EQ(Call({"CTR.INCRBY", "top:d", "downloads", "9", "AT", At(NoonUtcDaysAgo(2))}).type,
            RespValue::Type::kInteger);
  ASSERT_EQ(Call({"CTR.INCRBY", "top:z", "downloads", "4", "AT", At(NoonUtcDaysAgo(2))}).type,
            RespValue::Type::kInteger);
  EXPECT_EQ(RankLine(Call({"CTR.TOP", "downloads", "day", day2})), "top:d=9 top:a=4 top:z=4");
  const std::string all2 = "top:d=12 other:x=10 top:b=10 top:c=10 top:a=9 top:e=7 top:z=4 top:neg=-2";
  EXPECT_EQ(RankLine(Call({"CTR.TOP", "downloads", "total", "LIMIT", "10"})), all2);

  // The default LIMIT is 10.
  for (int i = 0; i < 12; ++i) {
    ASSERT_EQ(Call({"CTR.INCRBY", "many:" + std::to_string(100 + i), "views", std::to_string(i + 1)}).type,
              RespValue::Type::kInteger);
  }
  RespValue ten = Call({"CTR.TOP", "views", "day"});
  ASSERT_EQ(ten.type, RespValue::Type::kArray);
  EXPECT_EQ(ten.elements.size(), 10u) << ten;
  EXPECT_EQ(RankLine(Call({"CTR.TOP", "views", "day", "LIMIT", "3"})), "many:111=12 many:110=11 many:109=10");

  // After a clean restart the ranking comes from the compacted index; then
  // from memory and index mixed once some counters are touched again.
  CleanRestart();
  EXPECT_EQ(RankLine(Call({"CTR.TOP", "downloads", "total", "LIMIT", "10"})), all2);
  EXPECT_EQ(RankLine(Call({"CTR.TOP", "downloads", "day", day2})), "top:d=9 top:a=4 top:z=4");
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "top:e", "downloads", "4"}), 11));
  EXPECT_TRUE(IsInteger(Call({"CTR.GET", "top:c", "downloads"}), 10));  // in memory, unchanged
  EXPECT_EQ(RankLine(Call({"CTR.TOP", "downloads", "total", "LIMIT", "4"})), "top:d=12 top:e=11 other:x=10 top:b=10");
  KillAndRestart();
  EXPECT_EQ(RankLine(Call({"CTR.TOP", "downloads", "total", "LIMIT", "4"})), "top:d=12 top:e=11 other:x=10 top:b=10");
}

TEST_F(CounterCommandsTest, DeleteRemovesCells) {
  AvoidHourBoundary();
  const std::string day2 = UtcLabel("day", NoonUtcDaysAgo(2));
  Model model;
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "del:1", "hits", "5"}), 5));
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "del:1", "hits", "2", "AT", At(NoonUtcDaysAgo(2))}), 7));
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "del:1", "other", "4"}), 4));
  model.Increment("del:1", "hits", 5, NowMs());
  model.Increment("del:1", "hits", 2, NoonUtcDaysAgo(2));
  model.Increment("del:1", "other", 4, NowMs());
  const int64_t cells = static_cast<int64_t>(model.Cells("del:1", "hits").size());

  // Every day cell: today and two days ago.
  ExpectCli({"CTR.DEL", "del:1", "hits", "day"}, "(integer) 2");
  model.Set("del:1", "hits", "day", UtcLabel("day", NowMs()), 0);
  model.Set("del:1", "hits", "day", day2, 0);
  ExpectModel(conn(), model, "del:1", "hits");
  EXPECT_EQ(Get("del:1", "hits"), 7);
  ExpectCli({"CTR.DEL", "del:1", "hits", "day"}, "(integer) 0");
  // Increments after the delete start from 0 in the deleted interval.
  ExpectCli({"CTR.INCRBY", "del:1", "hits", "1"}, "(integer) 8");
  model.Increment("del:1", "hits", 1, NowMs());
  EXPECT_EQ(Get("del:1", "hits", "day", "current"), 1);
  ExpectModel(conn(), model, "del:1", "hits");

  // The whole counter: every cell that existed (the two day cells are gone,
  // today's day cell is back).
  ExpectCli({"CTR.DEL", "del:1", "hits"}, "(integer) " + std::to_string(cells - 1));
  for (const auto& [interval, label] : model.Cells("del:1", "hits")) model.Set("del:1", "hits", interval, label, 0);
  ExpectModel(conn(), model, "del:1", "hits");
  EXPECT_TRUE(IsInteger(Call({"CTR.SUM", "del:1", "hits", "day"}), 0));
  ExpectCli({"CTR.DEL", "del:1", "hits"}, "(integer) 0");
  ExpectCli({"CTR.DEL", "nobody:1", "hits"}, "(integer) 0");
  // The other key of the owner is untouched.
  ExpectModel(conn(), model, "del:1", "other");

  KillAndRestart();
  ExpectModel(conn(), model, "del:1", "hits", "after kill -9:");
  ExpectModel(conn(), model, "del:1", "other", "after kill -9:");
  EXPECT_TRUE(IsInteger(Call({"CTR.DEL", "del:1", "hits"}), 0)) << "after kill -9 the deleted counter has no cells";

  // Deleting compacted cells (after a clean restart they are only in RocksDB).
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "del:2", "hits", "3"}), 3));
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "del:2", "hits", "1", "AT", At(NoonUtcDaysAgo(2))}), 4));
  CleanRestart();
  EXPECT_TRUE(IsInteger(Call({"CTR.DEL", "del:2", "hits", "day"}), 2));
  EXPECT_EQ(Get("del:2", "hits", "day", "current"), 0);
  EXPECT_EQ(Get("del:2", "hits", "day", day2), 0);
  EXPECT_EQ(Get("del:2", "hits"), 4);
  CleanRestart();
  EXPECT_EQ(Get("del:2", "hits", "day", "current"), 0);
  EXPECT_EQ(Get("del:2", "hits", "day", day2), 0);
  EXPECT_EQ(Get("del:2", "hits"), 4);
  EXPECT_EQ(Get("del:2", "hits", "month", "current"),
            4 - (UtcLabel("month", NoonUtcDaysAgo(2)) == UtcLabel("month", NowMs()) ? 0 : 1));
  // A deleted interval stays deleted through compaction: nothing to remove again.
  EXPECT_TRUE(IsInteger(Call({"CTR.DEL", "del:2", "hits", "day"}), 0));
  EXPECT_TRUE(IsInteger(Call({"CTR.DEL", "del:1", "hits"}), 0))
      << "a counter deleted before a clean restart still reports cells";
  // The deleted key is gone from the owner's keys.
  EXPECT_EQ(Cli({"CTR.ALL", "del:1"}), "1) \"other\"\n2) (integer) 4");
}

TEST_F(CounterCommandsTest, AllListsEveryKeyOfTheOwnerSortedByKey) {
  AvoidHourBoundary();
  const std::string day2 = UtcLabel("day", NoonUtcDaysAgo(2));
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "user:42", "downloads", "3"}), 3));
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "user:42", "api_calls", "5"}), 5));
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "user:42", "ai.tokens", "7", "AT", At(NoonUtcDaysAgo(2))}), 7));
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "user:7", "downloads", "10"}), 10));

  ExpectCli({"CTR.ALL", "user:42"},
            "1) \"ai.tokens\"\n2) (integer) 7\n3) \"api_calls\"\n4) (integer) 5\n5) \"downloads\"\n6) (integer) 3");
  auto flat = [](const RespValue& v) {
    std::string out;
    for (const auto& e : v.elements)
      out += (out.empty() ? "" : " ") + (e.type == RespValue::Type::kBulk ? e.str : std::to_string(e.integer));
    return v.type == RespValue::Type::kArray ? out : v.ToString();
  };
  EXPECT_EQ(flat(Call({"CTR.ALL", "user:42", "total"})), "ai.tokens 7 api_calls 5 downloads 3");
  EXPECT_EQ(flat(Call({"CTR.ALL", "user:42", "day"})), "ai.tokens 0 api_calls 5 downloads 3");
  EXPECT_EQ(flat(Call({"CTR.ALL", "user:42", "day", day2})), "ai.tokens 7 api_calls 0 downloads 0");
  EXPECT_EQ(flat(Call({"CTR.ALL", "user:42", "year", "2001"})), "ai.tokens 0 api_calls 0 downloads 0");
  EXPECT_EQ(flat(Call({"CTR.ALL", "user:7"})), "downloads 10");
  ExpectCli({"CTR.ALL", "user:99"}, "(empty array)");

  KillAndRestart();
  EXPECT_EQ(flat(Call({"CTR.ALL", "user:42", "day", day2})), "ai.tokens 7 api_calls 0 downloads 0");
  CleanRestart();
  EXPECT_EQ(flat(Call({"CTR.ALL", "user:42"})), "ai.tokens 7 api_calls 5 downloads 3");
  EXPECT_EQ(flat(Call({"CTR.ALL", "user:42", "day"})), "ai.tokens 0 api_calls 5 downloads 3");
  // New keys after the restart merge with the compacted ones.
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "user:42", "b.new", "1"}), 1));
  EXPECT_EQ(flat(Call({"CTR.ALL", "user:42"})), "ai.tokens 7 api_calls 5 b.new 1 downloads 3");
}

TEST_F(CounterCommandsTest, MGetReadsOneCellOfManyOwners) {
  AvoidHourBoundary();
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "user:42", "downloads", "3"}), 3));
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "user:7", "downloads", "10"}), 10));
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "user:7", "downloads", "1", "AT", At(NoonUtcDaysAgo(2))}), 11));
  ExpectCli({"CTR.MGET", "downloads", "day", "current", "user:42", "user:7", "user:99"},
            "1) (integer) 3\n2) (integer) 10\n3) (integer) 0");
  ExpectCli({"CTR.MGET", "downloads", "total", "total", "user:7"}, "1) (integer) 11");
  ExpectCli({"CTR.MGET", "downloads", "day", UtcLabel("day", NoonUtcDaysAgo(2)), "user:42", "user:7"},
            "1) (integer) 0\n2) (integer) 1");
  // A day label for a month; the same owner twice.
  ExpectCli({"CTR.MGET", "downloads", "month", UtcLabel("day", NowMs()), "user:7", "user:7"},
            UtcLabel("month", NoonUtcDaysAgo(2)) == UtcLabel("month", NowMs()) ? "1) (integer) 11\n2) (integer) 11"
                                                                               : "1) (integer) 10\n2) (integer) 10");
  CleanRestart();
  ExpectCli({"CTR.MGET", "downloads", "day", "current", "user:42", "user:7", "user:99"},
            "1) (integer) 3\n2) (integer) 10\n3) (integer) 0");
}

// Pages through CTR.OWNERS; fails the test on a malformed reply.
std::vector<std::string> AllOwnerPages(RespClient& c, const std::string& prefix, int count, size_t* pages) {
  std::vector<std::string> owners;
  std::string cursor = "0";
  *pages = 0;
  for (int guard = 0; guard < 1000; ++guard) {
    std::vector<std::string> args = {"CTR.OWNERS"};
    if (!prefix.empty()) args.insert(args.end(), {"PREFIX", prefix});
    args.insert(args.end(), {"CURSOR", cursor, "COUNT", std::to_string(count)});
    RespValue v = c.Call(args);
    if (v.type != RespValue::Type::kArray || v.elements.size() != 2 || v.elements[0].type != RespValue::Type::kBulk ||
        v.elements[1].type != RespValue::Type::kArray) {
      ADD_FAILURE() << "CTR.OWNERS replied " << v;
      return owners;
    }
    ++*pages;
    EXPECT_LE(v.elements[1].elements.size(), static_cast<size_t>(count));
    for (const auto& e : v.elements[1].elements) owners.push_back(e.str);
    cursor = v.elements[0].str;
    if (cursor == "0") return owners;
  }
  ADD_FAILURE() << "CTR.OWNERS never returned cursor 0";
  return owners;
}

TEST_F(CounterCommandsTest, OwnersPagesInNameOrder) {
  std::vector<std::string> expected_p;
  auto name = [](int i) {
    char buf[16];
    snprintf(buf, sizeof buf, "p:%03d", i);
    return std::string(buf);
  };
  // Half of the owners compacted (before a clean restart), half new in memory.
  for (int i = 0; i < 26; i += 2) ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", name(i), "hits", "1"}), 1));
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "q:1", "hits", "1"}), 1));
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "a:1", "hits", "1"}), 1));
  CleanRestart();
  for (int i = 1; i < 26; i += 2) ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", name(i), "hits", "1"}), 1));
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "r:1", "hits", "1"}), 1));
  // One owner with two keys is listed once.
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", name(3), "other", "1"}), 1));
  for (int i = 0; i < 26; ++i) expected_p.push_back(name(i));

  auto check = [&](const std::string& when) {
    SCOPED_TRACE(when);
    size_t pages = 0;
    EXPECT_EQ(AllOwnerPages(conn(), "p:", 10, &pages), expected_p);
    EXPECT_EQ(pages, 3u);
    std::vector<std::string> everyone = expected_p;
    everyone.insert(everyone.begin(), "a:1");
    everyone.insert(everyone.end(), {"q:1", "r:1"});
    EXPECT_EQ(AllOwnerPages(conn(), "", 7, &pages), everyone);
    EXPECT_EQ(pages, 5u);
    EXPECT_EQ(AllOwnerPages(conn(), "", 1, &pages), everyone);
    // Exactly COUNT owners: one page, done.
    EXPECT_EQ(AllOwnerPages(conn(), "p:", 26, &pages), expected_p);
    EXPECT_EQ(pages, 1u);
    EXPECT_EQ(AllOwnerPages(conn(), "p:01", 100, &pages),
              std::vector<std::string>(expected_p.begin() + 10, expected_p.begin() + 20));
    EXPECT_EQ(AllOwnerPages(conn(), "zz:", 10, &pages), std::vector<std::string>{});
    // Default COUNT (100) and the cursor protocol as redis-cli shows it.
    RespValue all = Call({"CTR.OWNERS"});
    ASSERT_EQ(all.type, RespValue::Type::kArray);
    ASSERT_EQ(all.elements.size(), 2u);
    EXPECT_EQ(all.elements[0].str, "0");
    EXPECT_EQ(all.elements[1].elements.size(), everyone.size());
    EXPECT_EQ(Cli({"CTR.OWNERS", "PREFIX", "q:"}), "1) \"0\"\n2) 1) \"q:1\"");
    EXPECT_EQ(Cli({"CTR.OWNERS", "PREFIX", "p:", "COUNT", "2"}), "1) \"p:001\"\n2) 1) \"p:000\"\n   2) \"p:001\"");
  };
  check("mixed compacted and in-memory owners");
  KillAndRestart();
  check("after kill -9");
  CleanRestart();
  check("after a clean restart");
}

TEST_F(CounterCommandsTest, OwnerTimeZoneDecidesPeriodsAndPersists) {
  // 22:00 UTC two days ago is 12:00 the next day in Pacific/Kiritimati (+14).
  const int64_t t = NoonUtcDaysAgo(2) + 10 * kHourMs;
  const std::string utc_day = UtcLabel("day", t), local_day = UtcLabel("day", t + 14 * kHourMs);
  const std::string local_hour = UtcLabel("hour", t + 14 * kHourMs);
  ExpectCli({"OWNER.TZ", "tz:1"}, "\"UTC\"");
  // Before the zone is set, events count in the daemon's zone (UTC)...
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "tz:1", "hits", "1", "AT", At(t)}), 1));
  ExpectCli({"OWNER.TZ", "tz:1", "Pacific/Kiritimati"}, "OK");
  ExpectCli({"OWNER.TZ", "tz:1"}, "\"Pacific/Kiritimati\"");
  // ...and those before stay where they were; events from now on count in the owner's zone.
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "tz:1", "hits", "10", "AT", At(t)}), 11));
  // The same event for an owner in UTC.
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "tz:2", "hits", "10", "AT", At(t)}), 10));
  // A zone for an owner without counters; an unknown zone changes nothing.
  ExpectCli({"OWNER.TZ", "tz:3", "America/New_York"}, "OK");
  RespValue bad = Call({"OWNER.TZ", "tz:1", "Mars/Olympus_Mons"});
  EXPECT_EQ(bad.str, "ERR unknown timezone 'Mars/Olympus_Mons' (use an IANA name like Europe/Berlin)");

  auto check = [&](const std::string& when, int64_t extra) {
    SCOPED_TRACE(when);
    EXPECT_EQ(Cli({"OWNER.TZ", "tz:1"}), "\"Pacific/Kiritimati\"");
    EXPECT_EQ(Cli({"OWNER.TZ", "tz:3"}), "\"America/New_York\"");
    EXPECT_EQ(Cli({"OWNER.TZ", "tz:2"}), "\"UTC\"");
    EXPECT_EQ(Get("tz:1", "hits", "day", utc_day), 1);
    EXPECT_EQ(Get("tz:1", "hits", "day", local_day), 10 + extra);
    // Hour cells are instants: the event before the zone change is in the same hour.
    EXPECT_EQ(Get("tz:1", "hits", "hour", local_hour), 11 + extra);
    EXPECT_EQ(Get("tz:2", "hits", "day", utc_day), 10);
    EXPECT_EQ(Get("tz:2", "hits", "day", local_day), 0);
    // Labels in replies are the owner's.
    RespValue h = Call({"CTR.HISTORY", "tz:1", "hits", "day", "1", "FROM", local_day});
    EXPECT_EQ(Pairs(h), local_day + "=" + std::to_string(10 + extra));
    // The zone applies to events after the restart too.
    EXPECT_TRUE(IsInteger(Call({"CTR.INCRBY", "tz:1", "hits", "1", "AT", At(t)}), 12 + extra));
    EXPECT_EQ(Get("tz:1", "hits", "day", local_day), 11 + extra);
  };
  check("right away", 0);
  KillAndRestart();
  check("after kill -9", 1);
  CleanRestart();
  check("after a clean restart", 2);
  KillAndRestart();
  check("after kill -9 of the compacted state", 3);
  // Changing the zone again persists as well; back to UTC.
  ExpectCli({"OWNER.TZ", "tz:1", "UTC"}, "OK");
  CleanRestart();
  EXPECT_EQ(Cli({"OWNER.TZ", "tz:1"}), "\"UTC\"");
}

// Hour cells are real hours in the owner's zone (docs/counters.md, "Time
// zones and daylight saving"): the repeated fall-back hour has a label of its
// own, the spring-forward day has 23 hours and its skipped hour is an error.
TEST_F(CounterCommandsTest, DaylightSavingHoursInTheOwnersZone) {
  ExpectCli({"OWNER.TZ", "dst:1", "Europe/Berlin"}, "OK");
  ExpectCli({"CTR.SET", "dst:1", "hits", "1", "hour", "2024-10-27T02"}, "OK");
  ExpectCli({"CTR.SET", "dst:1", "hits", "2", "hour", "2024-10-27T02+01:00"}, "OK");
  ExpectCli({"CTR.SET", "dst:1", "hits", "3", "hour", "2024-10-27T03"}, "OK");
  EXPECT_EQ(Pairs(Call({"CTR.HISTORY", "dst:1", "hits", "hour", "4", "FROM", "2024-10-27T03"})),
            "2024-10-27T03=3 2024-10-27T02+01:00=2 2024-10-27T02=1 2024-10-27T01=0");
  // A label without offset means the earlier of the two hours.
  EXPECT_TRUE(IsInteger(Call({"CTR.GET", "dst:1", "hits", "hour", "2024-10-27T02"}), 1));
  EXPECT_TRUE(IsInteger(Call({"CTR.GET", "dst:1", "hits", "hour", "2024-10-27T02+02:00"}), 1));
  // The fall-back day has 25 hour cells, the spring-forward day 23.
  RespValue fall = Call({"CTR.HISTORY", "dst:1", "hits", "hour", "25", "FROM", "2024-10-27T23"});
  ASSERT_EQ(fall.type, RespValue::Type::kArray);
  ASSERT_EQ(fall.elements.size(), 25u);
  EXPECT_EQ(fall.elements.back().elements[0].str, "2024-10-27T00");
  RespValue spring = Call({"CTR.HISTORY", "dst:1", "hits", "hour", "24", "FROM", "2024-03-31T23"});
  ASSERT_EQ(spring.type, RespValue::Type::kArray);
  ASSERT_EQ(spring.elements.size(), 24u);
  EXPECT_EQ(spring.elements[22].elements[0].str, "2024-03-31T00");
  EXPECT_EQ(spring.elements[23].elements[0].str, "2024-03-30T23");
  EXPECT_EQ(spring.elements[20].elements[0].str, "2024-03-31T03");
  EXPECT_EQ(spring.elements[21].elements[0].str, "2024-03-31T01");
  EXPECT_TRUE(IsInteger(Call({"CTR.SUM", "dst:1", "hits", "hour", "FROM", "2024-10-27T00", "TO", "2024-10-27T23"}), 6));
  CleanRestart();
  EXPECT_EQ(Pairs(Call({"CTR.HISTORY", "dst:1", "hits", "hour", "4", "FROM", "2024-10-27T03"})),
            "2024-10-27T03=3 2024-10-27T02+01:00=2 2024-10-27T02=1 2024-10-27T01=0");
}

// The bounds are configurable and the errors name the configured values.
class CounterBoundsTest : public CounterCommandsTest {
 protected:
  std::vector<std::string> ExtraArgs() const override {
    return {"--dedupe-window-s", "1", "--max-backdate-s", "3600", "--max-future-skew-s", "10"};
  }
};

TEST_F(CounterBoundsTest, ConfiguredDedupeWindowAndAtBounds) {
  const int64_t now = NowMs();
  const std::string old = std::to_string(now - 3600 * 1000 - 60000), ahead = std::to_string(now + 60000);
  EXPECT_EQ(Call({"CTR.INCRBY", "b:1", "k", "1", "AT", old}).str,
            "ERR AT " + old + " is more than 1 hour (max_backdate) in the past");
  EXPECT_EQ(Call({"CTR.INCRBY", "b:1", "k", "1", "AT", ahead}).str,
            "ERR AT " + ahead + " is more than 10 seconds (max_future_skew) in the future");
  EXPECT_TRUE(IsInteger(Call({"CTR.INCRBY", "b:1", "k", "1", "AT", std::to_string(now - 1800 * 1000)}), 1));
  // The id is forgotten after the window (1 s): the same id applies again.
  EXPECT_TRUE(IsInteger(Call({"CTR.INCRBY", "b:1", "k", "1", "ID", "once"}), 2));
  EXPECT_TRUE(IsInteger(Call({"CTR.INCRBY", "b:1", "k", "1", "ID", "once"}), 2));
  std::this_thread::sleep_for(std::chrono::milliseconds(1300));
  EXPECT_TRUE(IsInteger(Call({"CTR.INCRBY", "b:1", "k", "1", "ID", "once"}), 3));
  EXPECT_TRUE(IsInteger(Call({"CTR.INCRBY", "b:1", "k", "1", "ID", "once"}), 3));
}

// Reads must not create owners or keys: CTR.OWNERS and CTR.ALL list only what
// was written.
TEST_F(CounterCommandsTest, ReadsDoNotCreateOwnersOrKeys) {
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "real:1", "hits", "1"}), 1));
  EXPECT_TRUE(IsInteger(Call({"CTR.GET", "ghost:1", "hits"}), 0));
  EXPECT_EQ(Call({"CTR.MGET", "hits", "day", "current", "ghost:2", "real:1"}).type, RespValue::Type::kArray);
  EXPECT_EQ(Call({"CTR.ALL", "ghost:3"}).type, RespValue::Type::kArray);
  EXPECT_EQ(Call({"CTR.HISTORY", "ghost:4", "hits", "day", "3"}).type, RespValue::Type::kArray);
  EXPECT_TRUE(IsInteger(Call({"CTR.SUM", "ghost:5", "hits", "day"}), 0));
  EXPECT_EQ(Call({"OWNER.TZ", "ghost:6"}).str, "UTC");
  EXPECT_TRUE(IsInteger(Call({"CTR.GET", "real:1", "ghost_key", "day"}), 0));
  EXPECT_TRUE(IsInteger(Call({"CTR.SUM", "real:1", "ghost_key2", "day"}), 0));
  auto check = [&](const std::string& when) {
    SCOPED_TRACE(when);
    EXPECT_EQ(Cli({"CTR.OWNERS"}), "1) \"0\"\n2) 1) \"real:1\"");
    EXPECT_EQ(Cli({"CTR.ALL", "real:1"}), "1) \"hits\"\n2) (integer) 1");
  };
  check("right away");
  CleanRestart();
  check("after a clean restart");
}

}  // namespace
}  // namespace tally::itest::counters
