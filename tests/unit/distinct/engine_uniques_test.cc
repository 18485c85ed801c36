// Engine, distinct counts per owner (UNIQ.ADD, UNIQ.COUNT; core/uniques.h)
// on a real RocksDB: one sketch per cell of (owner, key), the total and
// every rollup interval in the owner's zone; a late event lands in its own
// past periods; a range of periods counts as the union of its sketches; the
// cells survive every restart mode (replay re-applies logged hashes, which
// changes nothing twice); old hour cells go by retention; memory holds only
// recently used pairs; reads create nothing; a damaged cell fails loudly.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "civil_time.h"
#include "engine_fixture.h"

namespace tally::core {
namespace {

using fixtures::kDayMs;
using fixtures::kHourMs;
using fixtures::RestartMode;
using fixtures::Utc;

// Saturday 2024-06-15 12:00 UTC.
const int64_t kStartMs = Utc(2024, 6, 15, 12);

class UniquesFixture : public fixtures::EngineFixture {
 protected:
  UniquesFixture() : EngineFixture(kStartMs) {}

  static std::string Member(int i) { return "customer:" + std::to_string(i); }
  // UNIQ.ADD owner key Member(begin) .. Member(end - 1) AT at (default now),
  // in batches of 100 as clients send them. True if any batch changed a cell.
  bool Add(std::string_view owner, std::string_view key, int begin, int end, std::optional<int64_t> at = {}) {
    bool changed = false;
    std::vector<std::string> names;
    for (int i = begin; i < end; ++i) {
      names.push_back(Member(i));
      if (names.size() == 100 || i + 1 == end) {
        std::vector<std::string_view> views(names.begin(), names.end());
        OpResult<bool> r = engine_->uniques().Add(owner, key, views, at.value_or(clock_.NowMs()));
        EXPECT_TRUE(r.ok()) << owner << " " << key;
        changed |= r.value;
        names.clear();
      }
    }
    return changed;
  }
  static DistinctSketch SketchOf(int begin, int end) {
    DistinctSketch sketch;
    for (int i = begin; i < end; ++i) sketch.Add(Member(i));
    return sketch;
  }
  PeriodId Period(Interval interval, int64_t at_ms) { return PeriodOf(interval, at_ms, TimeZone::Utc()); }
  uint64_t Count(std::string_view owner, std::string_view key, Interval interval, int64_t at_ms) {
    const PeriodId p = Period(interval, at_ms);
    OpResult<uint64_t> r = engine_->uniques().Count(owner, key, interval, p, p);
    EXPECT_TRUE(r.ok()) << owner << " " << key;
    return r.value;
  }
  uint64_t Total(std::string_view owner, std::string_view key) {
    return Count(owner, key, Interval::kTotal, clock_.NowMs());
  }
  DistinctSketch Range(std::string_view owner, std::string_view key, Interval interval, int64_t from_ms,
                       int64_t to_ms) {
    OpResult<DistinctSketch> r =
        engine_->uniques().Union(owner, key, interval, Period(interval, from_ms), Period(interval, to_ms));
    EXPECT_TRUE(r.ok()) << owner << " " << key;
    return r.value;
  }
};

class UniquesModeTest : public ::testing::TestWithParam<RestartMode>, public UniquesFixture {
 protected:
  void SetUp() override { Open(); }
};

TEST_P(UniquesModeTest, EveryIntervalCountsItsOwnPeriod) {
  const int64_t first_hour = clock_.NowMs();
  EXPECT_TRUE(Add("org:acme", "customers", 0, 3));  // 0 1 2
  clock_.Advance(kHourMs);
  EXPECT_TRUE(Add("org:acme", "customers", 2, 5));  // 2 3 4
  EXPECT_FALSE(Add("org:acme", "customers", 2, 5)) << "every member is in every cell already";
  Checkpoint(GetParam());
  const int64_t now = clock_.NowMs();
  EXPECT_EQ(Count("org:acme", "customers", Interval::kHour, first_hour), 3u);
  EXPECT_EQ(Count("org:acme", "customers", Interval::kHour, now), 3u);
  for (Interval interval : {Interval::kDay, Interval::kWeek, Interval::kMonth, Interval::kQuarter, Interval::kYear}) {
    EXPECT_EQ(Count("org:acme", "customers", interval, now), 5u) << IntervalName(interval);
  }
  EXPECT_EQ(Total("org:acme", "customers"), 5u);
  // Two hours as one range: the union (5), not the sum (6).
  EXPECT_EQ(Range("org:acme", "customers", Interval::kHour, first_hour, now).Count(), 5u);
  // Other keys and owners are other cells.
  EXPECT_EQ(Total("org:acme", "other"), 0u);
  EXPECT_EQ(Total("org:other", "customers"), 0u);
  // More after the checkpoint: a log on top of compacted state.
  clock_.Advance(kDayMs);
  EXPECT_TRUE(Add("org:acme", "customers", 4, 8));  // 4 5 6 7
  Checkpoint(GetParam());
  EXPECT_EQ(Count("org:acme", "customers", Interval::kDay, clock_.NowMs()), 4u);
  EXPECT_EQ(Count("org:acme", "customers", Interval::kDay, now), 5u);
  EXPECT_EQ(Count("org:acme", "customers", Interval::kMonth, clock_.NowMs()), 8u);
  EXPECT_EQ(Total("org:acme", "customers"), 8u);
}

TEST_P(UniquesModeTest, ALateEventLandsInItsOwnPastPeriods) {
  const int64_t day0 = clock_.NowMs();
  Add("user:1", "visitors", 0, 2);
  clock_.Advance(3 * kDayMs);
  Add("user:1", "visitors", 10, 11);                   // today
  EXPECT_TRUE(Add("user:1", "visitors", 5, 7, day0));  // three days late
  EXPECT_FALSE(Add("user:1", "visitors", 5, 7, day0));
  Checkpoint(GetParam());
  EXPECT_EQ(Count("user:1", "visitors", Interval::kDay, day0), 4u);
  EXPECT_EQ(Count("user:1", "visitors", Interval::kHour, day0), 4u);
  EXPECT_EQ(Count("user:1", "visitors", Interval::kDay, clock_.NowMs()), 1u);
  EXPECT_EQ(Total("user:1", "visitors"), 5u);
  // Late again, after the checkpoint: its cell comes back from storage.
  EXPECT_TRUE(Add("user:1", "visitors", 7, 8, day0 + kHourMs));
  Checkpoint(GetParam());
  EXPECT_EQ(Count("user:1", "visitors", Interval::kDay, day0), 5u);
  EXPECT_EQ(Count("user:1", "visitors", Interval::kHour, day0), 4u);
  EXPECT_EQ(Count("user:1", "visitors", Interval::kHour, day0 + kHourMs), 1u);
  EXPECT_EQ(Total("user:1", "visitors"), 6u);
}

// The union of 30 day sketches is the sketch of every member (the sketch is
// canonical), so a 30-day count is exactly what one sketch fed everything
// says, far below the sum of the days.
TEST_P(UniquesModeTest, ARangeOfDaysIsTheUnionOfItsSketches) {
  const int64_t first_day = clock_.NowMs() - 29 * kDayMs;
  uint64_t sum_of_days = 0;
  for (int day = 0; day < 30; ++day) {
    // Day d sees members 100d .. 100d + 499: neighbours overlap.
    Add("org:acme", "customers", 100 * day, 100 * day + 500, first_day + day * kDayMs);
    if (day == 14) Checkpoint(GetParam());
  }
  Checkpoint(GetParam());
  for (int day = 0; day < 30; ++day)
    sum_of_days += Count("org:acme", "customers", Interval::kDay, first_day + day * kDayMs);
  const DistinctSketch all = SketchOf(0, 100 * 29 + 500);
  const DistinctSketch range = Range("org:acme", "customers", Interval::kDay, first_day, clock_.NowMs());
  EXPECT_EQ(range, all);
  EXPECT_EQ(range.Count(), all.Count());
  EXPECT_GT(sum_of_days, 4 * all.Count());
  // The same union from the total, and from a part of the range.
  EXPECT_EQ(Total("org:acme", "customers"), all.Count());
  EXPECT_EQ(Range("org:acme", "customers", Interval::kDay, first_day + 10 * kDayMs, first_day + 19 * kDayMs),
            SketchOf(1000, 1900 + 500));
}

TEST_P(UniquesModeTest, ExactUpTo256ThenWithinThreeStandardErrors) {
  Add("org:small", "customers", 0, 256);
  Add("org:big", "customers", 0, 100'000);
  Checkpoint(GetParam());
  EXPECT_EQ(Total("org:small", "customers"), 256u);
  EXPECT_EQ(Count("org:small", "customers", Interval::kDay, clock_.NowMs()), 256u);
  const double estimate = static_cast<double>(Total("org:big", "customers"));
  EXPECT_LT(std::abs(estimate - 100'000) / 100'000, 3 * 0.0081) << estimate;
  EXPECT_EQ(Range("org:big", "customers", Interval::kHour, clock_.NowMs(), clock_.NowMs()), SketchOf(0, 100'000));
  // Adds after the checkpoint land on the loaded dense sketches.
  Add("org:big", "customers", 100'000, 120'000);
  Checkpoint(GetParam());
  EXPECT_EQ(Range("org:big", "customers", Interval::kYear, clock_.NowMs(), clock_.NowMs()), SketchOf(0, 120'000));
}

INSTANTIATE_TEST_SUITE_P(Modes, UniquesModeTest, fixtures::AllRestartModes(), fixtures::RestartModeParamName);

class UniquesTest : public ::testing::Test, public UniquesFixture {
 protected:
  void SetUp() override { Open(); }
  uint64_t Owners() {
    for (const ModuleStats& stats : engine_->module_stats()) {
      if (stats.module == "owners") return stats.items;
    }
    return 0;
  }
};

// The bytes per cell docs/metering.md states: ~8.5 per member while exact,
// ~2 per register while sparse, 12,288 (+ the form byte) when dense.
TEST_F(UniquesTest, CellBytesAreWhatTheGuideSays) {
  EXPECT_EQ(SketchOf(0, 256).form(), DistinctSketch::Form::kExact);
  const size_t exact = SketchOf(0, 256).Encode().size();
  EXPECT_GT(exact, 256u * 8);
  EXPECT_LT(exact, 256u * 9);
  DistinctSketch sketch;
  size_t largest_sparse = 0;
  for (int i = 0; sketch.form() != DistinctSketch::Form::kDense; ++i) {
    sketch.Add(Member(i));
    if (sketch.form() == DistinctSketch::Form::kSparse)
      largest_sparse = std::max(largest_sparse, sketch.Encode().size());
  }
  EXPECT_GT(largest_sparse, 1024u * 2 - 64);
  EXPECT_LT(largest_sparse, 1024u * 2 + 64);
  EXPECT_EQ(sketch.Encode().size(), 12'288u + 1);
}

// Replay applies the logged hashes on top of the state they were logged
// against; applying them twice (a log entry past a checkpoint that a
// compaction also wrote) changes nothing.
TEST_F(UniquesTest, ReplayIsIdempotent) {
  Add("org:acme", "customers", 0, 1000);
  Reopen();
  EXPECT_EQ(Range("org:acme", "customers", Interval::kDay, clock_.NowMs(), clock_.NowMs()), SketchOf(0, 1000));
  EXPECT_FALSE(Add("org:acme", "customers", 0, 1000)) << "replayed cells already hold every member";
  Compact();
  Reopen();
  Reopen();
  EXPECT_EQ(Range("org:acme", "customers", Interval::kMonth, clock_.NowMs(), clock_.NowMs()), SketchOf(0, 1000));
  EXPECT_EQ(engine_->uniques().MemoryStats().dirty_entries, 0u) << "nothing to replay, nothing changed";
}

TEST_F(UniquesTest, ReadsNeverCreateState) {
  const uint64_t owners_before = Owners();
  EXPECT_EQ(Total("org:nobody", "customers"), 0u);
  EXPECT_EQ(Count("org:nobody", "customers", Interval::kDay, clock_.NowMs()), 0u);
  EXPECT_EQ(Range("org:nobody", "customers", Interval::kDay, 0, clock_.NowMs()).Count(), 0u);
  EXPECT_EQ(Owners(), owners_before);
  EXPECT_EQ(engine_->uniques().MemoryStats().entries, 0u);
  Add("org:acme", "customers", 0, 10);
  Compact();
  Reopen();
  EXPECT_EQ(Total("org:acme", "customers"), 10u);
  EXPECT_EQ(engine_->uniques().MemoryStats().entries, 0u) << "a read loads nothing";
}

// Memory holds the pairs used recently: one that no add touched during a
// whole compaction interval is dropped once written, and its cells are read
// from storage (reads) or loaded again (adds).
TEST_F(UniquesTest, IdlePairsLeaveMemoryAndComeBack) {
  for (int owner = 0; owner < 50; ++owner) Add("org:" + std::to_string(owner), "customers", 0, 200);
  clock_.Advance(3 * kDayMs);
  Add("org:0", "customers", 200, 201, clock_.NowMs() - 2 * kDayMs);  // not the current day: cold cells
  EXPECT_EQ(engine_->uniques().MemoryStats().entries, 50u);
  EXPECT_GT(engine_->uniques().MemoryStats().cold_cells, 0u);
  Compact();
  EXPECT_EQ(engine_->uniques().MemoryStats().cold_cells, 0u) << "non-current cells leave memory once written";
  Compact();  // none was used since the last one
  EXPECT_EQ(engine_->uniques().MemoryStats().entries, 0u);
  EXPECT_EQ(engine_->uniques().MemoryStats().sketch_bytes, 0u);
  EXPECT_EQ(Total("org:7", "customers"), 200u);
  EXPECT_EQ(Total("org:0", "customers"), 201u);
  EXPECT_TRUE(Add("org:7", "customers", 0, 200)) << "today's cells are new";
  EXPECT_FALSE(Add("org:7", "customers", 0, 200));
  EXPECT_TRUE(Add("org:7", "customers", 200, 210));
  EXPECT_EQ(Total("org:7", "customers"), 210u);
  EXPECT_EQ(Count("org:7", "customers", Interval::kMonth, clock_.NowMs()), 210u);
  EXPECT_EQ(Count("org:7", "customers", Interval::kDay, clock_.NowMs()), 210u);
  EXPECT_EQ(engine_->uniques().MemoryStats().entries, 1u);
}

// Adds of current and late events from four threads while another thread
// compacts and reads without pause: every count is the model's afterwards
// (nothing lost or doubled across snapshot, in-flight write and drop), and
// again after a restart. Below 257 members per cell every count is exact.
TEST_F(UniquesTest, ConcurrentAddsReadsAndCompactionsLoseNothing) {
  constexpr int kThreads = 4, kOwners = 40, kAddsPerThread = 20000, kDays = 6;
  auto owner = [](int i) { return "org:" + std::to_string(i); };
  std::atomic<bool> done{false};
  std::thread compactor([&] {
    while (!done.load()) {
      EXPECT_TRUE(engine_->CompactAll().ok());
      EXPECT_TRUE(engine_->uniques().Count(owner(3), "customers", Interval::kTotal, 0, 0).ok());
    }
  });
  const int64_t now = clock_.NowMs();
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int n = 0; n < kAddsPerThread; ++n) {
        const int i = (n * 7 + t) % kOwners;
        const int day = (n / kOwners + t) % kDays;
        const std::string member = Member((n * 13 + t * 5) % 200);
        const std::string_view view = member;
        ASSERT_TRUE(engine_->uniques().Add(owner(i), "customers", std::span(&view, 1), now - day * kDayMs).ok());
      }
    });
  }
  for (std::thread& writer : writers) writer.join();
  done.store(true);
  compactor.join();
  // The model: the same adds, replayed into sets.
  std::map<std::pair<int, int>, std::set<std::string>> days;
  std::map<int, std::set<std::string>> totals;
  for (int t = 0; t < kThreads; ++t) {
    for (int n = 0; n < kAddsPerThread; ++n) {
      const int i = (n * 7 + t) % kOwners;
      const int day = (n / kOwners + t) % kDays;
      const std::string member = Member((n * 13 + t * 5) % 200);
      days[{i, day}].insert(member);
      totals[i].insert(member);
    }
  }
  for (int round = 0; round < 2; ++round) {
    for (int i = 0; i < kOwners; ++i) {
      EXPECT_EQ(Total(owner(i), "customers"), totals[i].size()) << owner(i);
      for (int day = 0; day < kDays; ++day) {
        const size_t expected = days[std::make_pair(i, day)].size();
        EXPECT_EQ(Count(owner(i), "customers", Interval::kDay, now - day * kDayMs), expected)
            << owner(i) << " day -" << day;
      }
    }
    Reopen();
  }
}

// A compaction whose batch cannot be written gives its snapshot back: every
// cell still counts what it did (hot, rolled over and late ones), the next
// compaction writes them, and a restart replays the acknowledged adds.
class UniquesFaultTest : public ::testing::Test, public UniquesFixture {
 protected:
  void SetUp() override {
    options_.fault_control_path = control_;
    Open();
  }
  void SetFault(const char* word) {
    std::ofstream(control_, std::ios::trunc) << word;
    std::this_thread::sleep_for(std::chrono::milliseconds(30));  // re-read every 10 ms
  }
  const std::string control_ = dir_.Sub("fault");
};

TEST_F(UniquesFaultTest, AFailedCompactionLosesNothing) {
  const int64_t day0 = clock_.NowMs();
  Add("org:acme", "customers", 0, 100);
  clock_.Advance(2 * kDayMs);
  Add("org:acme", "customers", 100, 150);        // rolls the day over: day0's cells wait in cold
  Add("org:acme", "customers", 150, 160, day0);  // late
  Durable();
  SetFault("ioerror");
  EXPECT_FALSE(engine_->CompactAll().ok());
  SetFault("");
  EXPECT_EQ(Count("org:acme", "customers", Interval::kDay, day0), 110u);
  EXPECT_EQ(Count("org:acme", "customers", Interval::kDay, clock_.NowMs()), 50u);
  EXPECT_EQ(Total("org:acme", "customers"), 160u);
  EXPECT_GT(engine_->uniques().MemoryStats().cold_cells, 0u) << "given back to the next compaction";
  engine_.reset();
  Open();
  EXPECT_EQ(Count("org:acme", "customers", Interval::kDay, day0), 110u);
  EXPECT_EQ(Count("org:acme", "customers", Interval::kDay, clock_.NowMs()), 50u);
  EXPECT_EQ(Total("org:acme", "customers"), 160u);
  Compact();
  Reopen();
  EXPECT_EQ(Count("org:acme", "customers", Interval::kDay, day0), 110u);
  EXPECT_EQ(Total("org:acme", "customers"), 160u);
}

// Hour cells are kept 7 days, day cells 400 (the counters' retention): the
// compaction filter drops older rows of the uniq family.
TEST_F(UniquesTest, RetentionDropsOldHourCells) {
  const int64_t then = clock_.NowMs();
  Add("org:acme", "customers", 0, 20);
  clock_.Advance(kHourMs);
  Add("org:acme", "customers", 20, 21);  // the hour cell of `then` rolls over and is written
  Compact();
  EXPECT_EQ(Count("org:acme", "customers", Interval::kHour, then), 20u);
  clock_.Advance(9 * kDayMs);
  Compact();
  Compact();  // the pair is idle: out of memory
  ASSERT_TRUE(engine_->FlushMemtables().ok());
  ASSERT_TRUE(engine_->store().CompactFamily(storage::Family::kUniq).ok());
  EXPECT_EQ(Count("org:acme", "customers", Interval::kHour, then), 0u) << "older than 7 days";
  EXPECT_EQ(Count("org:acme", "customers", Interval::kDay, then), 21u);
  EXPECT_EQ(Total("org:acme", "customers"), 21u);
}

// A damaged block of the uniq family: every answer is the true one or
// kReadFailed naming the family, never a count from an empty cell, and no
// add is applied over a cell that could not be read.
TEST_F(UniquesTest, ADamagedCellFailsInsteadOfCountingFromEmpty) {
  constexpr int kOwners = 300;
  auto owner = [](int i) { return "o:" + std::to_string(1000 + i); };
  for (int i = 0; i < kOwners; ++i) Add(owner(i), "customers", 0, 20);
  Compact();
  ASSERT_TRUE(engine_->FlushMemtables().ok());
  ASSERT_TRUE(engine_->store().CompactFamily(storage::Family::kUniq).ok());
  const auto files = engine_->store().TEST_TableFiles(storage::Family::kUniq);
  ASSERT_FALSE(files.empty());
  Durable();
  engine_.reset();
  for (const auto& file : files) {
    ASSERT_GT(file.data_bytes, 64u) << file.path;
    const int fd = ::open(file.path.c_str(), O_RDWR);
    ASSERT_GE(fd, 0) << file.path;
    const off_t offset = static_cast<off_t>(file.data_bytes / 2);
    char bytes[32];
    ASSERT_EQ(::pread(fd, bytes, sizeof bytes, offset), static_cast<ssize_t>(sizeof bytes));
    for (char& b : bytes) b = static_cast<char>(b ^ 0x5a);
    ASSERT_EQ(::pwrite(fd, bytes, sizeof bytes, offset), static_cast<ssize_t>(sizeof bytes));
    ::close(fd);
  }
  Open();
  // An owner's seven cells are neighbours: the damaged block may hold some
  // of them, so a read of the total and an add (all seven) fail apart.
  int failed = 0;
  for (int i = 0; i < kOwners; ++i) {
    OpResult<uint64_t> read = engine_->uniques().Count(owner(i), "customers", Interval::kTotal, 0, 0);
    const std::string_view member = "new";
    OpResult<bool> add = engine_->uniques().Add(owner(i), "customers", std::span(&member, 1), clock_.NowMs());
    if (read.ok()) {
      EXPECT_EQ(read.value, 20u) << owner(i);
    } else {
      EXPECT_EQ(read.status, OpStatus::kReadFailed) << owner(i);
      EXPECT_EQ(read.failed_family, "uniq");
    }
    if (add.ok()) {
      EXPECT_TRUE(add.value);
      EXPECT_EQ(Total(owner(i), "customers"), 21u) << owner(i);
    } else {
      ASSERT_EQ(add.status, OpStatus::kReadFailed) << owner(i);
      EXPECT_EQ(add.failed_family, "uniq");
      // Nothing applied: the cells in memory, if any, are unchanged.
      OpResult<uint64_t> again = engine_->uniques().Count(owner(i), "customers", Interval::kTotal, 0, 0);
      if (again.ok()) {
        EXPECT_EQ(again.value, 20u) << owner(i);
      }
    }
    failed += (read.ok() && add.ok()) ? 0 : 1;
  }
  EXPECT_GT(failed, 0) << "the damage hit no cell";
  EXPECT_LT(failed, kOwners) << "the damage hit every cell";
}

}  // namespace
}  // namespace tally::core
