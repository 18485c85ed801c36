// Counter persistence: recovery replays the log past the checkpoint,
// compaction folds memory into the cells, by_key, dedupe and owners families;
// state written before and after a compaction recovers as one. Ends with a
// randomised workload checked against a model after every kind of restart.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "counter_test_util.h"
#include "storage/log_format.h"

namespace tally::core::counters_test {
namespace {

using Strs = std::vector<std::string>;

TEST_F(CounterTest, RecoveryReplaysExactlyTheEntriesPastTheCheckpoint) {
  for (int i = 0; i < 10; ++i) Incr("user:" + std::to_string(i % 3), "hits", 1);
  ASSERT_TRUE(engine_->owners().SetTimeZone("user:0", Zone("Europe/Berlin")).ok());
  Assign("user:1", "hits", {{Interval::kTotal, 0, 50}});
  EXPECT_EQ(engine_->UncompactedEntries(), 12u);
  Reopen();
  EXPECT_EQ(engine_->recovered_entries(), 12u);
  EXPECT_EQ(engine_->UncompactedEntries(), 12u);
  EXPECT_EQ(Total("user:0", "hits"), 4);
  EXPECT_EQ(Total("user:1", "hits"), 50);
  EXPECT_EQ(Total("user:2", "hits"), 3);
  Compact();
  EXPECT_EQ(engine_->UncompactedEntries(), 0u);
  Reopen();
  EXPECT_EQ(engine_->recovered_entries(), 0u);
  EXPECT_EQ(Total("user:0", "hits"), 4);
  EXPECT_EQ(Total("user:1", "hits"), 50);
  EXPECT_EQ(ZoneFor("user:0").name(), "Europe/Berlin");
  Incr("user:2", "hits", 1);
  Incr("user:2", "hits", 1);
  Reopen();
  EXPECT_EQ(engine_->recovered_entries(), 2u);
  EXPECT_EQ(Total("user:2", "hits"), 5);
}

TEST_F(CounterTest, AnUnacknowledgedWriteMayBeLostButNeverHalfApplied) {
  Incr("user:1", "hits", 1);
  Durable();
  Assign("user:1", "hits",
         {{Interval::kMonth, PeriodOf(Interval::kMonth, Utc(2024, 4, 1), TimeZone::Utc()), 40},
          {Interval::kMonth, PeriodOf(Interval::kMonth, Utc(2024, 5, 1), TimeZone::Utc()), 50}});
  // Destroy without waiting for the log: the recount is either all there or not at all.
  engine_.reset();
  Open();
  const int64_t april = CellOf("user:1", "hits", Interval::kMonth, "2024-04");
  const int64_t may = CellOf("user:1", "hits", Interval::kMonth, "2024-05");
  EXPECT_TRUE((april == 0 && may == 0) || (april == 40 && may == 50)) << april << " " << may;
  EXPECT_EQ(Total("user:1", "hits"), 1);
}

TEST_F(CounterTest, WritesBeforeAndAfterACompactionRecoverTogether) {
  // The hour cells of June 3 are past the default hour retention (7 days)
  // by June 16: keep them, or a RocksDB compaction of the cells family
  // (whenever RocksDB runs one) drops them, as it should.
  options_.counters.retention_ms[static_cast<int>(Interval::kHour)] = 0;
  Reopen();
  // Before: plain increments, a late event, a set, an owner zone, an event id.
  Incr("user:1", "hits", 5);
  Incr("user:1", "hits", 7, Utc(2024, 6, 3, 10));
  Assign("user:1", "hits", {{Interval::kMonth, PeriodOf(Interval::kMonth, Utc(2024, 4, 2), TimeZone::Utc()), 40}});
  Incr("user:2", "hits", 1, std::nullopt, "ev-before");
  ASSERT_TRUE(engine_->owners().SetTimeZone("user:3", Zone("Asia/Kolkata")).ok());
  Incr("user:3", "hits", 2);
  Compact();
  // After: the same cells again, a rollover, a delete of one interval, another id.
  Incr("user:1", "hits", 1);
  Incr("user:1", "hits", 2, Utc(2024, 6, 3, 11));
  clock_.Advance(kDayMs);  // Sunday
  Incr("user:1", "hits", 100);
  Incr("user:2", "hits", 1, std::nullopt, "ev-after");
  EXPECT_EQ(Delete("user:3", "hits", Interval::kHour), 1);
  Incr("user:3", "hits", 3);
  auto check = [&] {
    EXPECT_EQ(Total("user:1", "hits"), 115);
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kDay, "2024-06-15"), 6);
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kDay, "2024-06-16"), 100);
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kDay, "2024-06-03"), 9);
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kHour, "2024-06-03T10"), 7);
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kHour, "2024-06-03T11"), 2);
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kWeek, "2024-W23"), 9);
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kWeek, "2024-W24"), 106);
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kMonth, "2024-06"), 115);
    EXPECT_EQ(CellOf("user:1", "hits", Interval::kMonth, "2024-04"), 40);
    EXPECT_EQ(Sum("user:1", "hits", Interval::kMonth), 155);
    EXPECT_EQ(Sum("user:1", "hits", Interval::kHour), 115);
    EXPECT_EQ(Total("user:2", "hits"), 2);
    bool duplicate = false;
    EXPECT_EQ(Incr("user:2", "hits", 1, std::nullopt, "ev-before", &duplicate), 2);
    EXPECT_TRUE(duplicate);
    EXPECT_EQ(Incr("user:2", "hits", 1, std::nullopt, "ev-after", &duplicate), 2);
    EXPECT_TRUE(duplicate);
    EXPECT_EQ(ZoneFor("user:3").name(), "Asia/Kolkata");
    EXPECT_EQ(Total("user:3", "hits"), 5);
    EXPECT_EQ(CellAt("user:3", "hits", Interval::kHour), 3);
    EXPECT_EQ(CellAt("user:3", "hits", Interval::kHour, kStartMs), 0);
    EXPECT_EQ(CellAt("user:3", "hits", Interval::kDay, kStartMs), 2);
    EXPECT_EQ(TopOf("hits", Interval::kTotal, 0), (Strs{"user:1=115", "user:3=5", "user:2=2"}));
  };
  {
    SCOPED_TRACE("live");
    check();
  }
  Reopen();  // compacted state + replay of the entries after it
  {
    SCOPED_TRACE("compacted state + replay");
    check();
  }
  Compact();
  {
    SCOPED_TRACE("compacted again");
    check();
  }
  Reopen();
  {
    SCOPED_TRACE("reopened");
    check();
  }
  Reopen();
  {
    SCOPED_TRACE("reopened twice");
    check();
  }
}

TEST_F(CounterTest, DedupeIdsSurviveRestartsCompactedOrNot) {
  bool duplicate = false;
  Incr("user:1", "api", 1, std::nullopt, "a");
  Compact();
  Incr("user:1", "api", 1, std::nullopt, "b");
  Reopen();
  for (const char* id : {"a", "b"}) {
    EXPECT_EQ(Incr("user:1", "api", 1, std::nullopt, id, &duplicate), 2) << id;
    EXPECT_TRUE(duplicate) << id;
  }
  Compact();
  Reopen();
  for (const char* id : {"a", "b"}) {
    EXPECT_EQ(Incr("user:1", "api", 1, std::nullopt, id, &duplicate), 2) << id;
    EXPECT_TRUE(duplicate) << id;
  }
  clock_.Advance(options_.counters.dedupe_window_ms);
  Reopen();
  EXPECT_EQ(Incr("user:1", "api", 1, std::nullopt, "a", &duplicate), 3);
  EXPECT_FALSE(duplicate);
  EXPECT_EQ(Incr("user:1", "api", 1, std::nullopt, "b", &duplicate), 4);
  EXPECT_FALSE(duplicate);
  Compact();
  Reopen();
  EXPECT_EQ(Incr("user:1", "api", 1, std::nullopt, "a", &duplicate), 4);
  EXPECT_TRUE(duplicate);
}

TEST_F(CounterTest, DeleteThenCompactThenReopenLeavesNothing) {
  Incr("user:1", "hits", 5);
  Incr("user:1", "hits", 2, Utc(2024, 6, 1, 9));
  Incr("user:2", "hits", 1);
  Compact();
  Incr("user:1", "hits", 1);
  EXPECT_EQ(Delete("user:1", "hits"), 10);  // total; hours, days, weeks x2; month, quarter, year
  Compact();
  Reopen();
  EXPECT_EQ(Total("user:1", "hits"), 0);
  EXPECT_EQ(CellOf("user:1", "hits", Interval::kDay, "2024-06-01"), 0);
  EXPECT_EQ(CellOf("user:1", "hits", Interval::kDay, "2024-06-15"), 0);
  EXPECT_EQ(Sum("user:1", "hits", Interval::kHour), 0);
  EXPECT_EQ(Range("user:1", "hits", Interval::kDay, "2024-06-01", "2024-06-03"), (std::vector<int64_t>{0, 0, 0}));
  EXPECT_EQ(TopOf("hits", Interval::kTotal, 0), (Strs{"user:2=1"}));
  EXPECT_EQ(TopOf("hits", Interval::kDay, Period("user:1", Interval::kDay, "2024-06-01")), Strs{});
  EXPECT_EQ(Delete("user:1", "hits"), 0) << "the cells are gone, so nothing is left to delete";
  auto cells = engine_->counters().ReadOwnerCells("user:1", Interval::kTotal, 0);
  ASSERT_TRUE(cells.ok());
  for (const auto& [key, value] : cells.value) EXPECT_EQ(value, 0) << key;
}

TEST_F(CounterTest, CompactionIsIdempotentAndCheap) {
  Incr("user:1", "hits", 5);
  Compact();
  const uint64_t written = engine_->compaction_stats().keys_written;
  Compact();
  Compact();
  EXPECT_EQ(engine_->compaction_stats().keys_written, written) << "nothing changed: nothing to write";
  Reopen();
  EXPECT_EQ(Total("user:1", "hits"), 5);
}

TEST(RetentionTest, OldCellsAndExpiredIdsAreDroppedByTheCompactionFilter) {
  namespace lf = storage::log_format;
  ManualClock clock(Utc(2024, 6, 15, 12));
  CounterOptions options;  // hours 7 days, days 400 days, the rest forever
  std::unique_ptr<storage::RetentionPolicy> policy = MakeRetentionPolicy(options, clock);
  const TimeZone utc = TimeZone::Utc();
  // The cell and its two index entries go together.
  auto drop = [&](Interval interval, int64_t at) {
    const auto iv = static_cast<uint8_t>(interval);
    const PeriodId period = PeriodOf(interval, at, utc);
    const bool cell = policy->DropCell(lf::CellKey("user:1", "hits", iv, period), lf::EncodeInt64(5));
    EXPECT_EQ(policy->DropIndexEntry(lf::ByKeyKey("hits", iv, period, "user:1")), cell);
    EXPECT_EQ(policy->DropIndexEntry(lf::ByValueKey("hits", iv, period, 5, "user:1")), cell);
    return cell;
  };
  EXPECT_FALSE(drop(Interval::kHour, Utc(2024, 6, 15, 11)));
  EXPECT_FALSE(drop(Interval::kHour, Utc(2024, 6, 8, 13)));
  EXPECT_TRUE(drop(Interval::kHour, Utc(2024, 6, 7, 10)));
  EXPECT_FALSE(drop(Interval::kDay, Utc(2023, 6, 15)));
  EXPECT_TRUE(drop(Interval::kDay, Utc(2023, 5, 1)));
  EXPECT_FALSE(drop(Interval::kWeek, Utc(2000, 1, 1)));
  EXPECT_FALSE(drop(Interval::kMonth, Utc(2000, 1, 1)));
  EXPECT_FALSE(drop(Interval::kYear, Utc(1990, 1, 1)));
  EXPECT_FALSE(policy->DropCell(lf::CellKey("user:1", "hits", 0, 0), lf::EncodeInt64(5)));
  EXPECT_FALSE(policy->DropDedupe(lf::DedupeKey("user:1", "hits", "id"), lf::EncodeInt64(clock.NowMs() + 1)));
  EXPECT_TRUE(policy->DropDedupe(lf::DedupeKey("user:1", "hits", "id"), lf::EncodeInt64(clock.NowMs())));
}

// ---------------------------------------------------------------------------
// A random workload checked against a model after random restarts.

class Model {
 public:
  using CellKey = std::tuple<std::string, std::string, int, int64_t>;  // owner, key, interval, period

  std::map<CellKey, int64_t> cells;
  std::set<CellKey> touched;  // every cell ever written (to check that deleted ones read 0)
  std::map<std::string, TimeZone> zones;
  struct SeenId {
    int64_t expiry;
    int64_t delta, at;  // the arguments of the id's first use
  };
  std::map<std::string, SeenId> seen_ids;  // owner/key/id
  std::vector<std::string> log;            // what happened, for failure messages

  std::string History(const std::string& owner, const std::string& key) const {
    std::string out;
    for (const std::string& line : log) {
      if (line.find(" " + owner + " ") != std::string::npos &&
          (line.find(" " + key + " ") != std::string::npos || line.find(" * ") != std::string::npos)) {
        out += line + "\n";
      } else if (line.rfind("checkpoint", 0) == 0 || line.rfind("clock", 0) == 0) {
        out += line + "\n";
      }
    }
    return out;
  }

  TimeZone ZoneOf(const std::string& owner) const {
    auto it = zones.find(owner);
    return it == zones.end() ? TimeZone::Utc() : it->second;
  }
  void Add(const std::string& owner, const std::string& key, int interval, int64_t period, int64_t delta) {
    CellKey k{owner, key, interval, period};
    cells[k] += delta;
    touched.insert(k);
  }
  void Set(const std::string& owner, const std::string& key, int interval, int64_t period, int64_t value) {
    CellKey k{owner, key, interval, period};
    cells[k] = value;
    touched.insert(k);
  }
  void Delete(const std::string& owner, const std::string& key, std::optional<Interval> interval) {
    for (auto it = cells.begin(); it != cells.end();) {
      const auto& [o, k, iv, p] = it->first;
      if (o == owner && k == key && (!interval || iv == static_cast<int>(*interval))) {
        it = cells.erase(it);
      } else {
        ++it;
      }
    }
  }
  int64_t Get(const CellKey& k) const {
    auto it = cells.find(k);
    return it == cells.end() ? 0 : it->second;
  }
};

class RandomWorkloadTest : public ::testing::TestWithParam<uint32_t>, public CounterFixture {
 protected:
  void SetUp() override {
    // Keep every cell: retention would drop old hour cells whenever RocksDB
    // compacts a file, which the model cannot predict.
    for (int64_t& keep : options_.counters.retention_ms) keep = 0;
    Open();
  }

  void Verify(const Model& model, const std::string& when) {
    SCOPED_TRACE(when);
    for (const Model::CellKey& k : model.touched) {
      const auto& [owner, key, interval, period] = k;
      ASSERT_EQ(Cell(owner, key, static_cast<Interval>(interval), period), model.Get(k))
          << owner << " " << key << " " << IntervalName(static_cast<Interval>(interval)) << " "
          << PeriodLabel(static_cast<Interval>(interval), period, TimeZone::Utc()) << "\n"
          << model.History(owner, key);
    }
    // Sums per counter and interval, and TOP of the totals.
    std::map<std::tuple<std::string, std::string, int>, int64_t> sums;
    std::map<std::string, std::map<std::string, int64_t>> totals;  // key -> owner -> total
    for (const auto& [k, value] : model.cells) {
      const auto& [owner, key, interval, period] = k;
      sums[{owner, key, interval}] += value;
      if (interval == 0) totals[key][owner] = value;
    }
    for (const auto& [k, sum] : sums) {
      const auto& [owner, key, interval] = k;
      if (interval == static_cast<int>(Interval::kHour)) continue;  // wide range: checked cell by cell above
      EXPECT_EQ(Sum(owner, key, static_cast<Interval>(interval)), sum)
          << owner << " " << key << " " << IntervalName(static_cast<Interval>(interval));
    }
    for (const auto& [key, owners] : totals) {
      std::vector<std::pair<std::string, int64_t>> ranked(owners.begin(), owners.end());
      ranked.erase(std::remove_if(ranked.begin(), ranked.end(), [](const auto& r) { return r.second == 0; }),
                   ranked.end());
      std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
      });
      Strs expected;
      for (const auto& [owner, value] : ranked) expected.push_back(owner + "=" + std::to_string(value));
      EXPECT_EQ(TopOf(key, Interval::kTotal, 0), expected) << key;
    }
  }
};

TEST_P(RandomWorkloadTest, MatchesTheModelThroughCompactionsAndRestarts) {
  std::mt19937 rng(GetParam());
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint32_t>(n)); };
  const std::vector<std::string> owners{"user:1", "user:2", "user:3", "org:a", "org:b"};
  const std::vector<std::string> keys{"hits", "bytes"};
  const std::vector<std::string> zone_names{"UTC", "Europe/Berlin", "Asia/Kolkata", "America/New_York"};
  Model model;
  for (int step = 0; step < 400; ++step) {
    const std::string& owner = owners[pick(static_cast<int>(owners.size()))];
    const std::string& key = keys[pick(static_cast<int>(keys.size()))];
    const int64_t now = clock_.NowMs();
    const int op = pick(100);
    if (op < 55) {  // increment, often late
      const int64_t at = pick(3) == 0 ? now : now - pick(10 * 24 * 60) * kMinuteMs;
      const int64_t delta = pick(20) - 5;
      std::string id;
      if (pick(4) == 0) id = "ev-" + std::to_string(pick(40));
      bool duplicate = false;
      const std::string dedupe = owner + "/" + key + "/" + id;  // ids are scoped to one counter
      auto seen = model.seen_ids.find(dedupe);
      const bool seen_live = !id.empty() && seen != model.seen_ids.end() && seen->second.expiry > now;
      // Within the window, the same arguments are a retry, others a conflict.
      const bool expect_duplicate = seen_live && seen->second.delta == delta && seen->second.at == at;
      const bool expect_conflict = seen_live && !expect_duplicate;
      model.log.push_back(
          "incr " + owner + " " + key + " " + std::to_string(delta) + " at " + std::to_string(at) + " (" +
          PeriodLabel(Interval::kHour, PeriodOf(Interval::kHour, at, TimeZone::Utc()), TimeZone::Utc()) + "Z) id " +
          id);
      if (expect_conflict) {
        ASSERT_EQ(TryIncr(owner, key, delta, at, id).status, OpStatus::kIdConflict) << "step " << step << " id " << id;
        continue;
      }
      Incr(owner, key, delta, at, id, &duplicate);
      ASSERT_EQ(duplicate, expect_duplicate) << "step " << step << " id " << id;
      if (!duplicate) {
        if (!id.empty()) model.seen_ids[dedupe] = {now + options_.counters.dedupe_window_ms, delta, at};
        const TimeZone tz = model.ZoneOf(owner);
        model.Add(owner, key, 0, 0, delta);
        for (Interval interval : kRollupIntervals) {
          model.Add(owner, key, static_cast<int>(interval), PeriodOf(interval, at, tz), delta);
        }
      }
    } else if (op < 67) {  // set / recount
      std::vector<CellAssignment> cells;
      const Interval interval = static_cast<Interval>(pick(kIntervalCount));
      const TimeZone tz = model.ZoneOf(owner);
      std::set<int64_t> periods;
      for (int n = 1 + pick(3); n > 0; --n) {
        const int64_t period = PeriodOf(interval, now - pick(20 * 24) * kHourMs, tz);
        if (!periods.insert(period).second) continue;
        cells.push_back({interval, period, pick(1000)});
      }
      std::string line = "assign " + owner + " " + key + " " + std::string(IntervalName(interval));
      for (const CellAssignment& c : cells) {
        line += " " + PeriodLabel(interval, c.period, TimeZone::Utc()) + "=" + std::to_string(c.value);
      }
      model.log.push_back(line);
      Assign(owner, key, cells);
      for (const CellAssignment& c : cells) model.Set(owner, key, static_cast<int>(c.interval), c.period, c.value);
    } else if (op < 72) {  // delete all or one interval
      std::optional<Interval> interval;
      if (pick(2) == 0) interval = static_cast<Interval>(pick(kIntervalCount));
      model.log.push_back("delete " + owner + " " + key + " " +
                          std::string(interval ? IntervalName(*interval) : "all"));
      Delete(owner, key, interval);
      model.Delete(owner, key, interval);
    } else if (op < 75) {  // owner time zone
      const TimeZone tz = Zone(zone_names[pick(static_cast<int>(zone_names.size()))]);
      model.log.push_back("tz " + owner + " * " + tz.name());
      ASSERT_TRUE(engine_->owners().SetTimeZone(owner, tz).ok());
      model.zones.insert_or_assign(owner, tz);
    } else if (op < 95) {  // time passes
      clock_.Advance(pick(4) == 0 ? pick(2 * 24 * 60) * kMinuteMs : pick(90) * kMinuteMs);
      model.log.push_back(
          "clock " + std::to_string(clock_.NowMs()) + " (" +
          PeriodLabel(Interval::kHour, PeriodOf(Interval::kHour, clock_.NowMs(), TimeZone::Utc()), TimeZone::Utc()) +
          "Z)");
    } else {  // a checkpoint of a random kind
      const RestartMode mode = static_cast<RestartMode>(1 + pick(4));
      model.log.push_back("checkpoint " + std::string(RestartModeName(mode)));
      Checkpoint(mode);
      if (::testing::Test::HasFatalFailure()) return;
      Verify(model, "step " + std::to_string(step) + " after " + RestartModeName(mode));
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
  Verify(model, "end, live");
  Reopen();
  Verify(model, "end, replayed");
  Compact();
  Reopen();
  Verify(model, "end, compacted");
}

INSTANTIATE_TEST_SUITE_P(Seeds, RandomWorkloadTest, ::testing::Values(1u, 2u, 42u));

}  // namespace
}  // namespace tally::core::counters_test
