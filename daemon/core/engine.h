#pragma once
// The engine: tally's state, sharded by owner (or plain key), plus the
// write-ahead log and compaction that make it durable. No sockets here.
//
// Threading: every shard has a mutex held for the few hundred nanoseconds of
// one operation; any I/O thread may run any operation. Each mutating op
// applies its change in memory and appends its log entry under that lock; the
// caller acknowledges the write only after WaitDurable() of a ticket taken
// after the op (see storage/wal.h).
//
// Recovery (Open): load the compacted state, then replay the log entries past
// each shard's checkpoint. Compaction (CompactShard): under the shard lock,
// snapshot the changed keys and the shard's last sequence S and seal the
// shard's log; then write the snapshot, checkpoint S and the trim of the log
// up to S in ONE atomic batch, so a crash at any point loses and doubles nothing.

#include <absl/container/flat_hash_map.h>
#include <absl/hash/hash.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/hash.h"
#include "core/op_result.h"
#include "storage/status.h"
#include "storage/store.h"
#include "storage/wal.h"

namespace tally::core {

// Fixed forever for a data dir: a key's shard orders its log entries.
inline constexpr size_t kShardCount = 64;

struct EngineOptions {
  std::string data_dir;
  bool fsync_each_write = false;  // durability=fsync
  size_t block_cache_bytes = 64ull << 20;
};

enum class SetCondition { kAlways, kIfAbsent, kIfPresent };

enum class ExpireCondition { kAlways, kIfNoExpiry, kIfHasExpiry, kIfGreater, kIfLess };

struct SetOptions {
  SetCondition condition = SetCondition::kAlways;
  int64_t expire_at_ms = 0;  // 0 = no expiry
  bool keep_ttl = false;
};

struct ScanPage {
  uint64_t next_cursor = 0;  // 0 = done
  std::vector<std::string> keys;
};

struct KeyspaceStats {
  uint64_t keys = 0;
  uint64_t keys_with_expiry = 0;
};

struct CompactionStats {
  uint64_t runs = 0;
  uint64_t keys_written = 0;
  uint64_t last_duration_us = 0;
  int64_t last_success_ms = 0;
  uint64_t failures = 0;
};

class Engine {
 public:
  // Opens the store and recovers. Fails (with a clear status) when the data dir
  // is locked by another process or unreadable.
  static storage::StatusOr<std::unique_ptr<Engine>> Open(const EngineOptions& options, const Clock& clock);
  ~Engine();

  // ---- durability -------------------------------------------------------
  uint64_t Ticket() const { return wal_->Ticket(); }
  bool IsDurable(uint64_t ticket) const { return wal_->IsDurable(ticket); }
  storage::Status WaitDurable(uint64_t ticket) { return wal_->WaitDurable(ticket); }
  storage::Status health() const { return wal_->health(); }
  // fsync RocksDB's log (durability=process: every fsync_interval_ms).
  storage::Status SyncLog() { return store_->SyncLog(); }

  // ---- plain keyspace (Redis-compatible) ---------------------------------
  // Calls `read(value)` under the shard lock if the key exists; false if not.
  template <typename Reader>
  bool ReadPlain(std::string_view key, Reader&& read);
  // Applies SET; `old_value` (if given) receives the previous value (SET ... GET).
  OpResult<bool> SetPlain(std::string_view key, std::string_view value, const SetOptions& options,
                          std::optional<std::string>* old_value = nullptr);
  OpResult<int64_t> IncrPlain(std::string_view key, int64_t delta);
  OpResult<bool> DeletePlain(std::string_view key);
  bool ExistsPlain(std::string_view key);
  // Sets an absolute expiry; an expiry at or before now deletes the key
  // (as Redis does). False if the key does not exist.
  // False if the key does not exist or the condition (EXPIRE NX|XX|GT|LT) fails.
  OpResult<bool> ExpirePlain(std::string_view key, int64_t expire_at_ms,
                             ExpireCondition condition = ExpireCondition::kAlways);
  // Removes the expiry (PERSIST); false if none or no key.
  OpResult<bool> PersistPlain(std::string_view key);
  // -2 no key, -1 no expiry, else milliseconds left.
  int64_t PttlPlain(std::string_view key);
  ScanPage ScanPlain(uint64_t cursor, std::string_view pattern, size_t count);
  KeyspaceStats PlainStats();

  // ---- compaction ---------------------------------------------------------
  // Folds one shard's changes into the compacted families and trims its log.
  storage::Status CompactShard(size_t shard);
  storage::Status CompactAll();
  // Log entries not yet folded by compaction (the trigger for an early run).
  uint64_t UncompactedEntries();
  CompactionStats compaction_stats() const;
  storage::WalStats wal_stats() const { return wal_->stats(); }
  uint64_t recovered_entries() const { return recovered_entries_; }
  // Flushes memtables (clean shutdown).
  storage::Status FlushMemtables() { return store_->FlushMemtables(); }
  storage::Store& store() { return *store_; }
  const Clock& clock() const { return clock_; }

 private:
  // Transparent hashing so lookups by std::string_view never build a string.
  // (Debian's abseil has its own string_view type, so absl's default string
  // hash does not accept std::string_view.) Not StableHash: its low bits pick
  // the shard, so within a shard they are all alike.
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return absl::Hash<absl::string_view>{}(absl::string_view(s.data(), s.size())); }
  };
  struct KeyEq {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const { return a == b; }
  };
  struct PlainEntry {
    std::string value;
    int64_t expire_at_ms = 0;  // 0 = none
    bool dirty = false;        // changed since the last compaction (listed in dirty_plain)
  };
  struct Shard {
    explicit Shard(uint16_t index) : log(index) {}
    std::mutex mu;
    // State below is protected by mu.
    absl::flat_hash_map<std::string, PlainEntry, KeyHash, KeyEq> plain;
    // Keys changed since the last compaction; may repeat (see CompactShard).
    std::vector<std::string> dirty_plain;
    uint64_t keys_with_expiry = 0;
    uint64_t compacted_through = 0;  // checkpoint: last sequence folded into the kv family
    storage::ShardLog log;  // appended under mu
  };

  Engine(const Clock& clock, std::unique_ptr<storage::Store> store, bool fsync_each_write);
  storage::Status Recover();
  static size_t ShardOf(std::string_view key) { return StableHash(key) % kShardCount; }
  Shard& ShardFor(std::string_view key) { return *shards_[ShardOf(key)]; }

  // REQUIRES: shard.mu held. Finds a live entry, removing it if expired.
  PlainEntry* FindLive(Shard& shard, std::string_view key, int64_t now_ms);
  // REQUIRES: shard.mu held.
  void MarkDirty(Shard& shard, std::string_view key, PlainEntry* entry);
  void RemoveEntry(Shard& shard, std::string_view key, PlainEntry& entry);
  void LogPut(Shard& shard, std::string_view key, const PlainEntry& entry);

  const Clock& clock_;
  std::unique_ptr<storage::Store> store_;
  std::array<std::unique_ptr<Shard>, kShardCount> shards_;
  std::unique_ptr<storage::WalWriter> wal_;
  uint64_t recovered_entries_ = 0;

  mutable std::mutex compaction_mu_;  // one compaction at a time; guards stats
  CompactionStats compaction_stats_;
};

template <typename Reader>
bool Engine::ReadPlain(std::string_view key, Reader&& read) {
  Shard& shard = ShardFor(key);
  std::lock_guard<std::mutex> lock(shard.mu);
  PlainEntry* entry = FindLive(shard, key, clock_.NowMs());
  if (entry == nullptr) return false;
  read(std::string_view(entry->value));
  return true;
}

}  // namespace tally::core
