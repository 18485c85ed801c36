// The counter API over RESP against the real tallyd (docs/counters.md):
// event-id conflicts, which owners CTR.OWNERS lists after reads and deletes,
// CTR.TOP pages (OFFSET) and ranges (FROM/TO), CTR.HISTORY WITHSTART,
// CTR.ADJUST (every interval consistent, audited) and the atomic
// multi-interval CTR.RECOUNT CELLS.
//
// The daemon runs in UTC; late events use AT at 12:00 UTC some days ago so
// their labels are stable, and tests that read cells of now keep away from
// hour boundaries.

#include <gtest/gtest.h>
#include <time.h>

#include <string>
#include <thread>
#include <vector>

#include "counters_util.h"
#include "protocol/errors.h"
#include "tallyd_process.h"

namespace tally::itest::counters {
namespace {

std::string At(int64_t ms) { return std::to_string(ms); }

// "owner=value owner=value" of a CTR.TOP reply.
std::string Ranking(const RespValue& v) {
  if (v.type != RespValue::Type::kArray) return "<not an array: " + v.ToString() + ">";
  std::string out;
  for (const RespValue& pair : v.elements) {
    if (!out.empty()) out += " ";
    out += pair.elements[0].str + "=" + std::to_string(pair.elements[1].integer);
  }
  return out;
}

// The owners of every CTR.OWNERS page.
std::string ListedOwners(RespClient& c) {
  std::string out, cursor = "0";
  for (int guard = 0; guard < 100; ++guard) {
    RespValue page = c.Call({"CTR.OWNERS", "CURSOR", cursor, "COUNT", "2"});
    if (page.type != RespValue::Type::kArray || page.elements.size() != 2)
      return "<bad reply: " + page.ToString() + ">";
    for (const RespValue& owner : page.elements[1].elements) out += (out.empty() ? "" : " ") + owner.str;
    cursor = page.elements[0].str;
    if (cursor == "0") break;
  }
  return out;
}

// Midnight of a "YYYY-MM-DD" label in UTC, in unix ms.
int64_t UtcMidnightMs(const std::string& day) {
  struct tm tm {};
  strptime(day.c_str(), "%Y-%m-%d", &tm);
  return static_cast<int64_t>(timegm(&tm)) * 1000;
}

class CounterApiTest : public TallydTest {
 protected:
  // Audit records get their seqs at compaction: compact often.
  std::vector<std::string> ExtraArgs() const override { return {"--compaction-interval-ms", "50"}; }

  RespClient& conn() {
    if (!conn_.connected()) conn_ = Connect();
    return conn_;
  }
  RespValue Call(const std::vector<std::string>& args) { return conn().Call(args); }
  std::string Error(const std::vector<std::string>& args) {
    RespValue v = Call(args);
    EXPECT_TRUE(v.is_error()) << ::testing::PrintToString(args) << " replied " << v;
    return v.str;
  }
  int64_t Get(const std::string& owner, const std::string& key, const std::string& interval = "total",
              const std::string& label = "total") {
    return GetCell(conn(), owner, key, interval, label);
  }
  void CleanRestart() {
    conn_.Close();
    ASSERT_TRUE(daemon().Restart());
  }
  // The audit records after `since`, once compaction has given them seqs
  // (waits up to 4 s for at least `count`).
  std::vector<RespValue> AuditAfter(int64_t since, size_t count) {
    RespValue page;
    for (int i = 0; i < 200; ++i) {
      page = Call({"AUDIT.READ", std::to_string(since), "COUNT", "100"});
      if (page.type == RespValue::Type::kArray && page.elements.size() == 2 &&
          page.elements[1].elements.size() >= count) {
        return page.elements[1].elements;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << "fewer than " << count << " audit records after " << since << ": " << page;
    return {};
  }

  RespClient conn_;
};

// ---- exactly-once ids --------------------------------------------------------------

TEST_F(CounterApiTest, AnEventIdReusedWithOtherArgumentsIsAConflictThatChangesNothing) {
  AvoidHourBoundary();
  const std::string conflict = "ERR " + std::string(protocol::errors::kIdConflict);
  const std::string late = At(NoonUtcDaysAgo(3));
  EXPECT_TRUE(IsInteger(Call({"CTR.INCRBY", "idc:1", "calls", "4", "ID", "req-1"}), 4));
  EXPECT_TRUE(IsInteger(Call({"CTR.INCRBY", "idc:1", "calls", "4", "ID", "req-1"}), 4));  // a retry: a duplicate
  EXPECT_EQ(Error({"CTR.INCRBY", "idc:1", "calls", "5", "ID", "req-1"}), conflict);
  EXPECT_EQ(Error({"CTR.INCRBY", "idc:1", "calls", "4", "ID", "req-1", "AT", late}), conflict);
  EXPECT_EQ(Error({"CTR.DECRBY", "idc:1", "calls", "4", "ID", "req-1"}), conflict);
  // An id belongs to one counter: another key of the owner may use it.
  EXPECT_TRUE(IsInteger(Call({"CTR.INCRBY", "idc:1", "other", "9", "ID", "req-1"}), 9));
  EXPECT_TRUE(IsInteger(Call({"CTR.INCRBY", "idc:1", "calls", "2", "ID", "req-2", "AT", late}), 6));
  EXPECT_EQ(Error({"CTR.INCRBY", "idc:1", "calls", "2", "ID", "req-2"}), conflict);  // AT was part of it
  auto check = [&](const std::string& when) {
    SCOPED_TRACE(when);
    EXPECT_EQ(Get("idc:1", "calls"), 6);
    EXPECT_EQ(Get("idc:1", "calls", "day", "current"), 4);
    EXPECT_EQ(Get("idc:1", "calls", "day", UtcLabel("day", NoonUtcDaysAgo(3))), 2);
    EXPECT_EQ(Error({"CTR.INCRBY", "idc:1", "calls", "1", "ID", "req-1"}), conflict);
    EXPECT_TRUE(IsInteger(Call({"CTR.INCRBY", "idc:1", "calls", "2", "ID", "req-2", "AT", late}), 6));
  };
  check("right away");
  CleanRestart();
  check("after a clean restart");
}

// ---- which owners are listed ---------------------------------------------------------

TEST_F(CounterApiTest, ReadsAndDeletesNeverCreateOwnersAndEmptyOwnersAreNotListed) {
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "list:a", "hits", "1"}), 1));
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "list:b", "hits", "2"}), 2));
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "list:b", "views", "3"}), 3));
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "list:c", "hits", "4"}), 4));
  // Reads of owners never written, and deletes of counters that hold nothing.
  EXPECT_TRUE(IsInteger(Call({"CTR.GET", "ghost:1", "hits"}), 0));
  EXPECT_EQ(Call({"CTR.MGET", "hits", "total", "current", "ghost:2", "list:a"}).elements.size(), 2u);
  EXPECT_EQ(Call({"CTR.HISTORY", "ghost:3", "hits", "day", "2", "WITHSTART"}).elements.size(), 2u);
  EXPECT_EQ(Ranking(Call({"CTR.TOP", "hits", "total", "PREFIX", "ghost:"})), "");
  EXPECT_TRUE(IsInteger(Call({"CTR.DEL", "ghost:4", "hits"}), 0));
  EXPECT_TRUE(IsInteger(Call({"CTR.DEL", "list:a", "never_written"}), 0));
  // A deleted interval leaves the total: the owner stays.
  EXPECT_TRUE(IsInteger(Call({"CTR.DEL", "list:c", "hits", "day"}), 1));
  // Deleting one of two counters leaves the owner; deleting the only one removes it from the list.
  EXPECT_TRUE(IsInteger(Call({"CTR.DEL", "list:b", "views"}), 7));
  EXPECT_TRUE(IsInteger(Call({"CTR.DEL", "list:a", "hits"}), 7));
  auto check = [&](const std::string& when) {
    SCOPED_TRACE(when);
    EXPECT_EQ(ListedOwners(conn()), "list:b list:c");
    EXPECT_EQ(Ranking(Call({"CTR.TOP", "hits", "total"})), "list:c=4 list:b=2");
  };
  check("right away");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // several compactions
  check("after compaction");
  CleanRestart();
  check("after a clean restart");
  // Counting again brings the owner back.
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "list:a", "hits", "1"}), 1));
  EXPECT_EQ(ListedOwners(conn()), "list:a list:b list:c");
}

// ---- CTR.TOP: pages and ranges ----------------------------------------------------------

TEST_F(CounterApiTest, TopOffsetPagesThroughTheRanking) {
  // 25 owners, rank:00 .. rank:24 with values 1 .. 25 (and a tie at the end).
  for (int i = 0; i < 25; ++i) {
    char name[16];
    snprintf(name, sizeof name, "rank:%02d", i);
    ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", name, "score", std::to_string(i + 1)}), i + 1));
  }
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "rank:tie", "score", "1"}), 1));
  const std::string all = Ranking(Call({"CTR.TOP", "score", "total", "LIMIT", "100"}));
  std::string paged;
  for (int offset = 0; offset < 40; offset += 10) {
    std::string page = Ranking(Call({"CTR.TOP", "score", "total", "OFFSET", std::to_string(offset), "LIMIT", "10"}));
    if (!page.empty()) paged += (paged.empty() ? "" : " ") + page;
  }
  EXPECT_EQ(paged, all);
  EXPECT_EQ(Ranking(Call({"CTR.TOP", "score", "total", "LIMIT", "2", "OFFSET", "1"})), "rank:23=24 rank:22=23");
  // Ties by owner name across a page boundary.
  EXPECT_EQ(Ranking(Call({"CTR.TOP", "score", "total", "OFFSET", "24", "LIMIT", "1"})), "rank:00=1");
  EXPECT_EQ(Ranking(Call({"CTR.TOP", "score", "total", "OFFSET", "25", "LIMIT", "5"})), "rank:tie=1");
  EXPECT_EQ(Ranking(Call({"CTR.TOP", "score", "total", "OFFSET", "26"})), "");
  EXPECT_EQ(Ranking(Call({"CTR.TOP", "score", "total", "OFFSET", "1000000"})), "");
  EXPECT_EQ(Ranking(Call({"CTR.TOP", "score", "total", "OFFSET", "0", "LIMIT", "1", "PREFIX", "rank:1"})),
            "rank:19=20");
  EXPECT_EQ(Error({"CTR.TOP", "score", "total", "OFFSET", "1000001"}), "ERR OFFSET must be between 0 and 1000000");
  EXPECT_EQ(Error({"CTR.TOP", "score", "total", "OFFSET", "-1"}), "ERR OFFSET must be between 0 and 1000000");
  EXPECT_EQ(Error({"CTR.TOP", "score", "total", "OFFSET", "ten"}), "ERR OFFSET 'ten' is not an integer");
  EXPECT_EQ(Error({"CTR.TOP", "score", "total", "OFFSET"}), "ERR OFFSET needs a value: OFFSET n");
}

TEST_F(CounterApiTest, TopRanksTheSumOfARangeOfPeriods) {
  AvoidHourBoundary();
  const std::string today = UtcLabel("day", NowMs());
  const std::string day1 = UtcLabel("day", NoonUtcDaysAgo(1));
  const std::string day6 = UtcLabel("day", NoonUtcDaysAgo(6));
  const std::string day9 = UtcLabel("day", NoonUtcDaysAgo(9));
  // week:a is busy today only, week:b every day of the last week, week:c long ago.
  ASSERT_FALSE(Call({"CTR.INCRBY", "week:a", "dl", "10"}).is_error());
  for (int days : {0, 1, 2, 3, 4, 5, 6}) {
    const std::vector<std::string> incr = {"CTR.INCRBY", "week:b", "dl", "3", "AT", At(NoonUtcDaysAgo(days))};
    ASSERT_FALSE(Call(days == 0 ? std::vector<std::string>{"CTR.INCRBY", "week:b", "dl", "3"} : incr).is_error());
  }
  ASSERT_FALSE(Call({"CTR.INCRBY", "week:c", "dl", "50", "AT", At(NoonUtcDaysAgo(9))}).is_error());
  ASSERT_FALSE(Call({"CTR.INCRBY", "other:d", "dl", "5", "AT", At(NoonUtcDaysAgo(1))}).is_error());
  auto check = [&](const std::string& when) {
    SCOPED_TRACE(when);
    EXPECT_EQ(Ranking(Call({"CTR.TOP", "dl", "day"})), "week:a=10 week:b=3");
    EXPECT_EQ(Ranking(Call({"CTR.TOP", "dl", "day", "FROM", day6, "TO", today})), "week:b=21 week:a=10 other:d=5");
    EXPECT_EQ(Ranking(Call({"CTR.TOP", "dl", "day", "TO", "current", "FROM", day6})), "week:b=21 week:a=10 other:d=5");
    EXPECT_EQ(Ranking(Call({"CTR.TOP", "dl", "day", "FROM", day9, "TO", day1})), "week:c=50 week:b=18 other:d=5");
    EXPECT_EQ(Ranking(Call({"CTR.TOP", "dl", "day", "FROM", day1, "TO", day1})), "other:d=5 week:b=3");
    EXPECT_EQ(Ranking(Call({"CTR.TOP", "dl", "day", "FROM", day6, "TO", today, "OFFSET", "1", "LIMIT", "1"})),
              "week:a=10");
    EXPECT_EQ(Ranking(Call({"CTR.TOP", "dl", "day", "FROM", day9, "TO", today, "PREFIX", "week:"})),
              "week:c=50 week:b=21 week:a=10");
    // The same range over hours (days are 24 hours in UTC).
    EXPECT_EQ(Ranking(Call({"CTR.TOP", "dl", "hour", "FROM", day6 + "T00", "TO", "current"})),
              "week:b=21 week:a=10 other:d=5");
  };
  check("right away");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // past days compacted into the index
  check("after compaction");
  CleanRestart();
  check("after a clean restart");

  // Errors name the argument; FROM without TO is the "needs both" error.
  EXPECT_EQ(Error({"CTR.TOP", "dl", "day", "FROM", day6}), "ERR CTR.TOP needs both FROM and TO");
  EXPECT_EQ(Error({"CTR.TOP", "dl", "day", "TO", today}), "ERR CTR.TOP needs both FROM and TO");
  EXPECT_EQ(Error({"CTR.TOP", "dl", "day", "FROM"}), "ERR FROM needs a value: FROM period");
  EXPECT_EQ(Error({"CTR.TOP", "dl", "day", "FROM", today, "TO", day6}), "ERR FROM " + today + " is after TO " + day6);
  EXPECT_EQ(Error({"CTR.TOP", "dl", "day", today, "FROM", day6, "TO", today}),
            "ERR period and FROM cannot be given together");
  EXPECT_EQ(Error({"CTR.TOP", "dl", "total", "FROM", "total", "TO", "total"}),
            "ERR FROM and TO need a calendar interval: interval 'total' has no periods (use hour, day, week, month, "
            "quarter or year)");
  EXPECT_EQ(Error({"CTR.TOP", "dl", "month", "FROM", "2024-W49", "TO", "current"}),
            "ERR FROM: invalid period '2024-W49' for interval 'month' (expected e.g. '2024-12' or 'current')");
  EXPECT_EQ(Error({"CTR.TOP", "dl", "day", "FROM", day6, "TO", "2023-02-29"}).substr(0, 33),
            "ERR TO: invalid period '2023-02-2");
  EXPECT_EQ(Error({"CTR.TOP", "dl", "day", today, "UNTIL", today}),
            "ERR unknown option 'UNTIL' (expected FROM, TO, OFFSET, LIMIT or PREFIX)");
  EXPECT_EQ(Error({"CTR.TOP", "dl", "day", "UNTIL", today}),
            "ERR invalid period 'UNTIL' for interval 'day' (expected e.g. '2024-12-04' or 'current')");
}

// ---- CTR.HISTORY WITHSTART ----------------------------------------------------------------

TEST_F(CounterApiTest, HistoryWithStartGivesEachPeriodsStartInTheOwnersZone) {
  AvoidHourBoundary();
  ASSERT_FALSE(Call({"CTR.INCRBY", "hist:utc", "dl", "2", "AT", At(NoonUtcDaysAgo(1))}).is_error());
  ASSERT_FALSE(Call({"CTR.INCRBY", "hist:utc", "dl", "5"}).is_error());
  RespValue plain = Call({"CTR.HISTORY", "hist:utc", "dl", "day", "3"});
  RespValue with = Call({"CTR.HISTORY", "hist:utc", "dl", "day", "3", "WITHSTART"});
  ASSERT_EQ(with.elements.size(), 3u) << with;
  for (size_t i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    ASSERT_EQ(plain.elements[i].elements.size(), 2u);
    ASSERT_EQ(with.elements[i].elements.size(), 3u);
    EXPECT_EQ(with.elements[i].elements[0].str, plain.elements[i].elements[0].str);
    EXPECT_EQ(with.elements[i].elements[1].integer, plain.elements[i].elements[1].integer);
    EXPECT_EQ(with.elements[i].elements[2].integer, UtcMidnightMs(with.elements[i].elements[0].str));
    EXPECT_EQ(with.elements[i].elements[0].str, UtcLabel("day", NowMs() - static_cast<int64_t>(i) * kDayMs));
  }
  EXPECT_EQ(with.elements[0].elements[1].integer, 5);
  EXPECT_EQ(with.elements[1].elements[1].integer, 2);
  // FROM and WITHSTART in either order; a month starts on its first day.
  const std::string month = UtcLabel("month", NowMs());
  RespValue months = Call({"CTR.HISTORY", "hist:utc", "dl", "month", "1", "WITHSTART", "FROM", month});
  ASSERT_EQ(months.elements.size(), 1u) << months;
  EXPECT_EQ(months.elements[0].elements[2].integer, UtcMidnightMs(month + "-01"));
  // An owner in Asia/Kolkata (UTC+05:30, no daylight saving): its days start 5.5 hours before UTC's.
  ASSERT_EQ(Call({"OWNER.TZ", "hist:india", "Asia/Kolkata"}).str, "OK");
  RespValue india = Call({"CTR.HISTORY", "hist:india", "dl", "day", "2", "FROM", "2024-12-04", "WITHSTART"});
  ASSERT_EQ(india.elements.size(), 2u) << india;
  EXPECT_EQ(india.elements[0].elements[0].str, "2024-12-04");
  EXPECT_EQ(india.elements[0].elements[2].integer, UtcMidnightMs("2024-12-04") - 19'800'000);
  EXPECT_EQ(india.elements[1].elements[2].integer, UtcMidnightMs("2024-12-03") - 19'800'000);
  EXPECT_EQ(Error({"CTR.HISTORY", "hist:utc", "dl", "day", "3", "WITHSTART", "WITHSTART"}),
            "ERR unexpected argument 'WITHSTART': CTR.HISTORY takes owner key interval count [FROM period] "
            "[WITHSTART]");
  EXPECT_EQ(Error({"CTR.HISTORY", "hist:utc", "dl", "day", "3", "WITHSTARTS"}),
            "ERR unknown option 'WITHSTARTS' (expected FROM or WITHSTART)");
}

// ---- CTR.ADJUST ---------------------------------------------------------------------------

TEST_F(CounterApiTest, AdjustMovesTheTotalAndEveryIntervalTogetherAndIsAudited) {
  AvoidHourBoundary();
  const int64_t now = NowMs();
  const int64_t late = NoonUtcDaysAgo(3);
  Model model;
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "adj:1", "dl", "10"}), 10));
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "adj:1", "dl", "4", "AT", At(late)}), 14));
  model.Increment("adj:1", "dl", 10, now);
  model.Increment("adj:1", "dl", 4, late);
  // A correction of the late day: its day, week, month, quarter, year and hour cells and the total.
  EXPECT_TRUE(IsInteger(Call({"CTR.ADJUST", "adj:1", "dl", "-3", "AT", At(late), "BY", "alice"}), 11));
  model.Increment("adj:1", "dl", -3, late);
  // Without AT: now. Not deduplicated: the same correction twice applies twice.
  EXPECT_TRUE(IsInteger(Call({"CTR.ADJUST", "adj:1", "dl", "2"}), 13));
  EXPECT_TRUE(IsInteger(Call({"CTR.ADJUST", "adj:1", "dl", "2", "BY", "Jane Doe"}), 15));
  model.Increment("adj:1", "dl", 4, now);
  ExpectModel(conn(), model, "adj:1", "dl", "after the adjustments:");
  EXPECT_EQ(Get("adj:1", "dl", "day", UtcLabel("day", late)), 1);
  EXPECT_EQ(Get("adj:1", "dl"), 15);
  // Every interval still sums to the total (compare with SET, which moves one cell only).
  for (const std::string& interval : kIntervals) {
    EXPECT_TRUE(IsInteger(Call({"CTR.SUM", "adj:1", "dl", interval}), 15)) << interval;
  }

  // Audited: actor, command and every cell's before/after.
  std::vector<RespValue> audit = AuditAfter(0, 3);
  ASSERT_EQ(audit.size(), 3u);
  EXPECT_EQ(audit[0].elements[2].str, "alice");
  EXPECT_EQ(audit[0].elements[3].str, "CTR.ADJUST");
  EXPECT_EQ(audit[0].elements[4].str, "adj:1");
  EXPECT_EQ(audit[0].elements[5].str, "dl");
  const std::string& details = audit[0].elements[6].str;
  EXPECT_TRUE(Contains(details, "\"delta\":-3")) << details;
  EXPECT_TRUE(Contains(details, "{\"interval\":\"total\",\"period\":\"total\",\"before\":14,\"after\":11}")) << details;
  EXPECT_TRUE(
      Contains(details, "{\"interval\":\"day\",\"period\":\"" + UtcLabel("day", late) + "\",\"before\":4,\"after\":1}"))
      << details;
  EXPECT_EQ(audit[2].elements[2].str, "Jane Doe");
  EXPECT_NE(audit[1].elements[2].str, "");  // the connection's address stands in for BY

  // Errors change nothing.
  const std::string too_old = At(NowMs() - 36 * kDayMs);
  EXPECT_EQ(Error({"CTR.ADJUST", "adj:1", "dl", "x"}), "ERR delta 'x' is not an integer");
  EXPECT_EQ(Error({"CTR.ADJUST", "adj:1", "dl", "1", "AT", too_old}),
            "ERR AT " + too_old + " is more than 35 days (max_backdate) in the past");
  EXPECT_EQ(Error({"CTR.ADJUST", "adj:1", "dl", "1", "WHEN", "5"}),
            "ERR unknown option 'WHEN' (expected AT or ID, or BY actor at the end)");
  EXPECT_EQ(Error({"CTR.ADJUST", "adj:1", "dl", "1", "AT"}), "ERR AT needs a value: AT unix-ms");
  EXPECT_EQ(Error({"CTR.ADJUST", "adj:1", "dl", "1", "ID"}), "ERR ID needs a value: ID event-id");
  EXPECT_EQ(Error({"CTR.ADJUST", "adj:1", "dl", "1", "ID", "has space"}),
            "ERR ID 'has space' is not a valid event id: use 1-128 printable characters, no spaces");
  EXPECT_EQ(Error({"CTR.ADJUST", "adj:1", "dl", "1", "AT", At(now), "AT", At(now)}),
            "ERR unexpected argument 'AT': CTR.ADJUST takes owner key delta [AT unix-ms] [ID event-id] [BY actor]");
  EXPECT_EQ(Error({"CTR.ADJUST", "bad owner", "dl", "1"}).substr(0, 29), "ERR invalid owner 'bad owner'");
  EXPECT_EQ(Error({"CTR.ADJUST", "adj:1", "dl", "9223372036854775807"}), "ERR increment or decrement would overflow");
  EXPECT_EQ(Error({"CTR.ADJUST", "adj:1", "dl"}), "ERR wrong number of arguments for 'ctr.adjust' command");
  ExpectModel(conn(), model, "adj:1", "dl", "after the refused adjustments:");
  CleanRestart();
  ExpectModel(conn(), model, "adj:1", "dl", "after a clean restart:");
}

TEST_F(CounterApiTest, AdjustWithAnIdAppliesARetryOnceAndAReusedIdIsAConflict) {
  AvoidHourBoundary();
  const std::string conflict = "ERR " + std::string(protocol::errors::kIdConflict);
  const std::string late = At(NoonUtcDaysAgo(2));
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "adjid:1", "dl", "10", "ID", "inc-1"}), 10));
  EXPECT_TRUE(IsInteger(Call({"CTR.ADJUST", "adjid:1", "dl", "-4", "ID", "fix-1", "BY", "alice"}), 6));
  // A retry (BY is not part of the event): the current total, nothing applied, no second audit record.
  EXPECT_TRUE(IsInteger(Call({"CTR.ADJUST", "adjid:1", "dl", "-4", "ID", "fix-1", "BY", "bob"}), 6));
  EXPECT_TRUE(IsInteger(Call({"CTR.ADJUST", "adjid:1", "dl", "-4", "ID", "fix-1"}), 6));
  // Other arguments: another delta, an AT the first use did not have, or an id an increment used.
  EXPECT_EQ(Error({"CTR.ADJUST", "adjid:1", "dl", "-5", "ID", "fix-1"}), conflict);
  EXPECT_EQ(Error({"CTR.ADJUST", "adjid:1", "dl", "-4", "ID", "fix-1", "AT", late}), conflict);
  EXPECT_EQ(Error({"CTR.ADJUST", "adjid:1", "dl", "10", "ID", "inc-1"}), conflict);
  EXPECT_EQ(Error({"CTR.INCRBY", "adjid:1", "dl", "-4", "ID", "fix-1"}), conflict);
  // With AT: ID and AT in either order.
  EXPECT_TRUE(IsInteger(Call({"CTR.ADJUST", "adjid:1", "dl", "3", "ID", "fix-2", "AT", late}), 9));
  EXPECT_TRUE(IsInteger(Call({"CTR.ADJUST", "adjid:1", "dl", "3", "AT", late, "ID", "fix-2"}), 9));
  auto check = [&](const std::string& when) {
    SCOPED_TRACE(when);
    EXPECT_EQ(Get("adjid:1", "dl"), 9);
    EXPECT_EQ(Get("adjid:1", "dl", "day", "current"), 6);
    EXPECT_EQ(Get("adjid:1", "dl", "day", UtcLabel("day", NoonUtcDaysAgo(2))), 3);
    EXPECT_TRUE(IsInteger(Call({"CTR.ADJUST", "adjid:1", "dl", "-4", "ID", "fix-1"}), 9));
    EXPECT_EQ(Error({"CTR.ADJUST", "adjid:1", "dl", "3", "ID", "fix-2"}), conflict);  // AT was part of it
  };
  check("right away");
  std::vector<RespValue> audit = AuditAfter(0, 2);
  ASSERT_EQ(audit.size(), 2u);  // fix-1 and fix-2, once each
  EXPECT_EQ(audit[0].elements[2].str, "alice");
  CleanRestart();
  check("after a clean restart");
}

// ---- CTR.RECOUNT CELLS ----------------------------------------------------------------------

TEST_F(CounterApiTest, RecountCellsSetsCellsOfManyIntervalsAtomically) {
  AvoidHourBoundary();
  const std::string day2 = UtcLabel("day", NoonUtcDaysAgo(2));
  const std::string month = UtcLabel("month", NowMs());
  ASSERT_TRUE(IsInteger(Call({"CTR.INCRBY", "rc:1", "dl", "7"}), 7));
  EXPECT_EQ(Call({"CTR.RECOUNT", "rc:1", "dl", "CELLS", "day", day2, "5", "month", "current", "40", "total", "total",
                  "100", "BY", "bob"})
                .str,
            "OK");
  EXPECT_EQ(Get("rc:1", "dl", "day", day2), 5);
  EXPECT_EQ(Get("rc:1", "dl", "month", month), 40);
  EXPECT_EQ(Get("rc:1", "dl"), 100);
  EXPECT_EQ(Get("rc:1", "dl", "day", "current"), 7);  // cells not named are untouched
  // Lower-case CELLS, a cell named twice ends with its last value; the one-interval form still works.
  EXPECT_EQ(Call({"CTR.RECOUNT", "rc:1", "dl", "cells", "day", day2, "6", "day", day2, "8"}).str, "OK");
  EXPECT_EQ(Get("rc:1", "dl", "day", day2), 8);
  EXPECT_EQ(Call({"CTR.RECOUNT", "rc:1", "dl", "day", day2, "9", "current", "11", "BY", "bob"}).str, "OK");
  EXPECT_EQ(Get("rc:1", "dl", "day", day2), 9);
  EXPECT_EQ(Get("rc:1", "dl", "day", "current"), 11);

  // A bad cell anywhere in the list: an error naming the cell, and nothing changes.
  EXPECT_EQ(Error({"CTR.RECOUNT", "rc:1", "dl", "CELLS", "day", day2, "1", "month", "2024-W49", "2"}),
            "ERR cell 2 of CELLS: invalid period '2024-W49' for interval 'month' (expected e.g. '2024-12' or "
            "'current')");
  EXPECT_EQ(Error({"CTR.RECOUNT", "rc:1", "dl", "CELLS", "day", day2, "1", "total", "total", "2", "fortnight",
                   "current", "3"}),
            "ERR cell 3 of CELLS: unknown interval 'fortnight' (expected total, hour, day, week, month, quarter or "
            "year)");
  EXPECT_EQ(Error({"CTR.RECOUNT", "rc:1", "dl", "CELLS", "day", day2, "1", "day", "current", "lots"}),
            "ERR cell 2 of CELLS: value 'lots' is not an integer");
  EXPECT_EQ(Error({"CTR.RECOUNT", "rc:1", "dl", "CELLS", "day", day2, "1", "day"}),
            "ERR CELLS takes groups of interval period value: 4 words follow it");
  EXPECT_EQ(Error({"CTR.RECOUNT", "rc:1", "dl", "CELLS", "day", day2, "1", "BY", ""}).substr(0, 22),
            "ERR BY: invalid actor ");
  auto check = [&](const std::string& when) {
    SCOPED_TRACE(when);
    EXPECT_EQ(Get("rc:1", "dl", "day", day2), 9);
    EXPECT_EQ(Get("rc:1", "dl", "day", "current"), 11);
    EXPECT_EQ(Get("rc:1", "dl", "month", month), 40);
    EXPECT_EQ(Get("rc:1", "dl"), 100);
  };
  check("after the refused recounts");

  // One audit record per recount, with every cell's before and after.
  std::vector<RespValue> audit = AuditAfter(0, 3);
  ASSERT_EQ(audit.size(), 3u);
  EXPECT_EQ(audit[0].elements[2].str, "bob");
  EXPECT_EQ(audit[0].elements[3].str, "CTR.RECOUNT");
  const std::string& details = audit[0].elements[6].str;
  EXPECT_TRUE(Contains(details, "{\"interval\":\"total\",\"period\":\"total\",\"before\":7,\"after\":100}")) << details;
  EXPECT_TRUE(Contains(details, "{\"interval\":\"month\",\"period\":\"" + month + "\",\"before\":7,\"after\":40}"))
      << details;
  CleanRestart();
  check("after a clean restart");
}

}  // namespace
}  // namespace tally::itest::counters
