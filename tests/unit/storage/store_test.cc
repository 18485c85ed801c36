// storage/store.h: the RocksDB database, its families, batches and scans,
// on a real RocksDB in a temp dir.
#include "storage/store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "temp_dir.h"

namespace tally::storage {
namespace {

using KeyValues = std::vector<std::pair<std::string, std::string>>;

class StoreTest : public ::testing::Test {
 protected:
  StoreOptions Options() const {
    StoreOptions options;
    options.path = dir_.Sub("db");
    options.block_cache_bytes = 1 << 20;
    return options;
  }
  std::unique_ptr<Store> OpenOrDie() {
    auto store = Store::Open(Options());
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store.value()) : nullptr;
  }
  static std::optional<std::string> GetOrDie(Store& store, Family family, std::string_view key) {
    auto value = store.Get(family, key);
    EXPECT_TRUE(value.ok()) << value.status().ToString();
    return value.ok() ? value.value() : std::nullopt;
  }
  static KeyValues ScanAll(Store& store, Family family, std::string_view begin = "", std::string_view end = "") {
    KeyValues out;
    Status s = store.Scan(family, begin, end, [&](std::string_view key, std::string_view value) {
      out.emplace_back(key, value);
      return true;
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }
  static void PutOrDie(Store& store, Family family, std::string_view key, std::string_view value) {
    WriteBatch batch(store);
    batch.Put(family, key, value);
    Status s = store.Write(batch, /*sync=*/false);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  fixtures::TempDir dir_{fixtures::Medium::kRam};
};

TEST_F(StoreTest, OpenCreatesTheDatabaseAndReopenKeepsTheData) {
  {
    auto store = OpenOrDie();
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->path(), Options().path);
    PutOrDie(*store, Family::kKv, "key", "value");
    PutOrDie(*store, Family::kMeta, "format-version", "1");
  }
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(GetOrDie(*store, Family::kKv, "key"), "value");
  EXPECT_EQ(GetOrDie(*store, Family::kMeta, "format-version"), "1");
}

TEST_F(StoreTest, TheLogHasARocksDbInstanceOfItsOwn) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  PutOrDie(*store, Family::kLog, "blob", "entries");
  EXPECT_EQ(GetOrDie(*store, Family::kLog, "blob"), "entries");
  EXPECT_TRUE(std::filesystem::is_directory(Store::LogPath(Options().path)));
  // A batch with both: the other families first, then the log.
  WriteBatch batch(*store);
  batch.Put(Family::kMeta, "checkpoint", "7");
  batch.DeleteRange(Family::kLog, "a", "c");
  EXPECT_EQ(batch.count(), 2u);
  ASSERT_TRUE(store->Write(batch, false).ok());
  EXPECT_EQ(GetOrDie(*store, Family::kMeta, "checkpoint"), "7");
  EXPECT_EQ(GetOrDie(*store, Family::kLog, "blob"), std::nullopt);
}

TEST_F(StoreTest, LogEntriesOfAnOlderDataDirMoveToTheLogInstanceOnce) {
  {
    auto store = OpenOrDie();
    ASSERT_NE(store, nullptr);
    // As a data dir from before the split holds them: in the main instance.
    ASSERT_TRUE(store->TEST_PutLegacyLog("k1", "v1").ok());
    ASSERT_TRUE(store->TEST_PutLegacyLog("k2", "v2").ok());
    PutOrDie(*store, Family::kLog, "k3", "v3");
  }
  const KeyValues expected = {{"k1", "v1"}, {"k2", "v2"}, {"k3", "v3"}};
  {
    auto store = OpenOrDie();
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(ScanAll(*store, Family::kLog), expected);
    // Trimmed where they now live: gone for good.
    WriteBatch trim(*store);
    trim.DeleteRange(Family::kLog, "k1", "k2");
    ASSERT_TRUE(store->Write(trim, false).ok());
  }
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(ScanAll(*store, Family::kLog), (KeyValues{{"k2", "v2"}, {"k3", "v3"}}));
}

TEST_F(StoreTest, OpenWithoutCreateIfMissingFailsOnAnEmptyPath) {
  StoreOptions options = Options();
  options.create_if_missing = false;
  auto store = Store::Open(options);
  EXPECT_FALSE(store.ok());
}

TEST_F(StoreTest, SecondOpenOfTheSamePathIsBusyAndNamesTheLock) {
  auto first = OpenOrDie();
  ASSERT_NE(first, nullptr);
  auto second = Store::Open(Options());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::Code::kBusy) << second.status().ToString();
  EXPECT_NE(second.status().message().find("LOCK"), std::string::npos) << second.status().message();
  EXPECT_NE(second.status().message().find("another tallyd"), std::string::npos) << second.status().message();
}

TEST_F(StoreTest, ClosingReleasesTheLock) {
  OpenOrDie().reset();
  auto again = OpenOrDie();
  EXPECT_NE(again, nullptr);
}

TEST_F(StoreTest, GetOfAMissingKeyIsEmptyNotAnError) {
  auto store = OpenOrDie();
  auto value = store->Get(Family::kKv, "nope");
  ASSERT_TRUE(value.ok());
  EXPECT_FALSE(value.value().has_value());
}

TEST_F(StoreTest, FamiliesAreSeparateKeySpaces) {
  auto store = OpenOrDie();
  for (int f = 0; f < static_cast<int>(Family::kCount); ++f) {
    PutOrDie(*store, static_cast<Family>(f), "same", std::string(FamilyName(static_cast<Family>(f))));
  }
  EXPECT_EQ(GetOrDie(*store, Family::kLog, "same"), "log");
  EXPECT_EQ(GetOrDie(*store, Family::kKv, "same"), "kv");
  EXPECT_EQ(GetOrDie(*store, Family::kMeta, "same"), "meta");
  EXPECT_EQ(GetOrDie(*store, Family::kCells, "same"), "cells");
  EXPECT_EQ(ScanAll(*store, Family::kKv).size(), 1u);
}

TEST_F(StoreTest, WriteBatchCountsItsOperationsAndClears) {
  auto store = OpenOrDie();
  WriteBatch batch(*store);
  EXPECT_EQ(batch.count(), 0u);
  batch.Put(Family::kKv, "a", "1");
  batch.Delete(Family::kKv, "b");
  batch.DeleteRange(Family::kLog, "c", "d");
  EXPECT_EQ(batch.count(), 3u);
  EXPECT_GT(batch.bytes(), 0u);
  batch.Clear();
  EXPECT_EQ(batch.count(), 0u);
  ASSERT_TRUE(store->Write(batch, false).ok());  // an empty batch is fine
  EXPECT_FALSE(GetOrDie(*store, Family::kKv, "a").has_value());
}

TEST_F(StoreTest, WriteBatchAppliesPutsAndDeletesAcrossFamiliesTogether) {
  auto store = OpenOrDie();
  PutOrDie(*store, Family::kKv, "old", "x");
  WriteBatch batch(*store);
  batch.Put(Family::kKv, "new", "1");
  batch.Delete(Family::kKv, "old");
  batch.Put(Family::kMeta, "checkpoint", "7");
  batch.Put(Family::kKv, "new", "2");  // later operations in a batch win
  ASSERT_TRUE(store->Write(batch, /*sync=*/true).ok());
  EXPECT_EQ(GetOrDie(*store, Family::kKv, "new"), "2");
  EXPECT_FALSE(GetOrDie(*store, Family::kKv, "old").has_value());
  EXPECT_EQ(GetOrDie(*store, Family::kMeta, "checkpoint"), "7");
}

// A scanning reader sees a snapshot: every batch is there completely or not at all.
TEST_F(StoreTest, ConcurrentReadersNeverSeeHalfABatch) {
  auto store = OpenOrDie();
  constexpr int kKeys = 8;
  auto key = [](int i) { return "k" + std::to_string(i); };
  {
    WriteBatch batch(*store);
    for (int i = 0; i < kKeys; ++i) batch.Put(Family::kKv, key(i), "0");
    ASSERT_TRUE(store->Write(batch, false).ok());
  }
  std::atomic<bool> done{false};
  std::atomic<int> torn{0};
  std::atomic<int> scans{0};
  std::thread reader([&] {
    while (!done.load()) {
      KeyValues all = ScanAll(*store, Family::kKv);
      if (all.size() != kKeys) ++torn;
      for (const auto& kv : all) {
        if (kv.second != all.front().second) ++torn;
      }
      ++scans;
    }
  });
  for (int round = 1; round <= 2000; ++round) {
    WriteBatch batch(*store);
    for (int i = 0; i < kKeys; ++i) batch.Put(Family::kKv, key(i), std::to_string(round));
    ASSERT_TRUE(store->Write(batch, false).ok());
  }
  // Let the reader run at least a few scans against the final state too.
  while (scans.load() < 5) std::this_thread::yield();
  done = true;
  reader.join();
  EXPECT_EQ(torn.load(), 0);
}

TEST_F(StoreTest, DeleteRangeRemovesExactlyTheHalfOpenRange) {
  auto store = OpenOrDie();
  for (const char* k : {"a", "b", "c", "d"}) PutOrDie(*store, Family::kLog, k, k);
  WriteBatch batch(*store);
  batch.DeleteRange(Family::kLog, "b", "d");
  ASSERT_TRUE(store->Write(batch, false).ok());
  EXPECT_EQ(ScanAll(*store, Family::kLog), (KeyValues{{"a", "a"}, {"d", "d"}}));
}

class StoreScanTest : public StoreTest {
 protected:
  void SetUp() override {
    store_ = OpenOrDie();
    ASSERT_NE(store_, nullptr);
    for (const char* k : {"b", "a", "ab", "c", "ca", "d"}) PutOrDie(*store_, Family::kKv, k, std::string("v") + k);
  }
  std::vector<std::string> Keys(std::string_view begin, std::string_view end) {
    std::vector<std::string> keys;
    for (auto& kv : ScanAll(*store_, Family::kKv, begin, end)) keys.push_back(kv.first);
    return keys;
  }
  std::unique_ptr<Store> store_;
};

TEST_F(StoreScanTest, VisitsEveryKeyInBytewiseOrderWhenUnbounded) {
  EXPECT_EQ(Keys("", ""), (std::vector<std::string>{"a", "ab", "b", "c", "ca", "d"}));
  EXPECT_EQ(ScanAll(*store_, Family::kKv).front(), (std::pair<std::string, std::string>{"a", "va"}));
}

TEST_F(StoreScanTest, BeginIsInclusiveAndEndIsExclusive) {
  EXPECT_EQ(Keys("ab", "c"), (std::vector<std::string>{"ab", "b"}));
  EXPECT_EQ(Keys("b", "ca"), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(Keys("bb", "bc"), (std::vector<std::string>{}));
}

TEST_F(StoreScanTest, EmptyEndMeansToTheEndOfTheFamily) {
  EXPECT_EQ(Keys("c", ""), (std::vector<std::string>{"c", "ca", "d"}));
  EXPECT_EQ(Keys("e", ""), (std::vector<std::string>{}));
}

TEST_F(StoreScanTest, VisitorReturningFalseStopsTheScan) {
  std::vector<std::string> seen;
  Status s = store_->Scan(Family::kKv, "", "", [&](std::string_view key, std::string_view) {
    seen.emplace_back(key);
    return seen.size() < 2;
  });
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "ab"}));
}

TEST_F(StoreScanTest, DoesNotSeeOtherFamiliesOrBinaryNeighbours) {
  PutOrDie(*store_, Family::kMeta, "b2", "meta");
  PutOrDie(*store_, Family::kKv, std::string("b\0", 2), "nul");
  std::vector<std::string> keys = Keys("b", "c");
  EXPECT_EQ(keys, (std::vector<std::string>{"b", std::string("b\0", 2)}));
}

TEST_F(StoreTest, SyncLogFlushAndSizeWorkOnALiveStore) {
  auto store = OpenOrDie();
  for (int i = 0; i < 100; ++i) PutOrDie(*store, Family::kCells, "cell" + std::to_string(i), std::string(100, 'x'));
  EXPECT_TRUE(store->SyncLog().ok());
  EXPECT_GT(store->ApproximateSize(Family::kCells), 0u);
  EXPECT_TRUE(store->FlushMemtables().ok());
  EXPECT_GT(store->ApproximateSize(Family::kCells), 0u);
  store.reset();
  auto reopened = OpenOrDie();
  EXPECT_EQ(ScanAll(*reopened, Family::kCells).size(), 100u);
}

TEST(StatusTest, OkIsCheapAndErrorsNameTheirKind) {
  EXPECT_TRUE(Status().ok());
  EXPECT_EQ(Status::Ok().ToString(), "OK");
  EXPECT_EQ(Status::Corruption("bad blob").ToString(), "corruption: bad blob");
  EXPECT_EQ(Status::Busy("locked").code(), Status::Code::kBusy);
  EXPECT_FALSE(Status::IoError("x").ok());
  StatusOr<int> value(5);
  EXPECT_TRUE(value.ok());
  EXPECT_EQ(*value, 5);
  StatusOr<int> error(Status::NotFound("none"));
  EXPECT_FALSE(error.ok());
  EXPECT_EQ(error.status().code(), Status::Code::kNotFound);
}

TEST(FamilyNameTest, NamesEveryFamily) {
  EXPECT_EQ(FamilyName(Family::kLog), "log");
  EXPECT_EQ(FamilyName(Family::kKv), "kv");
  EXPECT_EQ(FamilyName(Family::kMeta), "meta");
  EXPECT_EQ(FamilyName(Family::kCells), "cells");
}

}  // namespace
}  // namespace tally::storage
