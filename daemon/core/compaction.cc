#include "core/compaction.h"

#include <algorithm>
#include <chrono>

#include "storage/codec.h"
#include "storage/log_format.h"

namespace tally::core {

namespace lf = storage::log_format;
using storage::Family;
using storage::Status;

namespace {

uint64_t MicrosSince(std::chrono::steady_clock::time_point start) {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count());
}

}  // namespace

Compactor::Compactor(ShardSet& shards, storage::Store& store, storage::WalWriter& wal, const Clock& clock,
                     std::vector<EngineModule*> modules, FeedsModule& feeds)
    : shards_(shards), store_(store), wal_(wal), clock_(clock), modules_(std::move(modules)), feeds_(feeds) {}

Status Compactor::CompactShard(size_t index) { return CompactShards({index}); }

Status Compactor::CompactAll() {
  std::vector<size_t> all(kShardCount);
  for (size_t i = 0; i < kShardCount; ++i) all[i] = i;
  return CompactShards(all);
}

Status Compactor::CompactShards(const std::vector<size_t>& indexes) {
  Status first_error;
  for (size_t i : indexes) {
    Status s = CompactOneShard(i);
    if (!s.ok() && first_error.ok()) first_error = s;
  }
  Status trimmed = TrimCompactedLogs();
  if (!trimmed.ok() && first_error.ok()) first_error = trimmed;
  // One sync for every shard's feed records (not one per shard).
  Status published = feeds_.Publish();
  if (!published.ok() && first_error.ok()) first_error = published;
  return first_error;
}

Status Compactor::CompactOneShard(size_t index) {
  std::lock_guard<std::mutex> run_lock(mu_);
  const auto started = std::chrono::steady_clock::now();
  uint64_t checkpoint = 0, previous = 0, lock_held_us = 0;
  // 1. Under the shard lock (O(changed state)): S, the seal, every snapshot.
  shards_.Locked(index, [&](const ShardRef& shard) {
    const auto locked_at = std::chrono::steady_clock::now();
    checkpoint = shards_.log(shard).last_seq();
    previous = shards_.checkpoint(shard);
    shards_.log(shard).Seal();
    for (EngineModule* module : modules_) module->Snapshot(shard);
    lock_held_us = MicrosSince(locked_at);
  });
  stats_.max_lock_held_us = std::max(stats_.max_lock_held_us, lock_held_us);

  // 2. Without the lock: ONE batch with every module's snapshot and S.
  storage::WriteBatch batch(store_);
  storage::feed_format::ChangeBlobWriter changes = feeds_.StartChanges();
  CompactionBatch out{index, batch, changes};
  Status s;
  for (EngineModule* module : modules_) {
    s = module->WriteSnapshot(out);
    if (!s.ok()) break;
  }
  const bool nothing_to_write = s.ok() && checkpoint == previous && out.written == 0;
  if (s.ok() && !nothing_to_write) {
    std::string checkpoint_value;
    storage::codec::PutFixed64(checkpoint_value, checkpoint);
    batch.Put(Family::kMeta, lf::CheckpointKey(static_cast<uint16_t>(index)), checkpoint_value);
    // The trim of the shard's log up to S waits for TrimCompactedLogs, after
    // one fsync that covers every shard's batch: the log lives in a RocksDB
    // instance of its own, and a trim must never reach the disk without the
    // checkpoint and cells that replace what it deletes.
    // Entries up to S that the group-commit writer has not written yet must
    // land before the trim, or they would be written below the checkpoint and
    // linger in the log (harmless for correctness: replay skips them).
    s = wal_.WaitDurable(wal_.Ticket());
    if (s.ok()) s = store_.Write(batch, false);
  }

  // 3. Under the lock again: drop the snapshots (or give them back).
  shards_.Locked(index, [&](const ShardRef& shard) {
    for (EngineModule* module : modules_) module->FinishSnapshot(shard, s.ok());
    if (s.ok()) shards_.set_checkpoint(shard, checkpoint);
  });
  if (!s.ok()) {
    stats_.failures++;
    return s;
  }
  if (nothing_to_write) return Status::Ok();
  pending_trims_[index] = checkpoint;
  stats_.runs++;
  stats_.keys_written += out.written;
  stats_.last_duration_us = MicrosSince(started);
  stats_.last_success_ms = clock_.NowMs();
  return Status::Ok();
}

Status Compactor::TrimCompactedLogs() {
  std::lock_guard<std::mutex> run_lock(mu_);
  bool any = false;
  for (uint64_t through : pending_trims_) any = any || through > 0;
  if (!any) return Status::Ok();
  // One fsync makes every compacted batch (checkpoints and cells) durable;
  // only then may the log entries they cover go.
  Status s = store_.SyncLog();
  if (!s.ok()) return s;
  storage::WriteBatch trims(store_);
  for (size_t index = 0; index < kShardCount; ++index) {
    if (pending_trims_[index] == 0) continue;
    trims.DeleteRange(Family::kLog, lf::LogKey(static_cast<uint16_t>(index), 0),
                      lf::LogKey(static_cast<uint16_t>(index), pending_trims_[index] + 1));
  }
  s = store_.Write(trims, false);
  // A failed trim is retried by the next run (the checkpoints stay): the
  // entries it covers are skipped by replay meanwhile.
  if (s.ok()) pending_trims_.fill(0);
  return s;
}

storage::Status Compactor::CheckpointStore(const std::string& target) {
  std::lock_guard<std::mutex> run_lock(mu_);
  return store_.Checkpoint(target);
}

uint64_t Compactor::UncompactedEntries() {
  uint64_t entries = 0;
  for (size_t i = 0; i < kShardCount; ++i) {
    shards_.Locked(
        i, [&](const ShardRef& shard) { entries += shards_.log(shard).last_seq() - shards_.checkpoint(shard); });
  }
  return entries;
}

CompactionStats Compactor::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace tally::core
