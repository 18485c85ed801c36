// storage/wal.h: per-shard pending logs and the group-commit writer, against a
// real RocksDB in a temp dir.
#include "storage/wal.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "storage/log_format.h"
#include "temp_dir.h"

namespace tally::storage {
namespace {

namespace lf = log_format;

// One decoded log entry, with the sequence number its blob position gives it.
struct LoggedEntry {
  uint16_t shard;
  uint64_t seq;
  std::string key;
  std::string value;
};

struct LoggedBlob {
  uint16_t shard;
  uint64_t first_seq;
  std::vector<LoggedEntry> entries;
};

// Decodes one blob; fails the test on any malformed byte.
LoggedBlob DecodeBlob(std::string_view key, std::string_view bytes) {
  LoggedBlob blob{};
  EXPECT_TRUE(lf::ParseLogKey(key, &blob.shard, &blob.first_seq));
  lf::BlobReader reader(bytes);
  lf::Entry entry;
  uint64_t seq = blob.first_seq;
  while (reader.Next(&entry)) {
    EXPECT_EQ(entry.op, lf::Op::kPlainPut);
    lf::PlainPut put;
    EXPECT_TRUE(lf::DecodePlainPut(entry.payload, &put));
    blob.entries.push_back({blob.shard, seq++, std::string(put.key), std::string(put.value)});
  }
  EXPECT_TRUE(reader.status().ok()) << reader.status().ToString();
  return blob;
}

std::vector<LoggedBlob> ReadLog(Store& store) {
  std::vector<LoggedBlob> blobs;
  Status s = store.Scan(Family::kLog, "", "", [&](std::string_view key, std::string_view value) {
    blobs.push_back(DecodeBlob(key, value));
    return true;
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return blobs;
}

// Appends one plain put, as an engine op does under its shard lock.
uint64_t AppendPut(ShardLog& log, std::string_view key, std::string_view value) {
  return log.Append([&](std::string& blob) { lf::AppendPlainPut(blob, key, 0, value); });
}

class WalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StoreOptions options;
    options.path = dir_.Sub("db");
    options.block_cache_bytes = 1 << 20;
    auto store = Store::Open(options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store.value());
  }

  // On disk, not in RAM: the sync tests need fsync to cost what it costs.
  fixtures::TempDir dir_;
  std::unique_ptr<Store> store_;
};

// ---------------------------------------------------------------------------
// ShardLog

TEST(ShardLogTest, NumbersEntriesFromOneAndTracksTheLastSequence) {
  ShardLog log(3);
  EXPECT_EQ(log.shard(), 3);
  EXPECT_EQ(log.last_seq(), 0u);
  EXPECT_EQ(log.pending_bytes(), 0u);
  EXPECT_EQ(AppendPut(log, "a", "1"), 1u);
  EXPECT_EQ(AppendPut(log, "b", "2"), 2u);
  EXPECT_EQ(log.last_seq(), 2u);
  EXPECT_GT(log.pending_bytes(), 0u);
}

TEST(ShardLogTest, TakeBlobsMovesOneBlobOfEveryPendingEntryAndEmptiesTheLog) {
  ShardLog log(9);
  for (int i = 0; i < 5; ++i) AppendPut(log, "k" + std::to_string(i), "v");
  std::vector<PendingBlob> blobs;
  log.TakeBlobs(blobs);
  ASSERT_EQ(blobs.size(), 1u);
  EXPECT_EQ(blobs[0].shard, 9);
  EXPECT_EQ(blobs[0].first_seq, 1u);
  EXPECT_EQ(blobs[0].entries, 5u);
  EXPECT_EQ(blobs[0].bytes[0], static_cast<char>(lf::kBlobVersion));
  LoggedBlob decoded = DecodeBlob(lf::LogKey(9, 1), blobs[0].bytes);
  ASSERT_EQ(decoded.entries.size(), 5u);
  EXPECT_EQ(decoded.entries[4].key, "k4");

  EXPECT_EQ(log.pending_bytes(), 0u);
  std::vector<PendingBlob> none;
  log.TakeBlobs(none);
  EXPECT_TRUE(none.empty());

  // The next entry keeps counting and opens a new blob at its own sequence.
  EXPECT_EQ(AppendPut(log, "next", "v"), 6u);
  log.TakeBlobs(blobs);
  ASSERT_EQ(blobs.size(), 2u);
  EXPECT_EQ(blobs[1].first_seq, 6u);
  EXPECT_EQ(blobs[1].entries, 1u);
}

TEST(ShardLogTest, SealCutsTheBlobAndTakeReturnsSealedBlobsFirst) {
  ShardLog log(0);
  AppendPut(log, "a", "1");
  AppendPut(log, "b", "2");
  log.Seal();
  log.Seal();  // nothing open: no empty blob
  AppendPut(log, "c", "3");
  log.Seal();
  AppendPut(log, "d", "4");
  AppendPut(log, "e", "5");
  std::vector<PendingBlob> blobs;
  log.TakeBlobs(blobs);
  ASSERT_EQ(blobs.size(), 3u);
  EXPECT_EQ(blobs[0].first_seq, 1u);
  EXPECT_EQ(blobs[0].entries, 2u);
  EXPECT_EQ(blobs[1].first_seq, 3u);
  EXPECT_EQ(blobs[1].entries, 1u);
  EXPECT_EQ(blobs[2].first_seq, 4u);
  EXPECT_EQ(blobs[2].entries, 2u);
  EXPECT_EQ(DecodeBlob(lf::LogKey(0, 4), blobs[2].bytes).entries[1].key, "e");
}

TEST(ShardLogTest, SetNextSeqContinuesNumberingAfterRecovery) {
  ShardLog log(1);
  log.set_next_seq(101);
  EXPECT_EQ(log.last_seq(), 100u);
  EXPECT_EQ(AppendPut(log, "a", "1"), 101u);
  std::vector<PendingBlob> blobs;
  log.TakeBlobs(blobs);
  ASSERT_EQ(blobs.size(), 1u);
  EXPECT_EQ(blobs[0].first_seq, 101u);
}

// ---------------------------------------------------------------------------
// WalWriter, one thread

TEST_F(WalTest, TicketWithNothingPendingIsDurableWithoutAWrite) {
  ShardLog log(0);
  WalWriter wal(*store_, {&log}, /*sync=*/false);
  const uint64_t ticket = wal.Ticket();
  ASSERT_TRUE(wal.WaitDurable(ticket).ok());
  EXPECT_TRUE(wal.IsDurable(ticket));
  EXPECT_EQ(wal.stats().writes, 0u);
  EXPECT_TRUE(ReadLog(*store_).empty());
  EXPECT_TRUE(wal.health().ok());
}

TEST_F(WalTest, OneWaitWritesEveryShardsPendingEntriesInOneWriteWithOnePutPerShard) {
  ShardLog a(0), b(1), c(300);
  WalWriter wal(*store_, {&a, &b, &c}, /*sync=*/false);
  for (int i = 0; i < 10; ++i) AppendPut(a, "a" + std::to_string(i), std::to_string(i));
  for (int i = 0; i < 3; ++i) AppendPut(c, "c" + std::to_string(i), std::to_string(i));
  const uint64_t ticket = wal.Ticket();
  EXPECT_FALSE(wal.IsDurable(ticket));
  ASSERT_TRUE(wal.WaitDurable(ticket).ok());
  EXPECT_TRUE(wal.IsDurable(ticket));

  WalStats stats = wal.stats();
  EXPECT_EQ(stats.writes, 1u);
  EXPECT_EQ(stats.blobs, 2u);  // shard 1 had nothing pending
  EXPECT_EQ(stats.entries, 13u);
  EXPECT_GT(stats.bytes, 0u);

  std::vector<LoggedBlob> blobs = ReadLog(*store_);
  ASSERT_EQ(blobs.size(), 2u);
  EXPECT_EQ(blobs[0].shard, 0);
  EXPECT_EQ(blobs[0].first_seq, 1u);
  ASSERT_EQ(blobs[0].entries.size(), 10u);
  EXPECT_EQ(blobs[0].entries[9].key, "a9");
  EXPECT_EQ(blobs[1].shard, 300);
  ASSERT_EQ(blobs[1].entries.size(), 3u);
  EXPECT_EQ(blobs[1].entries[2].value, "2");
}

TEST_F(WalTest, AnAlreadyDurableTicketDoesNotWriteAgain) {
  ShardLog log(0);
  WalWriter wal(*store_, {&log}, /*sync=*/false);
  AppendPut(log, "a", "1");
  const uint64_t first = wal.Ticket();
  ASSERT_TRUE(wal.WaitDurable(first).ok());
  AppendPut(log, "b", "2");  // pending, but not covered by `first`
  ASSERT_TRUE(wal.WaitDurable(first).ok());
  EXPECT_EQ(wal.stats().writes, 1u);
  EXPECT_GT(log.pending_bytes(), 0u);

  const uint64_t second = wal.Ticket();
  EXPECT_GT(second, first);
  EXPECT_FALSE(wal.IsDurable(second));
  ASSERT_TRUE(wal.WaitDurable(second).ok());
  EXPECT_EQ(wal.stats().writes, 2u);
  std::vector<LoggedBlob> blobs = ReadLog(*store_);
  ASSERT_EQ(blobs.size(), 2u);
  EXPECT_EQ(blobs[1].first_seq, 2u);
}

TEST_F(WalTest, SealedBlobsAreWrittenUnderTheirOwnKeys) {
  ShardLog log(5);
  WalWriter wal(*store_, {&log}, /*sync=*/false);
  AppendPut(log, "a", "1");
  AppendPut(log, "b", "2");
  log.Seal();
  AppendPut(log, "c", "3");
  ASSERT_TRUE(wal.WaitDurable(wal.Ticket()).ok());
  std::vector<LoggedBlob> blobs = ReadLog(*store_);
  ASSERT_EQ(blobs.size(), 2u);
  EXPECT_EQ(blobs[0].first_seq, 1u);
  EXPECT_EQ(blobs[0].entries.size(), 2u);
  EXPECT_EQ(blobs[1].first_seq, 3u);
  EXPECT_EQ(blobs[1].entries[0].key, "c");
  EXPECT_EQ(wal.stats().writes, 1u);
}

TEST_F(WalTest, HealthIsOkWhileWritesSucceed) {
  ShardLog log(0);
  WalWriter wal(*store_, {&log}, /*sync=*/true);
  EXPECT_TRUE(wal.sync());
  AppendPut(log, "a", "1");
  ASSERT_TRUE(wal.WaitDurable(wal.Ticket()).ok());
  EXPECT_TRUE(wal.health().ok());
}

// ---------------------------------------------------------------------------
// WalWriter, many threads: group commit

struct GroupCommitResult {
  uint64_t entries = 0;
  uint64_t waits = 0;  // WaitDurable calls
  WalStats stats;
};

// `threads` writers append to `shard_ids.size()` shard logs (under a per-shard
// lock, as the engine does) and wait for durability after every 1-3 appends.
// After each wait returns OK, the thread checks that every entry it appended
// before taking the ticket is readable from the store. At the end the log must
// hold every entry exactly once, in per-shard sequence order.
GroupCommitResult RunGroupCommit(Store& store, bool sync, int threads, int appends_per_thread) {
  const std::vector<uint16_t> shard_ids = {0, 1, 7, 300};
  std::vector<std::unique_ptr<ShardLog>> logs;
  std::vector<ShardLog*> log_pointers;
  for (uint16_t id : shard_ids) {
    logs.push_back(std::make_unique<ShardLog>(id));
    log_pointers.push_back(logs.back().get());
  }
  std::vector<std::mutex> shard_mu(shard_ids.size());
  WalWriter wal(store, log_pointers, sync);

  struct Appended {
    size_t shard;  // index into shard_ids
    uint64_t seq;
    std::string key;
  };
  std::vector<std::vector<Appended>> appended(threads);
  std::atomic<uint64_t> waits{0};
  std::atomic<int> failures{0};

  // Finds the entry `seq` of shard `shard` in the store; `lower_bound` is the
  // first sequence of a blob known to hold an earlier entry of this thread.
  auto readable = [&](const Appended& entry, uint64_t* lower_bound) {
    const uint16_t shard = shard_ids[entry.shard];
    std::string last_key, last_value;
    Status s = store.Scan(Family::kLog, lf::LogKey(shard, *lower_bound), lf::LogKey(shard, entry.seq + 1),
                          [&](std::string_view key, std::string_view value) {
                            last_key.assign(key);
                            last_value.assign(value);
                            return true;
                          });
    if (!s.ok() || last_key.empty()) return false;
    LoggedBlob blob = DecodeBlob(last_key, last_value);
    if (entry.seq - blob.first_seq >= blob.entries.size()) return false;
    *lower_bound = blob.first_seq;
    return blob.entries[entry.seq - blob.first_seq].key == entry.key;
  };

  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::mt19937 rng(t);
      std::vector<Appended>& mine = appended[t];
      std::vector<uint64_t> lower_bound(shard_ids.size(), 0);
      size_t verified = 0;
      int i = 0;
      while (i < appends_per_thread) {
        const int burst = 1 + static_cast<int>(rng() % 3);
        for (int b = 0; b < burst && i < appends_per_thread; ++b, ++i) {
          const size_t shard = rng() % shard_ids.size();
          std::string key = "t" + std::to_string(t) + "/" + std::to_string(i);
          std::lock_guard<std::mutex> lock(shard_mu[shard]);
          const uint64_t seq = AppendPut(*logs[shard], key, std::to_string(i));
          mine.push_back({shard, seq, std::move(key)});
        }
        const uint64_t ticket = wal.Ticket();
        const size_t covered = mine.size();  // appended before the ticket
        ++waits;
        if (!wal.WaitDurable(ticket).ok() || !wal.IsDurable(ticket)) {
          ++failures;
          return;
        }
        for (; verified < covered; ++verified) {
          if (!readable(mine[verified], &lower_bound[mine[verified].shard])) {
            ADD_FAILURE() << "thread " << t << ": " << mine[verified].key << " (shard "
                          << shard_ids[mine[verified].shard] << ", seq " << mine[verified].seq
                          << ") not in the store after its ticket was durable";
            ++failures;
            return;
          }
        }
      }
    });
  }
  for (std::thread& w : workers) w.join();
  EXPECT_EQ(failures.load(), 0);

  // Every entry exactly once, in per-shard sequence order.
  std::map<uint16_t, uint64_t> next_seq;
  std::map<std::pair<uint16_t, uint64_t>, std::string> logged;  // (shard, seq) -> key
  std::set<std::string> keys;
  for (const LoggedBlob& blob : ReadLog(store)) {
    uint64_t& expected = next_seq.try_emplace(blob.shard, 1).first->second;
    EXPECT_EQ(blob.first_seq, expected) << "gap or overlap in shard " << blob.shard;
    expected = blob.first_seq + blob.entries.size();
    for (const LoggedEntry& entry : blob.entries) {
      EXPECT_TRUE(keys.insert(entry.key).second) << entry.key << " logged twice";
      logged[{entry.shard, entry.seq}] = entry.key;
    }
  }
  GroupCommitResult result;
  for (int t = 0; t < threads; ++t) {
    for (const Appended& entry : appended[t]) {
      auto it = logged.find({shard_ids[entry.shard], entry.seq});
      EXPECT_TRUE(it != logged.end() && it->second == entry.key) << entry.key << " missing or out of place";
      ++result.entries;
    }
  }
  EXPECT_EQ(logged.size(), result.entries);
  for (size_t s = 0; s < logs.size(); ++s) EXPECT_EQ(next_seq[shard_ids[s]], logs[s]->last_seq() + 1);
  result.waits = waits.load();
  result.stats = wal.stats();
  ::testing::Test::RecordProperty("wal_writes", std::to_string(result.stats.writes));
  ::testing::Test::RecordProperty("waits", std::to_string(result.waits));
  ::testing::Test::RecordProperty("entries", std::to_string(result.entries));
  EXPECT_EQ(result.stats.entries, result.entries);
  return result;
}

TEST_F(WalTest, ConcurrentWritersGetEveryEntryLoggedExactlyOnceInSequenceOrder) {
  GroupCommitResult result = RunGroupCommit(*store_, /*sync=*/false, /*threads=*/8, /*appends_per_thread=*/1500);
  EXPECT_EQ(result.entries, 8u * 1500u);
  // At most one write per wait, and never one per entry. (Without fsync a write
  // takes microseconds, so how many waiters share one depends on scheduling;
  // the sync test below shows the sharing.)
  EXPECT_LE(result.stats.writes, result.waits);
  EXPECT_LT(result.stats.writes * 3, result.entries * 2);
}

// Group commit: while one thread writes and fsyncs, the others queue up; the
// next write carries all of their entries and releases all of them.
TEST_F(WalTest, SyncModeSharesEachWriteAndFsyncAmongManyWaiters) {
  GroupCommitResult result = RunGroupCommit(*store_, /*sync=*/true, /*threads=*/8, /*appends_per_thread=*/200);
  EXPECT_EQ(result.entries, 8u * 200u);
  EXPECT_LT(result.stats.writes * 2, result.waits)
      << result.stats.writes << " writes for " << result.waits << " waits and " << result.entries << " entries";
}

// Deterministic form of the above: a waiter whose entries another thread's
// write already carried returns without writing.
TEST_F(WalTest, AWaiterCoveredByAnotherThreadsWriteDoesNotWriteAgain) {
  ShardLog a(0), b(1);
  WalWriter wal(*store_, {&a, &b}, /*sync=*/true);
  AppendPut(a, "from-a", "1");
  const uint64_t ticket_a = wal.Ticket();
  std::thread other([&] {
    AppendPut(b, "from-b", "2");
    EXPECT_TRUE(wal.WaitDurable(wal.Ticket()).ok());
  });
  other.join();
  EXPECT_TRUE(wal.IsDurable(ticket_a));
  ASSERT_TRUE(wal.WaitDurable(ticket_a).ok());
  EXPECT_EQ(wal.stats().writes, 1u);
  EXPECT_EQ(wal.stats().entries, 2u);
}

}  // namespace
}  // namespace tally::storage
