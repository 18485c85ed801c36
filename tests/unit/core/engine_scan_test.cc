// KeyspaceModule::Scan: Redis SCAN guarantees (every key present for the whole
// scan is returned, none twice, cursor 0 at the end) under COUNT, MATCH and a
// keyspace that grows between calls.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "keyspace_test_util.h"

namespace tally::core {
namespace {

class EngineScanTest : public KeyspaceTest {
 protected:
  // Runs a full scan; counts how often each key came back. `between` runs after each call.
  template <typename Between>
  std::map<std::string, int> FullScan(std::string_view pattern, size_t count, Between&& between, int* calls) {
    std::map<std::string, int> seen;
    uint64_t cursor = 0;
    *calls = 0;
    do {
      ScanPage page = engine_->keyspace().Scan(cursor, pattern, count);
      ++*calls;
      for (const std::string& key : page.keys) ++seen[key];
      cursor = page.next_cursor;
      between();
    } while (cursor != 0 && *calls < 1'000'000);
    EXPECT_EQ(cursor, 0u) << "scan did not finish";
    return seen;
  }
  std::map<std::string, int> FullScan(std::string_view pattern, size_t count, int* calls) {
    return FullScan(
        pattern, count, [] {}, calls);
  }
  std::map<std::string, int> FullScan(std::string_view pattern, size_t count) {
    int calls = 0;
    return FullScan(pattern, count, &calls);
  }
  std::vector<std::string> AddKeys(const std::string& prefix, int n) {
    std::vector<std::string> keys;
    for (int i = 0; i < n; ++i) {
      keys.push_back(prefix + std::to_string(i));
      Set(keys.back(), "v");
    }
    return keys;
  }
};

TEST_F(EngineScanTest, AnEmptyKeyspaceFinishesInOneCall) {
  ScanPage page = engine_->keyspace().Scan(0, "", 10);
  EXPECT_TRUE(page.keys.empty());
  EXPECT_EQ(page.next_cursor, 0u);
}

TEST_F(EngineScanTest, EveryCountReturnsEveryKeyExactlyOnceAndEndsAtCursorZero) {
  const std::vector<std::string> keys = AddKeys("key:", 1000);
  for (size_t count : {size_t{1}, size_t{2}, size_t{7}, size_t{10}, size_t{100}, size_t{999}, size_t{5000}}) {
    int calls = 0;
    std::map<std::string, int> seen = FullScan("", count, &calls);
    EXPECT_EQ(seen.size(), keys.size()) << "COUNT " << count;
    for (const std::string& key : keys) EXPECT_EQ(seen[key], 1) << "COUNT " << count << " " << key;
    // COUNT is a hint: a call returns at least an eighth of a shard, so a
    // full scan takes at most about 9 calls per shard however small COUNT is.
    EXPECT_LE(calls, 64 * 9 + 1) << "COUNT " << count;
  }
}

TEST_F(EngineScanTest, CountZeroUsesTheDefault) {
  AddKeys("key:", 100);
  ScanPage page = engine_->keyspace().Scan(0, "", 0);
  EXPECT_GE(page.keys.size(), 10u);
  EXPECT_LT(page.keys.size(), 100u);
  EXPECT_EQ(FullScan("", 0).size(), 100u);
}

TEST_F(EngineScanTest, PagesNeverExceedCountByMuch) {
  AddKeys("key:", 500);
  uint64_t cursor = 0;
  do {
    ScanPage page = engine_->keyspace().Scan(cursor, "", 10);
    EXPECT_LE(page.keys.size(), 12u);  // keys sharing a hash position stay together
    cursor = page.next_cursor;
  } while (cursor != 0);
}

TEST_F(EngineScanTest, MatchReturnsOnlyMatchingKeysButStillCoversTheKeyspace) {
  AddKeys("user:", 300);
  AddKeys("item:", 300);
  std::map<std::string, int> users = FullScan("user:*", 25);
  EXPECT_EQ(users.size(), 300u);
  for (const auto& [key, times] : users) {
    EXPECT_EQ(key.rfind("user:", 0), 0u) << key;
    EXPECT_EQ(times, 1) << key;
  }
  std::map<std::string, int> teens = FullScan("item:1?", 7);
  EXPECT_EQ(teens.size(), 10u);
  EXPECT_EQ(teens.begin()->first, "item:10");
  EXPECT_EQ(FullScan("user:[12]5", 50).size(), 2u);
  int calls = 0;
  EXPECT_TRUE(FullScan("nothing*", 10, &calls).empty());
  EXPECT_GT(calls, 1);  // MATCH filters after COUNT: empty pages until the end
}

TEST_F(EngineScanTest, ExpiredKeysAreNotReturned) {
  AddKeys("live:", 50);
  for (int i = 0; i < 50; ++i) Set("dying:" + std::to_string(i), "v", kStartMs + 500);
  EXPECT_EQ(FullScan("", 10).size(), 100u);
  clock_.Advance(500);
  std::map<std::string, int> seen = FullScan("", 10);
  EXPECT_EQ(seen.size(), 50u);
  for (const auto& [key, times] : seen) EXPECT_EQ(key.rfind("live:", 0), 0u) << key;
}

TEST_F(EngineScanTest, KeysPresentForTheWholeScanAreReturnedWhileTheKeyspaceGrows) {
  const std::vector<std::string> original = AddKeys("orig:", 500);
  int added = 0;
  int calls = 0;
  std::map<std::string, int> seen = FullScan(
      "", 10,
      [&] {
        // Early on, grow every shard's table many times over between calls (rehashing).
        if (calls > 40) return;
        for (int i = 0; i < 500; ++i) Set("grow:" + std::to_string(added++), "v");
      },
      &calls);
  ASSERT_EQ(added, 20'000);
  for (const std::string& key : original) EXPECT_EQ(seen[key], 1) << key;
  for (const auto& [key, times] : seen) EXPECT_EQ(times, 1) << key << " returned more than once";
}

TEST_F(EngineScanTest, KeysDeletedDuringTheScanDoNotDisturbTheOthers) {
  const std::vector<std::string> keep = AddKeys("keep:", 300);
  const std::vector<std::string> doomed = AddKeys("doomed:", 300);
  size_t next_doomed = 0;
  int calls = 0;
  std::map<std::string, int> seen = FullScan(
      "", 5,
      [&] {
        for (int i = 0; i < 5 && next_doomed < doomed.size(); ++i) Del(doomed[next_doomed++]);
      },
      &calls);
  for (const std::string& key : keep) EXPECT_EQ(seen[key], 1) << key;
  for (const auto& [key, times] : seen) EXPECT_EQ(times, 1) << key;
}

TEST_F(EngineScanTest, ACursorFromAnEarlierCallCanBeResumedLater) {
  AddKeys("key:", 200);
  ScanPage first = engine_->keyspace().Scan(0, "", 20);
  ASSERT_NE(first.next_cursor, 0u);
  ScanPage again = engine_->keyspace().Scan(first.next_cursor, "", 20);
  ScanPage same = engine_->keyspace().Scan(first.next_cursor, "", 20);
  EXPECT_EQ(again.keys, same.keys);
  EXPECT_EQ(again.next_cursor, same.next_cursor);
  for (const std::string& key : again.keys) {
    EXPECT_EQ(std::count(first.keys.begin(), first.keys.end(), key), 0) << key;
  }
}

}  // namespace
}  // namespace tally::core
