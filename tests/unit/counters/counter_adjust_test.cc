// Whole-counter corrections that keep every interval consistent:
// CTR.ADJUST (an audited increment of the total and every interval's cell)
// and CTR.SET/RECOUNT of cells of several intervals in one call, each one
// atomic log entry: after a kill before the log write none of it is there,
// after the write all of it. Under each restart mode.
#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

#include "counter_test_util.h"

namespace tally::core::counters_test {
namespace {

class CorrectionTest : public CounterModeTest {
 protected:
  // kill -9 before the group commit wrote the latest entries: they are lost.
  void KillBeforeTheLogWrite() {
    engine_.reset();
    Open();
  }
  std::vector<AuditEntry> Audits() {
    OpResult<AuditPage> page = engine_->feeds().ReadAudit(0, 1000);
    EXPECT_TRUE(page.ok());
    return page.value.records;
  }
  OpResult<int64_t> Adjust(std::string_view owner, std::string_view key, int64_t delta,
                           std::optional<int64_t> at = std::nullopt) {
    AuditInfo audit{"ops team", "CTR.ADJUST"};
    return engine_->counters().Adjust({owner, key, delta, at.value_or(clock_.NowMs())}, audit);
  }
  // Every cell an event at `at` touches: total, hour, day, week, month, quarter, year.
  std::vector<int64_t> CellsAt(std::string_view owner, std::string_view key, int64_t at) {
    std::vector<int64_t> cells{Total(owner, key)};
    for (Interval interval : kRollupIntervals) cells.push_back(CellAt(owner, key, interval, at));
    return cells;
  }
};

TEST_P(CorrectionTest, AdjustMovesTheTotalAndEveryIntervalTogether) {
  const int64_t now = clock_.NowMs();
  const int64_t yesterday = now - kDayMs;
  Incr("user:1", "tokens", 100);
  Incr("user:1", "tokens", 40, yesterday);
  Restart();
  auto r = Adjust("user:1", "tokens", -30);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value, 110);
  EXPECT_EQ(CellsAt("user:1", "tokens", now), (std::vector<int64_t>{110, 70, 70, 110, 110, 110, 110}));
  // A late correction lands in its own period's cells.
  ASSERT_TRUE(Adjust("user:1", "tokens", 5, yesterday).ok());
  EXPECT_EQ(CellsAt("user:1", "tokens", yesterday), (std::vector<int64_t>{115, 45, 45, 115, 115, 115, 115}));
  Restart();
  EXPECT_EQ(CellsAt("user:1", "tokens", now), (std::vector<int64_t>{115, 70, 70, 115, 115, 115, 115}));
  EXPECT_EQ(CellsAt("user:1", "tokens", yesterday), (std::vector<int64_t>{115, 45, 45, 115, 115, 115, 115}));
  // A new counter can be adjusted too (it is a write).
  ASSERT_EQ(Adjust("user:2", "tokens", 9).value, 9);
  Restart();
  EXPECT_EQ(CellsAt("user:2", "tokens", now), (std::vector<int64_t>{9, 9, 9, 9, 9, 9, 9}));
  EXPECT_EQ(AllOwners("user:", 10), (std::vector<std::string>{"user:1", "user:2"}));
}

TEST_P(CorrectionTest, AdjustIsAuditedWithBeforeAndAfterOfEveryCell) {
  Incr("user:1", "tokens", 100);
  ASSERT_TRUE(Adjust("user:1", "tokens", -30).ok());
  Restart();
  Compact();  // audit records are readable once compacted
  std::vector<AuditEntry> audits = Audits();
  ASSERT_EQ(audits.size(), 1u);
  EXPECT_EQ(audits[0].actor, "ops team");
  EXPECT_EQ(audits[0].command, "CTR.ADJUST");
  EXPECT_EQ(audits[0].owner, "user:1");
  EXPECT_EQ(audits[0].key, "tokens");
  EXPECT_EQ(audits[0].details, R"({"delta":-30,"cells":[)"
                               R"({"interval":"total","period":"total","before":100,"after":70},)"
                               R"({"interval":"hour","period":"2024-06-15T12","before":100,"after":70},)"
                               R"({"interval":"day","period":"2024-06-15","before":100,"after":70},)"
                               R"({"interval":"week","period":"2024-W24","before":100,"after":70},)"
                               R"({"interval":"month","period":"2024-06","before":100,"after":70},)"
                               R"({"interval":"quarter","period":"2024-Q2","before":100,"after":70},)"
                               R"({"interval":"year","period":"2024","before":100,"after":70}]})");
  Restart();
  Compact();
  EXPECT_EQ(Audits().size(), 1u) << "audited once, whatever the restarts";
}

TEST_P(CorrectionTest, AnAdjustThatWouldOverflowChangesNothing) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  Incr("user:1", "k", 1);
  Assign("user:1", "k", {{Interval::kMonth, Period("user:1", Interval::kMonth, "current"), kMax}});
  Restart();
  const uint64_t entries = engine_->UncompactedEntries();
  EXPECT_EQ(Adjust("user:1", "k", 1).status, OpStatus::kOverflow);
  EXPECT_EQ(engine_->UncompactedEntries(), entries);  // nothing logged, nothing audited
  EXPECT_EQ(Total("user:1", "k"), 1);
  EXPECT_EQ(CellAt("user:1", "k", Interval::kDay), 1);
  EXPECT_EQ(Adjust("user:1", "k", -1).value, 0);
  Restart();
  EXPECT_EQ(CellAt("user:1", "k", Interval::kMonth), kMax - 1);
  EXPECT_EQ(Total("user:1", "k"), 0);
}

TEST_P(CorrectionTest, AnAdjustIsOneEntryThatAKillKeepsWholeOrNotAtAll) {
  Incr("user:1", "k", 10);
  Restart();
  Durable();  // acknowledged: survives the kill below
  const uint64_t entries = engine_->UncompactedEntries();
  ASSERT_TRUE(Adjust("user:1", "k", 5).ok());
  EXPECT_EQ(engine_->UncompactedEntries(), entries + 1);
  KillBeforeTheLogWrite();
  EXPECT_EQ(CellsAt("user:1", "k", clock_.NowMs()), (std::vector<int64_t>(7, 10)));
  Compact();
  EXPECT_TRUE(Audits().empty());
  ASSERT_TRUE(Adjust("user:1", "k", 5).ok());
  Restart();
  Reopen();  // after the log write: the change and its audit record
  EXPECT_EQ(CellsAt("user:1", "k", clock_.NowMs()), (std::vector<int64_t>(7, 15)));
  Compact();
  EXPECT_EQ(Audits().size(), 1u);
}

// CTR.RECOUNT / SET of cells of several intervals in one call: one log entry.
TEST_P(CorrectionTest, ARecountOfSeveralIntervalsIsOneAtomicEntry) {
  Incr("user:1", "k", 10);
  Incr("user:1", "k", 3, clock_.NowMs() - 20 * kDayMs);  // May 26: another month
  Restart();
  const PeriodId today = Period("user:1", Interval::kDay, "current");
  const PeriodId june = Period("user:1", Interval::kMonth, "current");
  const PeriodId may = Period("user:1", Interval::kMonth, "2024-05");
  const std::vector<CellAssignment> recount{{Interval::kTotal, 0, 100},
                                            {Interval::kDay, today, 40},
                                            {Interval::kMonth, june, 70},
                                            {Interval::kMonth, may, 30}};
  auto expect_recounted = [&](bool recounted) {
    EXPECT_EQ(Total("user:1", "k"), recounted ? 100 : 13);
    EXPECT_EQ(Cell("user:1", "k", Interval::kDay, today), recounted ? 40 : 10);
    EXPECT_EQ(Cell("user:1", "k", Interval::kMonth, june), recounted ? 70 : 10);
    EXPECT_EQ(Cell("user:1", "k", Interval::kMonth, may), recounted ? 30 : 3);
    EXPECT_EQ(CellAt("user:1", "k", Interval::kHour), 10);  // cells not named are left alone
    EXPECT_EQ(CellAt("user:1", "k", Interval::kYear), 13);
  };
  Durable();  // acknowledged: survives the kill below
  const uint64_t entries = engine_->UncompactedEntries();
  Assign("user:1", "k", recount);
  EXPECT_EQ(engine_->UncompactedEntries(), entries + 1);
  expect_recounted(true);
  KillBeforeTheLogWrite();  // the entry never reached the log: none of it
  expect_recounted(false);
  Restart();
  expect_recounted(false);
  Assign("user:1", "k", recount);
  Restart();
  expect_recounted(true);
  Reopen();  // after the log write: all of it
  expect_recounted(true);
  Restart();
  expect_recounted(true);
}

INSTANTIATE_TEST_SUITE_P(Modes, CorrectionTest, AllRestartModes(), RestartModeParamName);

}  // namespace
}  // namespace tally::core::counters_test
