#pragma once
// Compaction: folds each shard's changes into the compacted families and
// trims its log (storage/FORMAT.md §8).
//
// Per shard, one run at a time:
//   1. under the shard lock: read the shard's last sequence S, seal its log
//      buffer (no blob straddles S), and let every module Snapshot;
//   2. without it: every module's WriteSnapshot into ONE WriteBatch, plus the
//      checkpoint S; written atomically (a crash before it leaves the old
//      checkpoint and the full log, after it the new state and checkpoint);
//   3. under the lock again: every module's FinishSnapshot(ok), and the
//      shard's checkpoint moves to S.
// After every shard of a run: ONE fsync of both RocksDB instances, then the
// trims of every compacted shard's log in one write to the log's instance
// (a trim never reaches the disk before what replaces it), then the feeds
// publish their new records (one more fsync when there are any).
//
// Thread-safe; runs are serialised.

#include <array>
#include <cstdint>
#include <mutex>
#include <vector>

#include "core/clock.h"
#include "core/engine_module.h"
#include "core/feeds.h"
#include "core/shard_set.h"
#include "storage/status.h"
#include "storage/store.h"
#include "storage/wal.h"

namespace tally::core {

struct CompactionStats {
  uint64_t runs = 0;
  uint64_t keys_written = 0;
  uint64_t last_duration_us = 0;
  int64_t last_success_ms = 0;
  uint64_t failures = 0;
  // Longest time one compaction held a shard's lock (increments on that shard
  // wait at most this long).
  uint64_t max_lock_held_us = 0;
};

class Compactor {
 public:
  // `modules` in registration order (the feeds module last).
  Compactor(ShardSet& shards, storage::Store& store, storage::WalWriter& wal, const Clock& clock,
            std::vector<EngineModule*> modules, FeedsModule& feeds);

  // Folds one shard's changes and trims its log (then publishes the feed
  // records it wrote).
  storage::Status CompactShard(size_t shard);
  storage::Status CompactAll();
  // The given shards, then one trim and one publish for all of them.
  storage::Status CompactShards(const std::vector<size_t>& shards);
  // Log entries not yet folded by compaction (the trigger for an early run).
  uint64_t UncompactedEntries();
  CompactionStats stats() const;
  // Store::Checkpoint into `target` while no compaction or trim runs, so the
  // copy's log holds every entry above the copy's checkpoints (a trim in
  // between its two instances would delete entries the copy's main instance
  // does not hold yet).
  storage::Status CheckpointStore(const std::string& target);

 private:
  storage::Status CompactOneShard(size_t shard);
  // Deletes the log entries that compactions since the last call covered,
  // after one fsync of what they wrote.
  storage::Status TrimCompactedLogs();

  ShardSet& shards_;
  storage::Store& store_;
  storage::WalWriter& wal_;
  const Clock& clock_;
  const std::vector<EngineModule*> modules_;
  FeedsModule& feeds_;

  mutable std::mutex mu_;  // one compaction at a time; guards the state below
  // Per shard: the checkpoint its last compaction wrote, whose log entries
  // TrimCompactedLogs has not deleted yet (0: none).
  std::array<uint64_t, kShardCount> pending_trims_{};
  CompactionStats stats_;
};

}  // namespace tally::core
