#include "core/engine.h"

#include <algorithm>
#include <charconv>
#include <chrono>

#include "core/glob.h"
#include "protocol/resp_parser.h"
#include "storage/codec.h"
#include "storage/log_format.h"

namespace tally::core {

namespace lf = storage::log_format;
using storage::Family;
using storage::Status;

Engine::Engine(const Clock& clock, std::unique_ptr<storage::RetentionPolicy> retention,
               std::unique_ptr<storage::Store> store, const EngineOptions& options)
    : clock_(clock), counter_options_(options.counters), retention_(std::move(retention)), store_(std::move(store)) {
  std::vector<storage::ShardLog*> logs;
  for (size_t i = 0; i < kShardCount; ++i) {
    shards_[i] = std::make_unique<Shard>(static_cast<uint16_t>(i));
    logs.push_back(&shards_[i]->log);
  }
  wal_ = std::make_unique<storage::WalWriter>(*store_, std::move(logs), options.fsync_each_write);
}

Engine::~Engine() = default;

storage::StatusOr<std::unique_ptr<Engine>> Engine::Open(const EngineOptions& options, const Clock& clock) {
  auto retention = MakeRetentionPolicy(options.counters, clock);
  storage::StoreOptions store_options;
  store_options.path = options.data_dir;
  store_options.block_cache_bytes = options.block_cache_bytes;
  store_options.retention = retention.get();
  auto store = storage::Store::Open(store_options);
  if (!store.ok()) return store.status();
  std::unique_ptr<Engine> engine(new Engine(clock, std::move(retention), std::move(store.value()), options));
  Status s = engine->Recover();
  if (s.ok()) s = engine->LoadFeeds();
  if (!s.ok()) return s;
  return engine;
}

// ---------------------------------------------------------------------------
// Recovery

Status Engine::Recover() {
  const int64_t now = clock_.NowMs();
  // 1. Compacted plain keys.
  Status s = store_->Scan(
      Family::kKv, "", "",
      [&](std::string_view key, std::string_view encoded) {
        int64_t expire_at = 0;
        std::string_view value;
        if (!lf::DecodeKvValue(encoded, &expire_at, &value)) return true;  // counted by verify tools
        Shard& shard = ShardFor(key);
        if (expire_at != 0 && expire_at <= now) {
          shard.dirty_plain.emplace_back(key);  // expired while we were down: compaction deletes the row
          return true;
        }
        PlainEntry& entry = shard.plain[key];
        entry.value.assign(value);
        entry.expire_at_ms = expire_at;
        if (expire_at != 0) ++shard.keys_with_expiry;
        return true;
      },
      storage::Store::ScanMode::kBulk);
  if (!s.ok()) return s;

  // 2. Checkpoints: the last sequence folded into the compacted state.
  std::array<uint64_t, kShardCount> checkpoint{};
  s = store_->Scan(Family::kMeta, lf::kCheckpointPrefix, "checkpoint0",
                   [&](std::string_view key, std::string_view value) {
                     if (key.size() != lf::kCheckpointPrefix.size() + 2 || value.size() != 8) return true;
                     uint16_t shard = storage::codec::GetBigEndian16(key.data() + lf::kCheckpointPrefix.size());
                     if (shard < kShardCount) checkpoint[shard] = storage::codec::GetFixed64(value.data());
                     return true;
                   });
  if (!s.ok()) return s;

  // 3. Replay the log past each checkpoint, in (shard, sequence) order.
  std::array<uint64_t, kShardCount> last_seq = checkpoint;
  Status replay_status;
  s = store_->Scan(
      Family::kLog, "", "",
      [&](std::string_view key, std::string_view blob) {
        uint16_t shard_index = 0;
        uint64_t seq = 0;
        if (!lf::ParseLogKey(key, &shard_index, &seq) || shard_index >= kShardCount) {
          replay_status = Status::Corruption("malformed log key");
          return false;
        }
        lf::BlobReader reader(blob);
        lf::Entry entry;
        for (; reader.Next(&entry); ++seq) {
          if (seq <= checkpoint[shard_index]) continue;
          last_seq[shard_index] = std::max(last_seq[shard_index], seq);
          ++recovered_entries_;
          switch (entry.op) {
            case lf::Op::kPlainPut: {
              lf::PlainPut put;
              if (!lf::DecodePlainPut(entry.payload, &put)) {
                replay_status = Status::Corruption("malformed plain put in log");
                return false;
              }
              Shard& shard = ShardFor(put.key);
              auto it = shard.plain.find(put.key);
              if (put.expire_at_ms != 0 && put.expire_at_ms <= now) {
                if (it != shard.plain.end()) RemoveEntry(shard, put.key, it->second);
                break;
              }
              PlainEntry* target = nullptr;
              if (it == shard.plain.end()) {
                target = &shard.plain[put.key];
              } else {
                target = &it->second;
                if (target->expire_at_ms != 0) --shard.keys_with_expiry;
              }
              target->value.assign(put.value);
              target->expire_at_ms = put.expire_at_ms;
              if (put.expire_at_ms != 0) ++shard.keys_with_expiry;
              MarkDirty(shard, put.key, target);
              break;
            }
            case lf::Op::kPlainDel: {
              Shard& shard = ShardFor(entry.payload);
              auto it = shard.plain.find(entry.payload);
              if (it != shard.plain.end()) RemoveEntry(shard, entry.payload, it->second);
              break;
            }
            default: {
              Status counter_status = ReplayCounterEntry(entry, now);
              if (!counter_status.ok()) {
                replay_status = counter_status;
                return false;
              }
              break;
            }
          }
        }
        if (!reader.status().ok()) {
          replay_status = reader.status();
          return false;
        }
        return true;
      },
      storage::Store::ScanMode::kBulk);
  if (!s.ok()) return s;
  if (!replay_status.ok()) return replay_status;
  for (size_t i = 0; i < kShardCount; ++i) {
    shards_[i]->log.set_next_seq(last_seq[i] + 1);
    shards_[i]->compacted_through = checkpoint[i];
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Plain keyspace

Engine::PlainEntry* Engine::FindLive(Shard& shard, std::string_view key, int64_t now_ms) {
  auto it = shard.plain.find(key);
  if (it == shard.plain.end()) return nullptr;
  if (it->second.expire_at_ms != 0 && it->second.expire_at_ms <= now_ms) {
    // Expired: gone. No log entry is needed, since the logged expiry time
    // already makes recovery drop it; compaction deletes it from the kv family.
    RemoveEntry(shard, key, it->second);
    return nullptr;
  }
  return &it->second;
}

void Engine::MarkDirty(Shard& shard, std::string_view key, PlainEntry* entry) {
  if (entry != nullptr && entry->dirty) return;
  if (entry != nullptr) entry->dirty = true;
  shard.dirty_plain.emplace_back(key);
}

void Engine::RemoveEntry(Shard& shard, std::string_view key, PlainEntry& entry) {
  // A removed key must reach compaction as a delete: list it unless already listed.
  if (!entry.dirty) shard.dirty_plain.emplace_back(key);
  if (entry.expire_at_ms != 0) --shard.keys_with_expiry;
  auto it = shard.plain.find(key);
  shard.plain.erase(it);
}

void Engine::LogPut(Shard& shard, std::string_view key, const PlainEntry& entry) {
  shard.log.Append([&](std::string& blob) { lf::AppendPlainPut(blob, key, entry.expire_at_ms, entry.value); });
}

OpResult<bool> Engine::SetPlain(std::string_view key, std::string_view value, const SetOptions& options,
                                std::optional<std::string>* old_value) {
  if (!wal_->health().ok()) return OpResult<bool>::Error(OpStatus::kStorageFailed);
  Shard& shard = ShardFor(key);
  std::lock_guard<std::mutex> lock(shard.mu);
  const int64_t now = clock_.NowMs();
  PlainEntry* entry = FindLive(shard, key, now);
  if (old_value != nullptr && entry != nullptr) *old_value = entry->value;
  if (options.condition == SetCondition::kIfAbsent && entry != nullptr) return OpResult<bool>::Ok(false);
  if (options.condition == SetCondition::kIfPresent && entry == nullptr) return OpResult<bool>::Ok(false);
  if (entry == nullptr) {
    auto [it, inserted] = shard.plain.try_emplace(key);
    entry = &it->second;
  }
  int64_t expire_at = options.keep_ttl ? entry->expire_at_ms : options.expire_at_ms;
  if (entry->expire_at_ms != 0) --shard.keys_with_expiry;
  if (expire_at != 0) ++shard.keys_with_expiry;
  entry->value.assign(value);
  entry->expire_at_ms = expire_at;
  MarkDirty(shard, key, entry);
  LogPut(shard, key, *entry);
  return OpResult<bool>::Ok(true);
}

OpResult<int64_t> Engine::IncrPlain(std::string_view key, int64_t delta) {
  if (!wal_->health().ok()) return OpResult<int64_t>::Error(OpStatus::kStorageFailed);
  Shard& shard = ShardFor(key);
  std::lock_guard<std::mutex> lock(shard.mu);
  PlainEntry* entry = FindLive(shard, key, clock_.NowMs());
  int64_t current = 0;
  if (entry != nullptr && !protocol::ParseInt64(entry->value, &current)) {
    return OpResult<int64_t>::Error(OpStatus::kNotInteger);
  }
  int64_t next = 0;
  if (__builtin_add_overflow(current, delta, &next)) return OpResult<int64_t>::Error(OpStatus::kOverflow);
  if (entry == nullptr) entry = &shard.plain.try_emplace(key).first->second;
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), next);
  entry->value.assign(digits, end);
  MarkDirty(shard, key, entry);
  LogPut(shard, key, *entry);
  return OpResult<int64_t>::Ok(next);
}

OpResult<bool> Engine::DeletePlain(std::string_view key) {
  if (!wal_->health().ok()) return OpResult<bool>::Error(OpStatus::kStorageFailed);
  Shard& shard = ShardFor(key);
  std::lock_guard<std::mutex> lock(shard.mu);
  PlainEntry* entry = FindLive(shard, key, clock_.NowMs());
  if (entry == nullptr) return OpResult<bool>::Ok(false);
  RemoveEntry(shard, key, *entry);
  shard.log.Append([&](std::string& blob) { lf::AppendPlainDel(blob, key); });
  return OpResult<bool>::Ok(true);
}

bool Engine::ExistsPlain(std::string_view key) {
  Shard& shard = ShardFor(key);
  std::lock_guard<std::mutex> lock(shard.mu);
  return FindLive(shard, key, clock_.NowMs()) != nullptr;
}

OpResult<bool> Engine::ExpirePlain(std::string_view key, int64_t expire_at_ms, ExpireCondition condition) {
  if (!wal_->health().ok()) return OpResult<bool>::Error(OpStatus::kStorageFailed);
  Shard& shard = ShardFor(key);
  std::lock_guard<std::mutex> lock(shard.mu);
  const int64_t now = clock_.NowMs();
  PlainEntry* entry = FindLive(shard, key, now);
  if (entry == nullptr) return OpResult<bool>::Ok(false);
  // Redis: a key without expiry counts as an infinite TTL for GT and LT.
  const bool has_expiry = entry->expire_at_ms != 0;
  switch (condition) {
    case ExpireCondition::kAlways:
      break;
    case ExpireCondition::kIfNoExpiry:
      if (has_expiry) return OpResult<bool>::Ok(false);
      break;
    case ExpireCondition::kIfHasExpiry:
      if (!has_expiry) return OpResult<bool>::Ok(false);
      break;
    case ExpireCondition::kIfGreater:
      if (!has_expiry || expire_at_ms <= entry->expire_at_ms) return OpResult<bool>::Ok(false);
      break;
    case ExpireCondition::kIfLess:
      if (has_expiry && expire_at_ms >= entry->expire_at_ms) return OpResult<bool>::Ok(false);
      break;
  }
  if (expire_at_ms <= now) {
    RemoveEntry(shard, key, *entry);
    shard.log.Append([&](std::string& blob) { lf::AppendPlainDel(blob, key); });
    return OpResult<bool>::Ok(true);
  }
  if (entry->expire_at_ms == 0) ++shard.keys_with_expiry;
  entry->expire_at_ms = expire_at_ms;
  MarkDirty(shard, key, entry);
  LogPut(shard, key, *entry);
  return OpResult<bool>::Ok(true);
}

OpResult<bool> Engine::PersistPlain(std::string_view key) {
  if (!wal_->health().ok()) return OpResult<bool>::Error(OpStatus::kStorageFailed);
  Shard& shard = ShardFor(key);
  std::lock_guard<std::mutex> lock(shard.mu);
  PlainEntry* entry = FindLive(shard, key, clock_.NowMs());
  if (entry == nullptr || entry->expire_at_ms == 0) return OpResult<bool>::Ok(false);
  entry->expire_at_ms = 0;
  --shard.keys_with_expiry;
  MarkDirty(shard, key, entry);
  LogPut(shard, key, *entry);
  return OpResult<bool>::Ok(true);
}

int64_t Engine::PttlPlain(std::string_view key) {
  Shard& shard = ShardFor(key);
  std::lock_guard<std::mutex> lock(shard.mu);
  const int64_t now = clock_.NowMs();
  PlainEntry* entry = FindLive(shard, key, now);
  if (entry == nullptr) return -2;
  if (entry->expire_at_ms == 0) return -1;
  return entry->expire_at_ms - now;
}

// SCAN cursor: shard index in the top 6 bits, then the position in that
// shard's hash order (the top 57 bits of StableHash). Keys are visited in hash
// order, so a key present for the whole scan is returned exactly once even if
// the shard's table is rehashed between calls. Cost per call: one pass over
// one shard, returning at least an eighth of it (see docs/architecture.md).
ScanPage Engine::ScanPlain(uint64_t cursor, std::string_view pattern, size_t count) {
  constexpr int kPositionBits = 57;
  constexpr uint64_t kPositionMask = (uint64_t{1} << kPositionBits) - 1;
  ScanPage page;
  size_t shard_index = cursor >> kPositionBits;
  uint64_t position = cursor & kPositionMask;
  if (count == 0) count = 10;
  const int64_t now = clock_.NowMs();
  std::vector<std::pair<uint64_t, std::string_view>> candidates;
  size_t remaining = count;
  while (shard_index < kShardCount && remaining > 0) {
    Shard& shard = *shards_[shard_index];
    std::lock_guard<std::mutex> lock(shard.mu);
    // COUNT is a hint (as in Redis): take at least an eighth of the shard per
    // call, so a full scan costs O(keys) overall, not O(keys^2 / COUNT).
    const size_t take = std::max(remaining, shard.plain.size() / 8 + 1);
    candidates.clear();
    for (const auto& [key, entry] : shard.plain) {
      uint64_t pos = StableHash(key) >> (64 - kPositionBits);
      if (pos >= position) candidates.emplace_back(pos, key);
    }
    if (candidates.size() > take) {
      // The `take` smallest positions, plus any others sharing the boundary
      // position (keys of one position are never split across pages).
      std::nth_element(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(take - 1),
                       candidates.end());
      const uint64_t boundary = candidates[take - 1].first;
      auto rest = std::partition(candidates.begin() + static_cast<std::ptrdiff_t>(take), candidates.end(),
                                 [boundary](const auto& c) { return c.first == boundary; });
      uint64_t next = UINT64_MAX;
      for (auto it = rest; it != candidates.end(); ++it) next = std::min(next, it->first);
      candidates.erase(rest, candidates.end());
      for (const auto& [pos, key] : candidates) {
        const PlainEntry& entry = shard.plain.find(key)->second;
        if (entry.expire_at_ms != 0 && entry.expire_at_ms <= now) continue;
        if (pattern.empty() || GlobMatch(pattern, key)) page.keys.emplace_back(key);
      }
      if (next != UINT64_MAX) {
        page.next_cursor = (uint64_t{shard_index} << kPositionBits) | next;
      } else {
        page.next_cursor = shard_index + 1 >= kShardCount ? 0 : (uint64_t{shard_index + 1} << kPositionBits);
      }
      return page;
    }
    for (const auto& [pos, key] : candidates) {
      const PlainEntry& entry = shard.plain.find(key)->second;
      if (entry.expire_at_ms != 0 && entry.expire_at_ms <= now) continue;
      if (pattern.empty() || GlobMatch(pattern, key)) page.keys.emplace_back(key);
    }
    remaining -= std::min(remaining, candidates.size());
    ++shard_index;
    position = 0;
  }
  page.next_cursor = shard_index >= kShardCount ? 0 : (uint64_t{shard_index} << kPositionBits);
  return page;
}

KeyspaceStats Engine::PlainStats() {
  KeyspaceStats stats;
  for (auto& shard : shards_) {
    std::lock_guard<std::mutex> lock(shard->mu);
    stats.keys += shard->plain.size();
    stats.keys_with_expiry += shard->keys_with_expiry;
  }
  return stats;
}

CounterMemoryStats Engine::CounterStats() {
  CounterMemoryStats stats;
  for (auto& shard : shards_) {
    std::lock_guard<std::mutex> lock(shard->mu);
    stats.owners += shard->owners.size();
    stats.counters += shard->counter_slab.size();
    stats.dirty_counters += shard->dirty_counters.size();
    for (const auto& [cell, value] : shard->cold) {
      if (cell.interval < kIntervalCount) ++stats.pending_cells[cell.interval];
    }
    stats.inflight_cells += shard->inflight.size();
    stats.pending_event_ids += shard->seen_ids.size();
  }
  return stats;
}

// ---------------------------------------------------------------------------
// Compaction

Status Engine::CompactShard(size_t index) {
  Status s = CompactOneShard(index);
  Status trimmed = TrimCompactedLogs();
  Status published = PublishFeeds();
  if (!s.ok()) return s;
  return trimmed.ok() ? published : trimmed;
}

Status Engine::TrimCompactedLogs() {
  std::lock_guard<std::mutex> compaction_lock(compaction_mu_);
  bool any = false;
  for (uint64_t through : pending_trims_) any = any || through > 0;
  if (!any) return Status::Ok();
  // One fsync makes every compacted batch (checkpoints and cells) durable;
  // only then may the log entries they cover go.
  Status s = store_->SyncLog();
  if (!s.ok()) return s;
  storage::WriteBatch trims(*store_);
  for (size_t index = 0; index < kShardCount; ++index) {
    if (pending_trims_[index] == 0) continue;
    trims.DeleteRange(Family::kLog, lf::LogKey(static_cast<uint16_t>(index), 0),
                      lf::LogKey(static_cast<uint16_t>(index), pending_trims_[index] + 1));
  }
  s = store_->Write(trims, false);
  // A failed trim is retried by the next run (the checkpoints stay): the
  // entries it covers are skipped by replay meanwhile.
  if (s.ok()) pending_trims_.fill(0);
  return s;
}

Status Engine::CompactOneShard(size_t index) {
  std::lock_guard<std::mutex> compaction_lock(compaction_mu_);
  auto started = std::chrono::steady_clock::now();
  Shard& shard = *shards_[index];
  struct Change {
    std::string key;
    std::optional<std::string> encoded;  // nullopt = delete
  };
  std::vector<Change> changes;
  uint64_t checkpoint = 0;
  uint64_t lock_held_us = 0;
  {
    std::lock_guard<std::mutex> lock(shard.mu);
    auto locked_at = std::chrono::steady_clock::now();
    const int64_t now = clock_.NowMs();
    // Reap expired keys so they leave the kv family too.
    for (auto it = shard.plain.begin(); shard.keys_with_expiry > 0 && it != shard.plain.end();) {
      auto current = it++;
      if (current->second.expire_at_ms != 0 && current->second.expire_at_ms <= now) {
        if (!current->second.dirty) shard.dirty_plain.push_back(current->first);
        if (current->second.expire_at_ms != 0) --shard.keys_with_expiry;
        shard.plain.erase(current);
      }
    }
    changes.reserve(shard.dirty_plain.size());
    for (std::string& key : shard.dirty_plain) {
      auto it = shard.plain.find(key);
      if (it == shard.plain.end()) {
        changes.push_back({std::move(key), std::nullopt});
      } else if (it->second.dirty) {
        it->second.dirty = false;
        changes.push_back({std::move(key), lf::EncodeKvValue(it->second.expire_at_ms, it->second.value)});
      }  // else: listed twice, already taken
    }
    shard.dirty_plain.clear();
    checkpoint = shard.log.last_seq();
    shard.log.Seal();
    SnapshotCounters(shard);
    lock_held_us = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - locked_at).count());
  }
  compaction_stats_.max_lock_held_us = std::max(compaction_stats_.max_lock_held_us, lock_held_us);
  storage::WriteBatch batch(*store_);
  size_t counter_cells = 0;
  Status counter_status = CompactCounters(shard, index, batch, &counter_cells);
  if (!counter_status.ok()) {
    FinishCounterCompaction(shard, false);
    return counter_status;
  }
  if (checkpoint == shard.compacted_through && changes.empty() && counter_cells == 0) {
    FinishCounterCompaction(shard, true);
    return Status::Ok();
  }

  for (const Change& change : changes) {
    if (change.encoded) {
      batch.Put(Family::kKv, change.key, *change.encoded);
    } else {
      batch.Delete(Family::kKv, change.key);
    }
  }
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
  Status s = wal_->WaitDurable(wal_->Ticket());
  if (s.ok()) s = store_->Write(batch, false);
  FinishCounterCompaction(shard, s.ok());
  if (!s.ok()) {
    // The snapshot was not written: put the keys back on the dirty list so the
    // next compaction retries them. The log still holds every change.
    std::lock_guard<std::mutex> lock(shard.mu);
    for (Change& change : changes) {
      auto it = shard.plain.find(change.key);
      if (it != shard.plain.end()) {
        if (!it->second.dirty) {
          it->second.dirty = true;
          shard.dirty_plain.push_back(std::move(change.key));
        }
      } else {
        shard.dirty_plain.push_back(std::move(change.key));
      }
    }
    compaction_stats_.failures++;
    return s;
  }
  {
    std::lock_guard<std::mutex> lock(shard.mu);
    shard.compacted_through = checkpoint;
  }
  pending_trims_[index] = checkpoint;
  compaction_stats_.runs++;
  compaction_stats_.keys_written += changes.size() + counter_cells;
  compaction_stats_.last_duration_us = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count());
  compaction_stats_.last_success_ms = clock_.NowMs();
  return Status::Ok();
}

Status Engine::CompactAll() {
  Status first_error;
  for (size_t i = 0; i < kShardCount; ++i) {
    Status s = CompactOneShard(i);
    if (!s.ok() && first_error.ok()) first_error = s;
  }
  Status trimmed = TrimCompactedLogs();
  if (!trimmed.ok() && first_error.ok()) first_error = trimmed;
  // One sync for every shard's feed records (not one per shard).
  Status published = PublishFeeds();
  if (!published.ok() && first_error.ok()) first_error = published;
  return first_error;
}

uint64_t Engine::UncompactedEntries() {
  uint64_t entries = 0;
  for (auto& shard : shards_) {
    std::lock_guard<std::mutex> lock(shard->mu);
    entries += shard->log.last_seq() - shard->compacted_through;
  }
  return entries;
}

CompactionStats Engine::compaction_stats() const {
  std::lock_guard<std::mutex> lock(compaction_mu_);
  return compaction_stats_;
}

}  // namespace tally::core
