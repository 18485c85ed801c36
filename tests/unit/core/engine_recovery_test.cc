// Engine durability: recovery from the log, compaction into the kv family,
// trimming of the log, and their interleavings. Every test destroys the
// engine without a clean shutdown and recovers from the data dir.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "keyspace_test_util.h"
#include "storage/codec.h"
#include "storage/log_format.h"
#include "storage/store.h"

namespace tally::core {
namespace {

namespace lf = storage::log_format;
using storage::Family;

class EngineRecoveryTest : public KeyspaceTest {
 protected:
  // A mix of every mutating command; returns how many log entries it appended.
  int WriteMixedWorkload(const std::string& prefix) {
    int entries = 0;
    for (int i = 0; i < 40; ++i) {
      Set(prefix + "plain:" + std::to_string(i), "v" + std::to_string(i));
      ++entries;
    }
    for (int i = 0; i < 20; ++i) {
      Incr(prefix + "count:" + std::to_string(i), i + 1);
      Incr(prefix + "count:" + std::to_string(i), 1000);
      entries += 2;
    }
    for (int i = 0; i < 10; ++i) {
      Set(prefix + "ttl:" + std::to_string(i), "t", clock_.NowMs() + 60'000 + i);
      ++entries;
    }
    for (int i = 0; i < 40; i += 3) {
      EXPECT_TRUE(Del(prefix + "plain:" + std::to_string(i)));
      ++entries;
    }
    EXPECT_TRUE(Expire(prefix + "plain:1", clock_.NowMs() + 30'000));
    EXPECT_TRUE(engine_->keyspace().Persist(prefix + "ttl:0").value);
    SetOptions keep;
    keep.keep_ttl = true;
    EXPECT_TRUE(engine_->keyspace().Set(prefix + "ttl:1", "kept", keep).value);
    entries += 3;
    return entries;
  }

  std::optional<uint64_t> Checkpoint(size_t shard) {
    auto value = engine_->store().Get(Family::kMeta, lf::CheckpointKey(static_cast<uint16_t>(shard)));
    EXPECT_TRUE(value.ok());
    if (!value.ok() || !value.value().has_value()) return std::nullopt;
    EXPECT_EQ(value.value()->size(), 8u);
    return storage::codec::GetFixed64(value.value()->data());
  }

  struct LogBlob {
    uint16_t shard;
    uint64_t first_seq;
    uint64_t last_seq;
  };
  std::vector<LogBlob> LogBlobs() {
    std::vector<LogBlob> blobs;
    storage::Status s = engine_->store().Scan(Family::kLog, "", "", [&](std::string_view key, std::string_view value) {
      LogBlob blob{};
      EXPECT_TRUE(lf::ParseLogKey(key, &blob.shard, &blob.first_seq));
      lf::BlobReader reader(value);
      lf::Entry entry;
      uint64_t count = 0;
      while (reader.Next(&entry)) ++count;
      EXPECT_TRUE(reader.status().ok());
      blob.last_seq = blob.first_seq + count - 1;
      blobs.push_back(blob);
      return true;
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return blobs;
  }

  // Puts one entry into the log family of the closed engine's store, as a
  // torn or foreign write would leave it there.
  void PutIntoClosedLog(std::string_view key, std::string_view blob) {
    storage::StoreOptions options;
    options.path = options_.data_dir;
    auto store = storage::Store::Open(options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    storage::WriteBatch batch(*store.value());
    batch.Put(Family::kLog, key, blob);
    ASSERT_TRUE(store.value()->Write(batch, false).ok());
  }
  void ExpectRecoveryFailsWithCorruption() {
    auto engine = Engine::Open(options_, clock_);
    ASSERT_FALSE(engine.ok());
    EXPECT_EQ(engine.status().code(), storage::Status::Code::kCorruption) << engine.status().ToString();
  }

  bool InKvFamily(std::string_view key) {
    auto value = engine_->store().Get(Family::kKv, key);
    EXPECT_TRUE(value.ok());
    return value.ok() && value.value().has_value();
  }
};

TEST_F(EngineRecoveryTest, ReopenRestoresValuesTtlsAndDeletionsFromTheLog) {
  const int entries = WriteMixedWorkload("");
  Durable();
  const State before = Snapshot();
  ASSERT_GT(before.size(), 50u);
  ASSERT_EQ(before.at("ttl:1"), (KeyState{"kept", kStartMs + 60'001}));
  ASSERT_EQ(before.count("plain:0"), 0u);

  CrashAndReopen();
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(engine_->recovered_entries(), static_cast<uint64_t>(entries));
  EXPECT_EQ(engine_->keyspace().Sizes().keys, before.size());
  EXPECT_EQ(engine_->keyspace().Sizes().keys_with_expiry, 10u);  // ttl:1..9 and plain:1
  EXPECT_EQ(engine_->UncompactedEntries(), static_cast<uint64_t>(entries));
}

TEST_F(EngineRecoveryTest, KeysWhoseExpiryPassedWhileDownAreGone) {
  Set("forever", "1");
  Set("short", "2", kStartMs + 1'000);
  Set("long", "3", kStartMs + 100'000);
  Set("expire-cmd", "4");
  Expire("expire-cmd", kStartMs + 2'000);
  Durable();
  engine_.reset();
  clock_.Advance(5'000);
  Open();
  EXPECT_EQ(Snapshot(), (State{{"forever", {"1", 0}}, {"long", {"3", kStartMs + 100'000}}}));
  EXPECT_EQ(engine_->keyspace().Sizes().keys, 2u);
  EXPECT_EQ(engine_->keyspace().Sizes().keys_with_expiry, 1u);
}

TEST_F(EngineRecoveryTest, RecoveryCombinesTheCompactedStateWithTheLogAfterIt) {
  WriteMixedWorkload("");
  Durable();
  ASSERT_TRUE(engine_->CompactAll().ok());
  EXPECT_EQ(engine_->UncompactedEntries(), 0u);
  // Overwrite, delete, re-expire and persist compacted keys; add new ones.
  Set("plain:2", "changed");
  EXPECT_TRUE(Del("plain:4"));
  EXPECT_EQ(Incr("count:0", 5), 1006);
  EXPECT_TRUE(Expire("count:1", kStartMs + 9'000));
  EXPECT_TRUE(engine_->keyspace().Persist("ttl:5").value);
  Set("new", "n");
  EXPECT_TRUE(Del("new"));
  Set("new2", "n2");
  const int after = 8;  // log entries since the compaction
  Durable();
  const State before = Snapshot();
  EXPECT_EQ(engine_->UncompactedEntries(), static_cast<uint64_t>(after));

  CrashAndReopen();
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(engine_->recovered_entries(), static_cast<uint64_t>(after));
}

TEST_F(EngineRecoveryTest, ReopenAfterCompactionAloneReplaysNothing) {
  WriteMixedWorkload("");
  Durable();
  ASSERT_TRUE(engine_->CompactAll().ok());
  const State before = Snapshot();
  CrashAndReopen();
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(engine_->recovered_entries(), 0u);
}

TEST_F(EngineRecoveryTest, CompactionTrimsTheLogUpToEachShardsCheckpoint) {
  WriteMixedWorkload("");
  Durable();
  ASSERT_FALSE(LogBlobs().empty());
  ASSERT_TRUE(engine_->CompactAll().ok());
  EXPECT_TRUE(LogBlobs().empty());
  EXPECT_GT(engine_->compaction_stats().runs, 0u);
  EXPECT_GT(engine_->compaction_stats().keys_written, 0u);

  WriteMixedWorkload("more-");
  Durable();
  std::vector<LogBlob> blobs = LogBlobs();
  ASSERT_FALSE(blobs.empty());
  for (const LogBlob& blob : blobs) {
    EXPECT_GT(blob.first_seq, Checkpoint(blob.shard).value_or(0)) << "shard " << blob.shard;
  }
}

// Entries appended but not yet written by the group-commit writer when a
// compaction seals the log reach RocksDB after the compaction's trim.
TEST_F(EngineRecoveryTest, CompactionTrimsEntriesThatWereNotYetDurableWhenItRan) {
  WriteMixedWorkload("");  // no Durable(): still in the shards' pending buffers
  ASSERT_TRUE(engine_->CompactAll().ok());
  Durable();
  int stale = 0;
  std::string example;
  for (const LogBlob& blob : LogBlobs()) {
    const uint64_t checkpoint = Checkpoint(blob.shard).value_or(0);
    if (blob.first_seq <= checkpoint) {
      if (stale++ == 0) {
        example = "shard " + std::to_string(blob.shard) + ": blob of seq " + std::to_string(blob.first_seq) + ".." +
                  std::to_string(blob.last_seq) + " with checkpoint " + std::to_string(checkpoint);
      }
    }
  }
  EXPECT_EQ(stale, 0) << "log blobs at or below their shard's checkpoint remain after compaction, e.g. " << example;
}

TEST_F(EngineRecoveryTest, CompactingEntriesNotYetDurableStillRecoversExactly) {
  WriteMixedWorkload("");
  ASSERT_TRUE(engine_->CompactAll().ok());
  Set("after", "x");
  Durable();
  const State before = Snapshot();
  CrashAndReopen();
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(engine_->recovered_entries(), 1u);
}

// A crash after a compaction's snapshot: whatever was appended after the
// snapshot is replayed from the log on top of the compacted state.
TEST_F(EngineRecoveryTest, WritesAfterACompactionReplayWithoutAnotherCompaction) {
  for (int i = 0; i < 100; ++i) Set("k" + std::to_string(i), "old");
  Durable();
  ASSERT_TRUE(engine_->CompactAll().ok());
  for (int i = 0; i < 100; i += 2) Set("k" + std::to_string(i), "new");
  for (int i = 1; i < 100; i += 4) Del("k" + std::to_string(i));
  Durable();
  CrashAndReopen();
  for (int i = 0; i < 100; ++i) {
    std::optional<std::string> expected = "old";
    if (i % 2 == 0) expected = "new";
    if (i % 4 == 1) expected = std::nullopt;
    EXPECT_EQ(Get("k" + std::to_string(i)), expected) << i;
  }
  // And once more, now compacting the replayed state.
  const State before = Snapshot();
  ASSERT_TRUE(engine_->CompactAll().ok());
  CrashAndReopen();
  EXPECT_EQ(Snapshot(), before);
  EXPECT_EQ(engine_->recovered_entries(), 0u);
}

TEST_F(EngineRecoveryTest, AKeyRecreatedAfterDeleteSurvivesEveryInterleaving) {
  // In the log only.
  Set("log-only", "1");
  Del("log-only");
  Set("log-only", "2");
  // Deleted and re-created after a compaction.
  Set("after-compaction", "1");
  Set("compacted-twice", "1");
  Set("same-window", "1");
  Del("same-window");
  Set("same-window", "2");
  Durable();
  ASSERT_TRUE(engine_->CompactAll().ok());
  Del("after-compaction");
  Set("after-compaction", "2");
  Del("compacted-twice");
  Set("compacted-twice", "2");
  Durable();
  ASSERT_TRUE(engine_->CompactAll().ok());
  Del("same-window");
  Set("same-window", "3");
  Durable();
  CrashAndReopen();
  EXPECT_EQ(Get("log-only"), "2");
  EXPECT_EQ(Get("after-compaction"), "2");
  EXPECT_EQ(Get("compacted-twice"), "2");
  EXPECT_EQ(Get("same-window"), "3");
  ASSERT_TRUE(engine_->CompactAll().ok());
  CrashAndReopen();
  EXPECT_EQ(Get("log-only"), "2");
  EXPECT_EQ(Get("same-window"), "3");
}

TEST_F(EngineRecoveryTest, AKeyRecreatedAfterItExpiredSurvivesCompaction) {
  Set("k", "old", kStartMs + 100);
  Durable();
  ASSERT_TRUE(engine_->CompactAll().ok());
  clock_.Advance(200);
  EXPECT_EQ(Get("k"), std::nullopt);  // reaped on access, without a log entry
  Set("k", "new");
  Durable();
  ASSERT_TRUE(engine_->CompactAll().ok());
  CrashAndReopen();
  EXPECT_EQ(Get("k"), "new");
  EXPECT_EQ(engine_->keyspace().Pttl("k"), -1);
}

TEST_F(EngineRecoveryTest, DeletedKeysLeaveTheKvFamilyAndStayDeleted) {
  Set("gone", "v");
  Set("kept", "v");
  Durable();
  ASSERT_TRUE(engine_->CompactAll().ok());
  EXPECT_TRUE(InKvFamily("gone"));
  Del("gone");
  Durable();
  ASSERT_TRUE(engine_->CompactAll().ok());
  EXPECT_FALSE(InKvFamily("gone"));
  EXPECT_TRUE(InKvFamily("kept"));
  CrashAndReopen();
  EXPECT_EQ(Get("gone"), std::nullopt);
  EXPECT_EQ(Get("kept"), "v");
}

TEST_F(EngineRecoveryTest, ExpiredKeysLeaveTheKvFamilyAtCompaction) {
  Set("t", "v", kStartMs + 1'000);
  Set("expire-cmd", "v");
  Expire("expire-cmd", kStartMs + 1'000);
  Durable();
  ASSERT_TRUE(engine_->CompactAll().ok());
  EXPECT_TRUE(InKvFamily("t"));
  EXPECT_TRUE(InKvFamily("expire-cmd"));
  clock_.Advance(1'000);
  ASSERT_TRUE(engine_->CompactAll().ok());  // no access in between: compaction reaps them
  EXPECT_FALSE(InKvFamily("t"));
  EXPECT_FALSE(InKvFamily("expire-cmd"));
  EXPECT_EQ(engine_->keyspace().Sizes().keys, 0u);
  EXPECT_EQ(engine_->keyspace().Sizes().keys_with_expiry, 0u);
}

// A key that expired while the daemon was down is skipped by recovery; the
// next compaction must still delete it from the kv family, as it does for keys
// that expire while the daemon runs.
TEST_F(EngineRecoveryTest, KeysThatExpiredWhileDownLeaveTheKvFamilyAtTheNextCompaction) {
  Set("t", "v", kStartMs + 1'000);
  Set("other", "v");
  Durable();
  ASSERT_TRUE(engine_->CompactAll().ok());
  ASSERT_TRUE(InKvFamily("t"));
  engine_.reset();
  clock_.Advance(2'000);
  Open();
  EXPECT_EQ(Get("t"), std::nullopt);
  Set("other", "w");  // give compaction something to do
  Durable();
  ASSERT_TRUE(engine_->CompactAll().ok());
  EXPECT_FALSE(InKvFamily("t")) << "an expired key stays in the kv family for good";
}

TEST_F(EngineRecoveryTest, ACompactedTtlStillExpiresAfterReopen) {
  Set("t", "v", kStartMs + 10'000);
  Durable();
  ASSERT_TRUE(engine_->CompactAll().ok());
  CrashAndReopen();
  EXPECT_EQ(engine_->keyspace().Pttl("t"), 10'000);
  engine_.reset();
  clock_.Advance(10'000);
  Open();
  EXPECT_EQ(Get("t"), std::nullopt);
}

TEST_F(EngineRecoveryTest, SequenceNumbersContinueAcrossReopens) {
  std::map<std::string, std::string> expected;
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 30; ++i) {
      const std::string key = "k" + std::to_string((round * 7 + i) % 50);
      const std::string value = std::to_string(round) + "/" + std::to_string(i);
      Set(key, value);
      expected[key] = value;
    }
    Durable();
    if (round == 2) {
      ASSERT_TRUE(engine_->CompactAll().ok());
    }
    CrashAndReopen();
    for (const auto& [key, value] : expected) ASSERT_EQ(Get(key), value) << "round " << round << " " << key;
  }
  // No blob was overwritten: every shard's log is contiguous past its checkpoint.
  std::map<uint16_t, uint64_t> next;
  for (const LogBlob& blob : LogBlobs()) {
    auto [it, inserted] = next.try_emplace(blob.shard, Checkpoint(blob.shard).value_or(0) + 1);
    EXPECT_EQ(blob.first_seq, it->second) << "shard " << blob.shard;
    it->second = blob.last_seq + 1;
  }
}

TEST_F(EngineRecoveryTest, FsyncDurabilityRecoversTheSameWay) {
  engine_.reset();
  options_.fsync_each_write = true;
  Open();
  WriteMixedWorkload("");
  Durable();
  EXPECT_GE(engine_->wal_stats().writes, 1u);
  const State before = Snapshot();
  CrashAndReopen();
  EXPECT_EQ(Snapshot(), before);
}

TEST_F(EngineRecoveryTest, UncompactedEntriesCountTheLogPastTheCheckpoint) {
  EXPECT_EQ(engine_->UncompactedEntries(), 0u);
  Set("a", "1");
  Incr("b");
  Del("a");
  EXPECT_EQ(engine_->UncompactedEntries(), 3u);
  Durable();
  ASSERT_TRUE(engine_->CompactAll().ok());
  EXPECT_EQ(engine_->UncompactedEntries(), 0u);
  Incr("b");
  EXPECT_EQ(engine_->UncompactedEntries(), 1u);
}

TEST_F(EngineRecoveryTest, ACorruptLogBlobFailsRecoveryWithCorruption) {
  Set("k", "v");
  Durable();
  engine_.reset();
  std::string blob(1, static_cast<char>(lf::kBlobVersion));
  blob.push_back(static_cast<char>(lf::Op::kPlainPut));
  blob.push_back(static_cast<char>(50));  // payload longer than the blob
  ASSERT_NO_FATAL_FAILURE(PutIntoClosedLog(lf::LogKey(3, 1'000), blob));
  ExpectRecoveryFailsWithCorruption();
}

TEST_F(EngineRecoveryTest, AMalformedLogKeyFailsRecoveryWithCorruption) {
  engine_.reset();
  ASSERT_NO_FATAL_FAILURE(PutIntoClosedLog("short", std::string(1, static_cast<char>(lf::kBlobVersion))));
  ExpectRecoveryFailsWithCorruption();
}

// Writers on disjoint keys race a compactor that runs over and over, so
// entries land before, inside and after compaction snapshots. Whatever each
// writer last wrote (and waited for) must be what recovery finds.
TEST_F(EngineRecoveryTest, ConcurrentWritesAndCompactionsRecoverTheLastDurableState) {
  constexpr int kWriters = 4;
  constexpr int kOpsPerWriter = 1500;
  constexpr int kKeysPerWriter = 40;
  std::vector<std::map<std::string, std::optional<std::string>>> expected(kWriters);
  std::atomic<int> running{kWriters};
  std::atomic<int> compactions{0};
  std::thread compactor([&] {
    while (running.load() > 0) {
      EXPECT_TRUE(engine_->CompactAll().ok());
      ++compactions;
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      std::mt19937 rng(w + 1);
      auto& model = expected[w];
      for (int op = 0; op < kOpsPerWriter; ++op) {
        const std::string key = "w" + std::to_string(w) + ":" + std::to_string(rng() % kKeysPerWriter);
        switch (rng() % 4) {
          case 0:
          case 1: {
            const std::string value = std::to_string(op);
            EXPECT_TRUE(engine_->keyspace().Set(key, value, SetOptions{}).ok());
            model[key] = value;
            break;
          }
          case 2: {
            OpResult<int64_t> r = engine_->keyspace().IncrBy(key, 1);
            if (r.ok()) model[key] = std::to_string(r.value);
            break;
          }
          case 3:
            EXPECT_TRUE(engine_->keyspace().Delete(key).ok());
            model[key] = std::nullopt;
            break;
        }
        if (op % 3 == 0) {
          EXPECT_TRUE(engine_->WaitDurable(engine_->Ticket()).ok());
        }
        // On a loaded machine the compactor thread may not be scheduled at
        // all while the writers run; checkpoints make sure compactions
        // really interleave with the writes instead of hoping they do.
        if (op % 500 == 250) {
          const int needed = op / 500 + 1;
          while (compactions.load() < needed) std::this_thread::yield();
        }
      }
      EXPECT_TRUE(engine_->WaitDurable(engine_->Ticket()).ok());
      --running;
    });
  }
  for (std::thread& t : writers) t.join();
  compactor.join();
  EXPECT_GE(compactions.load(), kOpsPerWriter / 500);

  auto check = [&](const char* when) {
    for (int w = 0; w < kWriters; ++w) {
      for (const auto& [key, value] : expected[w]) ASSERT_EQ(Get(key), value) << when << ": " << key;
    }
  };
  check("before reopen");
  CrashAndReopen();
  check("after reopen");
  ASSERT_TRUE(engine_->CompactAll().ok());
  CrashAndReopen();
  check("after compaction and reopen");
}

}  // namespace
}  // namespace tally::core
