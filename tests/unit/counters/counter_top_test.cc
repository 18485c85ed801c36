// CTR.TOP pages (offset) and ranks ranges of periods (the sum of each
// owner's cells from..to of one interval), with the prefix filter and ties
// by owner name, under every restart mode: the cells may be hot, changed in
// memory, being compacted, compacted or replayed.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "counter_test_util.h"

namespace tally::core::counters_test {
namespace {

using Strs = std::vector<std::string>;

class TopRangeTest : public CounterModeTest {
 protected:
  Strs Ranked(const TopQuery& query) {
    Strs out;
    for (const RankedOwner& r : engine_->counters().Top(query).value)
      out.push_back(r.owner + "=" + std::to_string(r.value));
    return out;
  }
  Strs Days(std::string_view key, std::string_view from, std::string_view to, size_t offset = 0, size_t limit = 100,
            std::string_view prefix = {}) {
    return Ranked(
        {key, Interval::kDay, Period("", Interval::kDay, from), Period("", Interval::kDay, to), offset, limit, prefix});
  }
  int64_t DayMs(int day) { return Utc(2024, 6, static_cast<unsigned>(day), 9); }  // June `day`, 09:00 UTC
};

// The page [offset, offset + limit) of owners ranked by value, ties by name.
Strs PageOf(std::vector<RankedOwner> all, size_t offset, size_t limit) {
  std::sort(all.begin(), all.end(), [](const RankedOwner& a, const RankedOwner& b) {
    return a.value != b.value ? a.value > b.value : a.owner < b.owner;
  });
  Strs out;
  for (size_t i = offset; i < all.size() && i < offset + limit; ++i) {
    out.push_back(all[i].owner + "=" + std::to_string(all[i].value));
  }
  return out;
}

TEST_P(TopRangeTest, OffsetPagesThroughTheRanking) {
  for (int i = 0; i < 12; ++i) Incr("user:" + std::to_string(10 + i), "dl", 1 + i % 5);  // ties in pairs and more
  Incr("org:1", "dl", 100);
  Restart();
  const PeriodId today = Period("", Interval::kDay, "current");
  Strs all = Ranked({"dl", Interval::kDay, today, today, 0, 100, "user:"});
  ASSERT_EQ(all.size(), 12u);
  EXPECT_EQ(all.front(), "user:14=5");
  EXPECT_EQ(all[1], "user:19=5");  // ties by owner name
  EXPECT_EQ(all.back(), "user:20=1");
  Strs paged;
  for (size_t offset = 0; offset < 15; offset += 5) {
    Strs page = Ranked({"dl", Interval::kDay, today, today, offset, 5, "user:"});
    EXPECT_LE(page.size(), 5u);
    paged.insert(paged.end(), page.begin(), page.end());
  }
  EXPECT_EQ(paged, all);
  EXPECT_TRUE(Ranked({"dl", Interval::kDay, today, today, 12, 5, "user:"}).empty());
  EXPECT_EQ(Ranked({"dl", Interval::kTotal, 0, 0, 1, 2, ""}), (Strs{"user:14=5", "user:19=5"}));
  Restart();
  EXPECT_EQ(Ranked({"dl", Interval::kTotal, 0, 0, 3, 2, ""}), (Strs{"user:13=4", "user:18=4"}));
  // The same through a range of one period more than needed.
  EXPECT_EQ(Ranked({"dl", Interval::kDay, today - 1, today, 3, 2, ""}), (Strs{"user:13=4", "user:18=4"}));
}

TEST_P(TopRangeTest, RangeRanksTheSumOfEachOwnersCells) {
  // June 15 is "today" (a Saturday); the week June 9-15 is the last 7 days.
  Incr("user:a", "dl", 5, DayMs(9));
  Incr("user:a", "dl", 1, DayMs(15));
  Incr("user:b", "dl", 3, DayMs(12));
  Incr("user:b", "dl", 3, DayMs(14));
  Incr("user:c", "dl", 50, DayMs(8));  // before the range
  Incr("user:c", "dl", 6, DayMs(10));
  Incr("user:d", "dl", 2, DayMs(15));
  Incr("org:x", "dl", 9, DayMs(11));
  Incr("user:e", "dl", 4, DayMs(13));
  Incr("user:e", "dl", -4, DayMs(14));  // sums to zero: not ranked
  Incr("user:z", "other", 99, DayMs(15));
  auto check = [&] {
    EXPECT_EQ(Days("dl", "2024-06-09", "2024-06-15"),
              (Strs{"org:x=9", "user:a=6", "user:b=6", "user:c=6", "user:d=2"}));
    EXPECT_EQ(Days("dl", "2024-06-09", "2024-06-15", 0, 100, "user:"),
              (Strs{"user:a=6", "user:b=6", "user:c=6", "user:d=2"}));
    EXPECT_EQ(Days("dl", "2024-06-09", "2024-06-15", 1, 2, "user:"), (Strs{"user:b=6", "user:c=6"}));
    EXPECT_EQ(Days("dl", "2024-06-08", "2024-06-10"), (Strs{"user:c=56", "user:a=5"}));
    EXPECT_EQ(Days("dl", "2024-06-14", "2024-06-15"), (Strs{"user:b=3", "user:d=2", "user:a=1", "user:e=-4"}));
    EXPECT_TRUE(Days("dl", "2024-06-01", "2024-06-07").empty());
    EXPECT_TRUE(Days("nothing", "2024-06-09", "2024-06-15").empty());
    EXPECT_TRUE(Days("dl", "2024-06-15", "2024-06-09").empty());  // from after to
  };
  check();
  Restart();
  check();
  // Changes after a restart or compaction land on top of stored cells.
  Incr("user:d", "dl", 10, DayMs(10));
  Assign("user:a", "dl", {{Interval::kDay, Period("", Interval::kDay, "2024-06-09"), 0}});
  EXPECT_EQ(Delete("user:b", "dl", Interval::kDay), 2);
  EXPECT_EQ(Days("dl", "2024-06-09", "2024-06-15"), (Strs{"user:d=12", "org:x=9", "user:c=6", "user:a=1"}));
  Restart();
  EXPECT_EQ(Days("dl", "2024-06-09", "2024-06-15"), (Strs{"user:d=12", "org:x=9", "user:c=6", "user:a=1"}));
  // Ranges of other intervals: months.
  const PeriodId may = Period("", Interval::kMonth, "2024-05");
  const PeriodId june = Period("", Interval::kMonth, "2024-06");
  Incr("user:m", "dl", 7, Utc(2024, 5, 20, 12));
  EXPECT_EQ(Ranked({"dl", Interval::kMonth, may, june, 0, 2, ""}), (Strs{"user:c=56", "user:d=12"}));
  EXPECT_EQ(Ranked({"dl", Interval::kMonth, may, may, 0, 2, ""}), (Strs{"user:m=7"}));
  Restart();
  EXPECT_EQ(Ranked({"dl", Interval::kMonth, may, june, 2, 2, ""}), (Strs{"org:x=9", "user:m=7"}));
}

// Day ids are local dates: a range names the same dates in every owner's
// zone. Hour ids are instants: an owner's hour cells that start inside the
// range count (Asia/Kolkata's start at :30 UTC).
TEST_P(TopRangeTest, RangesFollowEachOwnersZone) {
  ASSERT_TRUE(engine_->owners().SetTimeZone("user:tokyo", Zone("Asia/Tokyo")).ok());
  ASSERT_TRUE(engine_->owners().SetTimeZone("user:kolkata", Zone("Asia/Kolkata")).ok());
  Incr("user:tokyo", "dl", 3, Utc(2024, 6, 13, 20));  // June 14, 05:00 in Tokyo
  Incr("user:utc", "dl", 2, Utc(2024, 6, 13, 20));    // June 13 in UTC
  Incr("user:kolkata", "dl", 4, Utc(2024, 6, 15, 9, 45));
  Restart();
  EXPECT_EQ(Days("dl", "2024-06-14", "2024-06-15"), (Strs{"user:kolkata=4", "user:tokyo=3"}));
  const PeriodId nine = PeriodOf(Interval::kHour, Utc(2024, 6, 15, 9), TimeZone::Utc());
  const PeriodId ten = PeriodOf(Interval::kHour, Utc(2024, 6, 15, 10), TimeZone::Utc());
  // Kolkata's hour starts 09:30 UTC: inside 09:00..10:00, not inside 10:00..11:00.
  EXPECT_EQ(Ranked({"dl", Interval::kHour, nine, ten, 0, 10, ""}), (Strs{"user:kolkata=4"}));
  EXPECT_TRUE(Ranked({"dl", Interval::kHour, ten, ten + 60, 0, 10, ""}).empty());
}

// Any mix of writes and restarts: a range ranking equals every owner's
// CTR.SUM over the range, sorted.
TEST_P(TopRangeTest, RangeRankingEqualsSumsOfEveryOwner) {
  std::mt19937 rng(7);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint32_t>(n)); };
  std::vector<std::string> owners;
  for (int i = 0; i < 25; ++i) owners.push_back("o:" + std::to_string(100 + i));
  const PeriodId from = Period("", Interval::kDay, "2024-06-09");
  const PeriodId to = Period("", Interval::kDay, "2024-06-15");
  auto expected = [&](size_t offset, size_t limit) {
    std::vector<RankedOwner> all;
    for (const std::string& owner : owners) {
      auto sum = engine_->counters().SumCells(owner, "k", Interval::kDay, from, to);
      EXPECT_TRUE(sum.ok());
      if (sum.value != 0) all.push_back({owner, sum.value});
    }
    return PageOf(all, offset, limit);
  };
  // Every ranking method answers the same as the sums.
  auto check = [&](const TopQuery& query, const Strs& want, int round) {
    for (TopQuery::Method method :
         {TopQuery::Method::kAuto, TopQuery::Method::kValueIndex, TopQuery::Method::kKeyIndex}) {
      TopQuery q = query;
      q.method = method;
      EXPECT_EQ(Ranked(q), want) << "round " << round << ", method " << static_cast<int>(method) << ", periods "
                                 << q.from << ".." << q.to << ", offset " << q.offset << ", prefix " << q.owner_prefix;
    }
  };
  // One day: the same query as a range of one period.
  auto expected_day = [&](PeriodId day, size_t offset, size_t limit, std::string_view prefix) {
    std::vector<RankedOwner> all;
    for (const std::string& owner : owners) {
      if (owner.compare(0, prefix.size(), prefix) != 0) continue;
      int64_t value = Cell(owner, "k", Interval::kDay, day);
      if (value != 0) all.push_back({owner, value});
    }
    return PageOf(all, offset, limit);
  };
  auto check_all = [&](int round) {
    check({"k", Interval::kDay, from, to, 0, 100, ""}, expected(0, 100), round);
    check({"k", Interval::kDay, from, to, 4, 5, ""}, expected(4, 5), round);
    for (PeriodId day = from - 1; day <= to; day += 3) {
      check({"k", Interval::kDay, day, day, 0, 100, ""}, expected_day(day, 0, 100, ""), round);
      check({"k", Interval::kDay, day, day, 2, 3, "o:11"}, expected_day(day, 2, 3, "o:11"), round);
    }
  };
  for (int round = 0; round < 6; ++round) {
    for (int n = 0; n < 60; ++n) {
      const std::string& owner = owners[pick(static_cast<int>(owners.size()))];
      const int op = pick(10);
      if (op < 7) {
        Incr(owner, "k", pick(20) - 4, DayMs(5 + pick(11)));
      } else if (op < 8) {
        Assign(owner, "k", {{Interval::kDay, from + pick(9) - 1, pick(30)}});
      } else if (op < 9) {
        Delete(owner, "k", Interval::kDay);
      } else {
        Delete(owner, "k");
      }
    }
    EXPECT_EQ(Ranked({"k", Interval::kDay, from, to, 4, 5, "o:1"}), expected(4, 5)) << "round " << round;
    check_all(round);
    Restart();
    check_all(round);
  }
}

// The by_value index holds exactly one entry per by_key entry, with its
// value, whatever compaction wrote, deleted and rewrote: no stale entry is
// ever left to rank an owner twice.
TEST_P(TopRangeTest, ValueIndexMirrorsTheKeyIndex) {
  // Hour cells older than 7 days expire; RocksDB drops the entries of each
  // index when it compacts that family, not at the same time.
  options_.counters.retention_ms[static_cast<int>(Interval::kHour)] = 0;
  Reopen();
  std::mt19937 rng(11);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint32_t>(n)); };
  const PeriodId june9 = Period("", Interval::kDay, "2024-06-09");
  for (int round = 0; round < 5; ++round) {
    for (int n = 0; n < 80; ++n) {
      const std::string owner = "o:" + std::to_string(pick(12));
      const int op = pick(10);
      if (op < 6) {
        Incr(owner, "k", pick(9) - 3, DayMs(8 + pick(8)));
      } else if (op < 8) {
        Assign(owner, "k", {{Interval::kDay, june9 + pick(5), pick(4)}});
      } else if (op < 9) {
        Delete(owner, "k", Interval::kDay);
      } else {
        Delete(owner, "k");
      }
    }
    Restart();
    Compact();
    std::multiset<std::string> by_key, by_value;
    storage::Store& store = engine_->store();
    ASSERT_TRUE(
        store
            .Scan(storage::Family::kByKey, "", "",
                  [&](std::string_view key, std::string_view encoded) {
                    int64_t value = 0;
                    EXPECT_TRUE(storage::log_format::DecodeInt64(encoded, &value));
                    const size_t end = key.find('\0');
                    const uint8_t interval = static_cast<uint8_t>(key[end + 1]);
                    int64_t period = 0;
                    std::string_view owner;
                    EXPECT_TRUE(storage::log_format::ParseByKeyKey(key, key.substr(0, end), interval, &period, &owner));
                    by_key.insert(storage::log_format::ByValueKey(key.substr(0, end), interval, period, value, owner));
                    return true;
                  })
            .ok());
    ASSERT_TRUE(store
                    .Scan(storage::Family::kByValue, "", "",
                          [&](std::string_view key, std::string_view) {
                            by_value.emplace(key);
                            return true;
                          })
                    .ok());
    EXPECT_FALSE(by_key.empty());
    EXPECT_EQ(by_value, by_key) << "round " << round;
  }
}

INSTANTIATE_TEST_SUITE_P(Modes, TopRangeTest, AllRestartModes(), RestartModeParamName);

// After a restart, before and after the background load of stored counters.
TEST_F(CounterTest, RangeRankingDuringAndAfterTheStartupLoad) {
  Incr("user:a", "dl", 5, Utc(2024, 6, 10, 9));
  Incr("user:b", "dl", 7, Utc(2024, 6, 11, 9));
  Incr("user:b", "dl", 1, Utc(2024, 6, 15, 9));
  Compact();
  Reopen();
  const PeriodId from = Period("", Interval::kDay, "2024-06-09");
  const PeriodId to = Period("", Interval::kDay, "2024-06-15");
  auto ranked = [&] {
    Strs out;
    for (const RankedOwner& r : engine_->counters().Top({"dl", Interval::kDay, from, to, 0, 10, ""}).value) {
      out.push_back(r.owner + "=" + std::to_string(r.value));
    }
    return out;
  };
  EXPECT_FALSE(engine_->counters().all_loaded());
  EXPECT_EQ(ranked(), (Strs{"user:b=8", "user:a=5"}));
  Incr("user:a", "dl", 10);  // loads user:a's counter; its stored cells still count
  EXPECT_EQ(ranked(), (Strs{"user:a=15", "user:b=8"}));
  ASSERT_TRUE(engine_->counters().LoadStoredCounters().ok());
  EXPECT_EQ(ranked(), (Strs{"user:a=15", "user:b=8"}));
}

// Retention drops an expired cell's index entries with it: the ranking of
// an hour past retention (7 days by default) is empty once RocksDB has
// compacted the families, and no index entry is left behind.
TEST_F(CounterTest, RetentionDropsTheIndexEntriesOfExpiredCells) {
  const int64_t old_hour_ms = Utc(2024, 6, 1, 9);  // 14 days before "now"
  Incr("user:1", "dl", 5, old_hour_ms);
  Incr("user:2", "dl", 3);
  Compact();
  const PeriodId old_hour = PeriodOf(Interval::kHour, old_hour_ms, TimeZone::Utc());
  EXPECT_EQ(TopOf("dl", Interval::kHour, old_hour), Strs{"user:1=5"});  // until RocksDB compacts
  for (storage::Family family : {storage::Family::kCells, storage::Family::kByKey, storage::Family::kByValue}) {
    ASSERT_TRUE(engine_->FlushMemtables().ok());
    ASSERT_TRUE(engine_->store().CompactFamily(family).ok());
  }
  EXPECT_EQ(TopOf("dl", Interval::kHour, old_hour), Strs{});
  TopQuery by_key{"dl", Interval::kHour, old_hour, old_hour, 0, 10, ""};
  by_key.method = TopQuery::Method::kKeyIndex;
  EXPECT_TRUE(engine_->counters().Top(by_key).value.empty());
  // Everything else stays.
  EXPECT_EQ(TopOf("dl", Interval::kTotal, 0), (Strs{"user:1=5", "user:2=3"}));
  EXPECT_EQ(TopOf("dl", Interval::kDay, Period("", Interval::kDay, "2024-06-01")), Strs{"user:1=5"});
}

// The overview's stored cells by interval: one count over the by_value
// index, cells with a value only, changed ones once compacted.
TEST_F(CounterTest, StoredCellsAreCountedByInterval) {
  options_.counters.retention_ms[static_cast<int>(Interval::kHour)] = 0;  // June 1 is past 7 days
  Reopen();
  EXPECT_EQ(engine_->counters().MemoryStats().stored_cells_counted_ms, 0);
  for (int i = 0; i < 5; ++i) Incr("user:" + std::to_string(i), "dl", 1);
  Incr("user:0", "dl", 2, Utc(2024, 6, 1, 9));  // a late event: one more hour, day and week cell (same month)
  Incr("user:0", "views", 1);
  Compact();
  ASSERT_TRUE(engine_->counters().CountStoredCells().ok());
  CounterMemoryStats stats = engine_->counters().MemoryStats();
  EXPECT_EQ(stats.stored_cells_counted_ms, clock_.NowMs());
  EXPECT_EQ(stats.stored_cells[static_cast<int>(Interval::kTotal)], 6u);
  EXPECT_EQ(stats.stored_cells[static_cast<int>(Interval::kHour)], 7u);
  EXPECT_EQ(stats.stored_cells[static_cast<int>(Interval::kDay)], 7u);
  EXPECT_EQ(stats.stored_cells[static_cast<int>(Interval::kWeek)], 7u);
  EXPECT_EQ(stats.stored_cells[static_cast<int>(Interval::kMonth)], 6u);
  EXPECT_EQ(stats.stored_cells[static_cast<int>(Interval::kQuarter)], 6u);
  EXPECT_EQ(stats.stored_cells[static_cast<int>(Interval::kYear)], 6u);
  Delete("user:1", "dl");
  Incr("user:9", "dl", 1);
  Compact();
  Incr("user:8", "dl", 1);  // not compacted yet: not stored
  ASSERT_TRUE(engine_->counters().CountStoredCells().ok());
  EXPECT_EQ(engine_->counters().MemoryStats().stored_cells[static_cast<int>(Interval::kTotal)], 6u);
}

// A data dir from before the by_value index (its by_key entries only, no
// "index/by_value" row): opening it builds the index, and rankings read it.
TEST_F(CounterTest, ValueIndexIsBuiltWhenADataDirHasNone) {
  for (int i = 0; i < 30; ++i) Incr("user:" + std::to_string(100 + i), "dl", 1 + i % 7);
  Compact();
  {
    storage::Store& store = engine_->store();
    storage::WriteBatch batch(store);
    batch.DeleteRange(storage::Family::kByValue, "", "\x7f");
    batch.Delete(storage::Family::kMeta, "index/by_value");
    ASSERT_TRUE(store.Write(batch, true).ok());
  }
  const PeriodId today = Period("", Interval::kDay, "current");
  TopQuery query{"dl", Interval::kDay, today, today, 0, 4, ""};
  query.method = TopQuery::Method::kValueIndex;
  EXPECT_TRUE(engine_->counters().Top(query).value.empty());  // the index is gone
  Reopen();
  auto built = engine_->store().Get(storage::Family::kMeta, "index/by_value");
  ASSERT_TRUE(built.ok());
  EXPECT_TRUE(built.value().has_value());
  Strs ranked;
  for (const RankedOwner& r : engine_->counters().Top(query).value)
    ranked.push_back(r.owner + "=" + std::to_string(r.value));
  EXPECT_EQ(ranked, (Strs{"user:106=7", "user:113=7", "user:120=7", "user:127=7"}));
  query.from = query.to = 0;
  query.interval = Interval::kTotal;
  query.offset = 4;
  query.limit = 2;
  ranked.clear();
  for (const RankedOwner& r : engine_->counters().Top(query).value)
    ranked.push_back(r.owner + "=" + std::to_string(r.value));
  EXPECT_EQ(ranked, (Strs{"user:105=6", "user:112=6"}));
}

}  // namespace
}  // namespace tally::core::counters_test
