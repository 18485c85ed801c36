// Counter engine under concurrency: increments from several threads on the
// same and different counters, recounts and compactions running meanwhile.
// Counts are deterministic, so the end state must be exact, live and after
// recovery; readers running alongside check that no value ever goes back
// while compaction moves cells from memory through "in flight" to RocksDB.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "counter_test_util.h"

namespace tally::core::counters_test {
namespace {

constexpr int kWriters = 6;
constexpr int kOps = 3000;

class ConcurrencyTest : public CounterTest {
 protected:
  // Runs `compactor` CompactAll loops until `done`, counting them.
  std::thread CompactionLoop(std::atomic<bool>& done, std::atomic<int>& runs) {
    return std::thread([this, &done, &runs] {
      while (!done.load()) {
        storage::Status s = engine_->CompactAll();
        EXPECT_TRUE(s.ok()) << s.ToString();
        runs.fetch_add(1);
      }
    });
  }
};

TEST_F(ConcurrencyTest, IncrementsRecountsAndCompactionsLoseNothing) {
  const int64_t yesterday = Utc(2024, 6, 14, 10);
  const PeriodId two_days_ago = PeriodOf(Interval::kDay, Utc(2024, 6, 13), TimeZone::Utc());
  const PeriodId may = PeriodOf(Interval::kMonth, Utc(2024, 5, 1), TimeZone::Utc());
  // Cells whose values are fixed before the threads start (late events: cold cells).
  for (int d = 1; d <= 5; ++d) Incr("user:frozen", "hits", d * 10, Utc(2024, 6, 15 - d, 8));

  std::atomic<bool> writers_done{false};
  std::atomic<int> compactions{0};
  std::atomic<int64_t> last_recount{0};
  std::atomic<int> read_errors{0};
  std::thread compactor = CompactionLoop(writers_done, compactions);
  std::thread recounter([&] {
    int64_t v = 0;
    while (!writers_done.load()) {
      ++v;
      OpResult<bool> r = engine_->counters().AssignCells("user:shared", "hits", {{Interval::kDay, two_days_ago, v}});
      EXPECT_TRUE(r.ok());
      r = engine_->counters().AssignCells("user:recount", "hits", {{Interval::kMonth, may, v}});
      EXPECT_TRUE(r.ok());
      last_recount.store(v);
    }
  });
  std::thread reader([&] {
    int64_t last_total = 0;
    int64_t last_recounted = 0;
    while (!writers_done.load()) {
      for (int d = 1; d <= 5; ++d) {
        OpResult<int64_t> r = engine_->counters().ReadCell(
            "user:frozen", "hits", Interval::kDay, PeriodOf(Interval::kDay, Utc(2024, 6, 15 - d, 8), TimeZone::Utc()));
        if (r.value != d * 10) read_errors.fetch_add(1);
      }
      OpResult<int64_t> total = engine_->counters().ReadCell("user:shared", "hits", Interval::kTotal, 0);
      if (total.value < last_total) read_errors.fetch_add(1);
      last_total = total.value;
      OpResult<int64_t> recounted = engine_->counters().ReadCell("user:recount", "hits", Interval::kMonth, may);
      if (recounted.value < last_recounted) read_errors.fetch_add(1);
      last_recounted = recounted.value;
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < kWriters; ++t) {
    writers.emplace_back([&, t] {
      const std::string own = "user:w" + std::to_string(t);
      for (int i = 0; i < kOps; ++i) {
        CounterIncrement shared{"user:shared", "hits", t + 1, clock_.NowMs(), {}};
        EXPECT_TRUE(engine_->counters().Increment(shared).ok());
        CounterIncrement mine{own, "hits", 1, clock_.NowMs(), {}};
        EXPECT_TRUE(engine_->counters().Increment(mine).ok());
        if (i % 10 == 0) {
          CounterIncrement late{"user:shared", "late", 1, yesterday, {}};
          EXPECT_TRUE(engine_->counters().Increment(late).ok());
        }
        if (i % 50 == 0) {
          const std::string id = "w" + std::to_string(t) + "-" + std::to_string(i);
          CounterIncrement with_id{"user:ids", "hits", 1, clock_.NowMs(), id};
          OpResult<IncrementResult> first = engine_->counters().Increment(with_id);
          EXPECT_TRUE(first.ok() && !first.value.duplicate);
          OpResult<IncrementResult> again = engine_->counters().Increment(with_id);
          EXPECT_TRUE(again.ok() && again.value.duplicate);
        }
        if (t == 0 && i % 100 == 0) {
          storage::Status s = engine_->WaitDurable(engine_->Ticket());
          EXPECT_TRUE(s.ok()) << s.ToString();
        }
      }
    });
  }
  for (std::thread& w : writers) w.join();
  writers_done.store(true);
  compactor.join();
  recounter.join();
  reader.join();
  EXPECT_GT(compactions.load(), 0);
  EXPECT_EQ(read_errors.load(), 0);

  int64_t shared_expected = 0;
  for (int t = 0; t < kWriters; ++t) shared_expected += static_cast<int64_t>(kOps) * (t + 1);
  const int64_t late_expected = kWriters * ((kOps + 9) / 10);
  const int64_t ids_expected = kWriters * ((kOps + 49) / 50);
  const int64_t recount = last_recount.load();
  auto check = [&] {
    EXPECT_EQ(Total("user:shared", "hits"), shared_expected);
    EXPECT_EQ(CellAt("user:shared", "hits", Interval::kHour), shared_expected);
    EXPECT_EQ(CellAt("user:shared", "hits", Interval::kDay), shared_expected);
    EXPECT_EQ(CellAt("user:shared", "hits", Interval::kWeek), shared_expected);
    EXPECT_EQ(CellAt("user:shared", "hits", Interval::kYear), shared_expected);
    EXPECT_EQ(Cell("user:shared", "hits", Interval::kDay, two_days_ago), recount);
    EXPECT_EQ(Total("user:shared", "late"), late_expected);
    EXPECT_EQ(CellAt("user:shared", "late", Interval::kDay, yesterday), late_expected);
    EXPECT_EQ(CellAt("user:shared", "late", Interval::kDay), 0);
    EXPECT_EQ(CellAt("user:shared", "late", Interval::kMonth), late_expected);
    for (int t = 0; t < kWriters; ++t) {
      EXPECT_EQ(Total("user:w" + std::to_string(t), "hits"), kOps) << t;
      EXPECT_EQ(CellAt("user:w" + std::to_string(t), "hits", Interval::kDay), kOps) << t;
    }
    EXPECT_EQ(Total("user:ids", "hits"), ids_expected);
    EXPECT_EQ(Cell("user:recount", "hits", Interval::kMonth, may), recount);
    for (int d = 1; d <= 5; ++d)
      EXPECT_EQ(CellAt("user:frozen", "hits", Interval::kDay, Utc(2024, 6, 15 - d, 8)), d * 10);
    std::vector<RankedOwner> top = engine_->counters().Top("hits", Interval::kTotal, 0, 1, "").value;
    ASSERT_EQ(top.size(), 1u);
    EXPECT_EQ(top[0].owner, "user:shared");
    EXPECT_EQ(top[0].value, shared_expected);
  };
  check();
  Reopen();
  check();
  bool duplicate = false;
  Incr("user:ids", "hits", 1, std::nullopt, "w3-50", &duplicate);
  EXPECT_TRUE(duplicate);
  Compact();
  Reopen();
  check();
}

TEST_F(ConcurrencyTest, PastCellsNeverGoBackWhileCompactionMovesThem) {
  constexpr int kHours = 48;
  constexpr int kRounds = 60;
  std::atomic<bool> done{false};
  std::atomic<int> compactions{0};
  std::atomic<int> errors{0};
  std::thread compactor = CompactionLoop(done, compactions);
  std::thread reader([&] {
    std::vector<int64_t> last(kHours, 0);
    int64_t last_total = 0;
    while (!done.load()) {
      for (int h = 0; h < kHours; ++h) {
        OpResult<int64_t> r =
            engine_->counters().ReadCell("user:past", "hits", Interval::kHour,
                                         PeriodOf(Interval::kHour, kStartMs - (h + 1) * kHourMs, TimeZone::Utc()));
        if (r.value < last[h] || r.value > kRounds) errors.fetch_add(1);
        last[h] = r.value;
      }
      OpResult<int64_t> total = engine_->counters().ReadCell("user:past", "hits", Interval::kTotal, 0);
      if (total.value < last_total) errors.fetch_add(1);
      last_total = total.value;
    }
  });
  for (int round = 0; round < kRounds; ++round) {
    for (int h = 0; h < kHours; ++h) {
      CounterIncrement late{"user:past", "hits", 1, kStartMs - (h + 1) * kHourMs, {}};
      ASSERT_TRUE(engine_->counters().Increment(late).ok());
    }
  }
  done.store(true);
  compactor.join();
  reader.join();
  EXPECT_EQ(errors.load(), 0);
  auto check = [&] {
    for (int h = 0; h < kHours; ++h) {
      EXPECT_EQ(CellAt("user:past", "hits", Interval::kHour, kStartMs - (h + 1) * kHourMs), kRounds) << h;
    }
    EXPECT_EQ(Total("user:past", "hits"), kRounds * kHours);
    EXPECT_EQ(Sum("user:past", "hits", Interval::kHour), kRounds * kHours);
    EXPECT_EQ(Sum("user:past", "hits", Interval::kDay), kRounds * kHours);
  };
  check();
  Reopen();
  check();
}

TEST_F(ConcurrencyTest, DeletesAndSetsRacingWithCompaction) {
  std::atomic<bool> done{false};
  std::atomic<int> compactions{0};
  std::thread compactor = CompactionLoop(done, compactions);
  const PeriodId yesterday = PeriodOf(Interval::kDay, kStartMs - kDayMs, TimeZone::Utc());
  for (int i = 0; i < 300; ++i) {
    Incr("user:d", "hits", 5);
    Incr("user:d", "hits", 3, kStartMs - kDayMs);
    ASSERT_EQ(Total("user:d", "hits"), 8) << i;
    ASSERT_EQ(Cell("user:d", "hits", Interval::kDay, yesterday), 3) << i;
    Delete("user:d", "hits", (i % 2 == 0) ? std::optional<Interval>() : std::optional<Interval>(Interval::kDay));
    ASSERT_EQ(Cell("user:d", "hits", Interval::kDay, yesterday), 0) << i;
    ASSERT_EQ(CellAt("user:d", "hits", Interval::kDay), 0) << i;
    if (i % 2 == 0) {
      ASSERT_EQ(Total("user:d", "hits"), 0) << i;
      ASSERT_EQ(CellAt("user:d", "hits", Interval::kHour), 0) << i;
    } else {
      ASSERT_EQ(Total("user:d", "hits"), 8) << i;
      ASSERT_EQ(CellAt("user:d", "hits", Interval::kHour), 5) << i;
      Assign("user:d", "hits",
             {{Interval::kTotal, 0, 0},
              {Interval::kHour, PeriodOf(Interval::kHour, kStartMs, TimeZone::Utc()), 0},
              {Interval::kHour, PeriodOf(Interval::kHour, kStartMs - kDayMs, TimeZone::Utc()), 0}});
      for (Interval interval : {Interval::kWeek, Interval::kMonth, Interval::kQuarter, Interval::kYear}) {
        Assign("user:d", "hits", {{interval, PeriodOf(interval, kStartMs, TimeZone::Utc()), 0}});
      }
      ASSERT_EQ(Total("user:d", "hits"), 0) << i;
      ASSERT_EQ(CellAt("user:d", "hits", Interval::kMonth), 0) << i;
    }
  }
  done.store(true);
  compactor.join();
  Incr("user:d", "hits", 1);
  Reopen();
  EXPECT_EQ(Total("user:d", "hits"), 1);
  EXPECT_EQ(CellAt("user:d", "hits", Interval::kDay), 1);
  EXPECT_EQ(Cell("user:d", "hits", Interval::kDay, yesterday), 0);
  EXPECT_EQ(CellAt("user:d", "hits", Interval::kWeek), 1);
}

}  // namespace
}  // namespace tally::core::counters_test

namespace tally::core::counters_test {
namespace {

// CTR.TOP while the background load brings stored counters into memory (the
// first seconds after a restart): every ranking is complete. A counter loaded
// after TOP's memory pass went by its shard must still be ranked, from the
// index or from memory, and never twice.
TEST_F(ConcurrencyTest, TopIsCompleteWhileStoredCountersAreLoaded) {
  constexpr int kOwners = 400;
  std::vector<std::string> expected;
  for (int i = 0; i < kOwners; ++i) Incr("user:" + std::to_string(1000 + i), "downloads", 1000 + i);
  for (int i = kOwners - 1; i >= kOwners - 5; --i) {
    expected.push_back("user:" + std::to_string(1000 + i) + "=" + std::to_string(1000 + i));
  }
  Compact();
  for (int round = 0; round < 30; ++round) {
    Reopen();  // memory empty: TOP ranks from the index until the load is done
    std::atomic<bool> done{false};
    std::thread loader([&] {
      EXPECT_TRUE(engine_->counters().LoadStoredCounters().ok());
      done = true;
    });
    int checks = 0;
    while (!done.load() || checks == 0) {
      ASSERT_EQ(TopOf("downloads", Interval::kTotal, 0, 5), expected) << "round " << round << ", check " << checks;
      ++checks;
    }
    loader.join();
    ASSERT_TRUE(engine_->counters().all_loaded());
    ASSERT_EQ(TopOf("downloads", Interval::kTotal, 0, 5), expected);
  }
}

}  // namespace
}  // namespace tally::core::counters_test
