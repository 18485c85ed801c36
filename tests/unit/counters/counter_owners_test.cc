// Which owners exist: reads and deletes never create one, and CTR.OWNERS
// lists an owner only while it has a counter with a value (a non-zero cell).
// An owner with only a time zone keeps it, but is not listed. Every TEST_P
// runs under each restart mode (live, compacted, replayed, compacted +
// reopened, mixed).
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "counter_test_util.h"

namespace tally::core::counters_test {
namespace {

using Strs = std::vector<std::string>;

class OwnerListingTest : public CounterModeTest {
 protected:
  uint64_t InternedOwners() {
    for (const ModuleStats& stats : engine_->module_stats()) {
      if (stats.module == "owners") return stats.items;
    }
    ADD_FAILURE() << "no owners module";
    return 0;
  }
};

TEST_P(OwnerListingTest, DeleteOfACounterWithoutCellsCreatesNothing) {
  Incr("post:1", "downloads", 1);
  Restart();
  const uint64_t entries = engine_->UncompactedEntries();
  const uint64_t interned = InternedOwners();
  EXPECT_EQ(Delete("post:nonexist", "downloads"), 0);
  EXPECT_EQ(Delete("post:nonexist", "downloads", Interval::kDay), 0);
  EXPECT_EQ(Delete("post:1", "never-written"), 0);
  // Nothing logged, nothing interned, nothing listed.
  EXPECT_EQ(engine_->UncompactedEntries(), entries);
  EXPECT_EQ(InternedOwners(), interned);
  EXPECT_EQ(AllOwners("", 10), Strs{"post:1"});
  Restart();
  EXPECT_EQ(AllOwners("", 10), Strs{"post:1"});
  auto keys = engine_->counters().ReadOwnerCells("post:1", Interval::kTotal, 0);
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys.value.size(), 1u);
  EXPECT_EQ(keys.value[0].first, "downloads");
}

TEST_P(OwnerListingTest, AnOwnerWhoseEveryCellIsDeletedIsNoLongerListed) {
  Incr("user:a", "hits", 3);
  Incr("user:a", "views", 4, clock_.NowMs() - kDayMs);  // yesterday's cells too
  Incr("user:b", "hits", 1);
  Restart();
  EXPECT_EQ(AllOwners("user:", 10), (Strs{"user:a", "user:b"}));
  EXPECT_EQ(Delete("user:a", "hits"), 7);                         // total + six current cells
  EXPECT_EQ(AllOwners("user:", 10), (Strs{"user:a", "user:b"}));  // views is left
  Restart();
  EXPECT_EQ(Delete("user:a", "views", Interval::kDay), 1);        // yesterday's (today's is zero)
  EXPECT_EQ(AllOwners("user:", 10), (Strs{"user:a", "user:b"}));  // views' total and other cells are left
  EXPECT_EQ(Delete("user:a", "views"), 6);
  EXPECT_EQ(AllOwners("user:", 10), Strs{"user:b"});
  Restart();
  EXPECT_EQ(AllOwners("user:", 10), Strs{"user:b"});
  Restart();
  EXPECT_EQ(AllOwners("user:", 10), Strs{"user:b"});
  // Counting again brings it back.
  Incr("user:a", "hits", 1);
  EXPECT_EQ(AllOwners("user:", 10), (Strs{"user:a", "user:b"}));
  Restart();
  EXPECT_EQ(AllOwners("user:", 10), (Strs{"user:a", "user:b"}));
}

TEST_P(OwnerListingTest, AnOwnerWhoseCellsAreAllZeroIsNotListed) {
  Incr("user:a", "hits", 5);
  Incr("user:z", "hits", 5);
  Restart();
  const int64_t now = clock_.NowMs();
  std::vector<CellAssignment> zeros{{Interval::kTotal, 0, 0}};
  for (Interval interval : kRollupIntervals) zeros.push_back({interval, PeriodOf(interval, now, TimeZone::Utc()), 0});
  Assign("user:a", "hits", zeros);
  EXPECT_EQ(AllOwners("user:", 10), Strs{"user:z"});
  Restart();
  EXPECT_EQ(AllOwners("user:", 10), Strs{"user:z"});
  // A total of zero with a past cell left is a value.
  Incr("user:a", "hits", 2, now - kDayMs);
  Incr("user:a", "hits", -2);
  EXPECT_EQ(Total("user:a", "hits"), 0);
  EXPECT_EQ(AllOwners("user:", 10), (Strs{"user:a", "user:z"}));
  Restart();
  EXPECT_EQ(AllOwners("user:", 10), (Strs{"user:a", "user:z"}));
}

TEST_P(OwnerListingTest, AnOwnerWithOnlyATimeZoneKeepsItButIsNotListed) {
  ASSERT_TRUE(engine_->owners().SetTimeZone("tz:berlin", Zone("Europe/Berlin")).ok());
  Incr("user:1", "hits", 1);
  EXPECT_EQ(AllOwners("", 10), Strs{"user:1"});
  Restart();
  EXPECT_EQ(AllOwners("", 10), Strs{"user:1"});
  EXPECT_EQ(ZoneFor("tz:berlin").name(), "Europe/Berlin");
  Incr("tz:berlin", "hits", 1);
  EXPECT_EQ(AllOwners("", 10), (Strs{"tz:berlin", "user:1"}));
  Restart();
  EXPECT_EQ(Delete("tz:berlin", "hits"), 7);
  EXPECT_EQ(AllOwners("", 10), Strs{"user:1"});
  Restart();
  EXPECT_EQ(AllOwners("", 10), Strs{"user:1"});
  EXPECT_EQ(ZoneFor("tz:berlin").name(), "Europe/Berlin");
}

// Pages stay exact when deleted (unlisted) owners sit between listed ones,
// stored and in memory.
TEST_P(OwnerListingTest, PagesSkipOwnersWithoutValues) {
  auto user = [](int i) { return std::string("user:") + (i < 10 ? "0" : "") + std::to_string(i); };
  for (int i = 0; i < 30; ++i) Incr(user(i), "hits", 1);
  Restart();
  Strs listed;
  for (int i = 0; i < 30; ++i) {
    if (i % 3 == 0) {
      EXPECT_EQ(Delete(user(i), "hits"), 7);
    } else {
      listed.push_back(user(i));
    }
  }
  int pages = 0;
  EXPECT_EQ(AllOwners("user:", 4, &pages), listed);
  EXPECT_EQ(pages, 5);
  Restart();
  EXPECT_EQ(AllOwners("user:", 4, &pages), listed);
  EXPECT_EQ(pages, 5);
  EXPECT_EQ(AllOwners("user:", 20, &pages), listed);
  EXPECT_EQ(pages, 1);
}

INSTANTIATE_TEST_SUITE_P(Modes, OwnerListingTest, AllRestartModes(), RestartModeParamName);

// A listing that runs while compactions settle owners (their changes move
// from memory to RocksDB meanwhile) still sees each owner exactly once, as it
// is: every owner is stable while it is listed.
TEST_F(CounterTest, ListingIsExactWhileCompactionsRun) {
  for (int round = 0; round < 8; ++round) {
    const std::string prefix = "o" + std::to_string(round) + ":";
    for (int i = 0; i < 100; ++i) Incr(prefix + std::to_string(1000 + i), "hits", 1);
    if (round % 2 == 1) Compact();  // deleted owners then have stored cells to hide
    for (int i = 0; i < 100; i += 2) Delete(prefix + std::to_string(1000 + i), "hits");
    std::atomic<bool> done{false};
    std::thread compactor([&] {
      for (int i = 0; i < 3 && !done.load(); ++i) EXPECT_TRUE(engine_->CompactAll().ok());
    });
    for (int listing = 0; listing < 5; ++listing) EXPECT_EQ(AllOwners(prefix, 7).size(), 50u) << prefix;
    done.store(true);
    compactor.join();
    EXPECT_EQ(AllOwners(prefix, 1000).size(), 50u) << prefix;
  }
}

}  // namespace
}  // namespace tally::core::counters_test
