#pragma once
// The plain Redis-compatible keyspace (GET, SET, INCR, EXPIRE, SCAN, ...): a
// key's value and expiry, sharded by the key itself.
//
// Memory holds every live key (the `kv` family is loaded at recovery).
// Writes log the key's complete state after the change (PlainPut) or its
// removal (PlainDel), never a delta, so replaying an entry twice is harmless.
// Expired keys are removed on access and reaped at compaction, without a log
// entry: the expiry already in the logged PlainPut makes replay drop them.
//
// Thread-safe: every op takes its key's shard lock (core/shard_set.h).

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/distinct_sketch.h"
#include "core/engine_module.h"
#include "core/op_result.h"
#include "core/shard_set.h"
#include "core/string_map.h"
#include "storage/store.h"

namespace tally::core {

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

class KeyspaceModule final : public EngineModule {
 public:
  KeyspaceModule(ShardSet& shards, storage::Store& store, const Clock& clock);

  // Calls `read(std::string_view value)` under the shard lock if the key
  // exists; false if not.
  template <typename Reader>
  bool Read(std::string_view key, Reader&& read);
  // Applies SET; `old_value` (if given) receives the previous value (SET ... GET).
  // False when the condition (NX, XX) held the write back.
  OpResult<bool> Set(std::string_view key, std::string_view value, const SetOptions& options,
                     std::optional<std::string>* old_value = nullptr);
  OpResult<int64_t> IncrBy(std::string_view key, int64_t delta);
  // APPEND: adds `suffix` to the key's value (creating it, without an expiry,
  // if absent; an existing expiry is kept). The value's new length.
  OpResult<int64_t> Append(std::string_view key, std::string_view suffix);
  // False if the key did not exist. `old_value` (if given) receives the
  // value it held (GETDEL).
  OpResult<bool> Delete(std::string_view key, std::optional<std::string>* old_value = nullptr);
  bool Exists(std::string_view key);
  // Sets an absolute expiry; an expiry at or before now deletes the key (as
  // Redis does). False if the key does not exist or the condition (EXPIRE
  // NX|XX|GT|LT) fails. `value` (if given) receives the key's value whenever
  // the key exists, whether or not the expiry changes (GETEX).
  OpResult<bool> Expire(std::string_view key, int64_t expire_at_ms,
                        ExpireCondition condition = ExpireCondition::kAlways,
                        std::optional<std::string>* value = nullptr);
  // Removes the expiry (PERSIST); false if none or no key. `value` as for Expire.
  OpResult<bool> Persist(std::string_view key, std::optional<std::string>* value = nullptr);
  // -2 no key, -1 no expiry, else milliseconds left.
  int64_t Pttl(std::string_view key);
  // -2 no key, -1 no expiry, else the expiry as unix milliseconds (PEXPIRETIME).
  int64_t ExpireAtMs(std::string_view key);
  // SCAN: see docs/architecture.md for the cursor and the cost.
  ScanPage Scan(uint64_t cursor, std::string_view pattern, size_t count);
  // O(shards), one shard lock at a time.
  KeyspaceStats Sizes();

  // ---- HyperLogLog values (PFADD, PFCOUNT, PFMERGE) ---------------------
  // A key holding a distinct-count sketch stores kSketchMagic, a fixed64 LE
  // cached count + 1 (0: not counted since the sketch last changed), then
  // DistinctSketch::Encode(); any other value is a plain string (kWrongType).
  static constexpr std::string_view kSketchMagic = "TLYH";
  static constexpr size_t kSketchHeaderSize = 4 + 8;
  // PFADD: adds the members to the key's sketch, creating the key (without
  // an expiry) if absent. True if the key was created or its sketch changed.
  // Logs only the hashes that changed it (kPlainSketchAdd).
  OpResult<bool> SketchAdd(std::string_view key, std::span<const std::string_view> members);
  // The key's sketch; an empty one if the key does not exist.
  OpResult<DistinctSketch> ReadSketch(std::string_view key);
  // PFCOUNT of one key: its sketch's count (0 if absent), kept in the value
  // until the sketch changes, as Redis does, so repeated counts are cheap.
  OpResult<uint64_t> CountSketch(std::string_view key);
  // PFMERGE: the key's sketch becomes the union of itself and `sources`
  // (the key is created if absent; its expiry is kept). Logged as the whole
  // value (PlainPut): the sources may live on other shards.
  OpResult<bool> MergeSketch(std::string_view key, const DistinctSketch& sources);

  // EngineModule
  std::string_view name() const override { return "keyspace"; }
  std::vector<storage::log_format::Op> log_ops() const override;
  storage::Status LoadCompacted() override;
  storage::Status Replay(const storage::log_format::Entry& entry, const ReplayContext& context) override;
  void Snapshot(const ShardRef& shard) override;
  storage::Status WriteSnapshot(CompactionBatch& batch) override;
  void FinishSnapshot(const ShardRef& shard, bool ok) override;
  ModuleStats Stats() override;

 private:
  struct Entry {
    std::string value;
    int64_t expire_at_ms = 0;  // 0 = none
    bool dirty = false;        // changed since the last compaction (listed in dirty)
  };
  // A change compaction writes: the key's state, or nullopt for a delete.
  struct Change {
    std::string key;
    std::optional<std::string> encoded;  // kv value (expiry | value); nullopt = delete
  };
  // One shard's keys. Protected by the shard's mutex.
  struct alignas(64) Shard {
    StringMap<Entry> keys;
    // Keys changed since the last compaction; may repeat (see Snapshot).
    std::vector<std::string> dirty;
    uint64_t keys_with_expiry = 0;
    // Taken by Snapshot; written by WriteSnapshot on the compaction thread
    // (the only one touching it until FinishSnapshot).
    std::vector<Change> snapshot;
  };

  // REQUIRE the shard's lock.
  // Finds a live entry, removing it if expired.
  Entry* FindLive(Shard& shard, std::string_view key, int64_t now_ms);
  void MarkDirty(Shard& shard, std::string_view key, Entry* entry);
  void Remove(Shard& shard, std::string_view key, Entry& entry);
  static void LogPut(const ShardRef& ref, std::string_view key, const Entry& entry);
  // The sketch in a stored value; nullopt if the value is not one.
  static std::optional<DistinctSketch> SketchOf(std::string_view value);
  static std::string SketchValue(const DistinctSketch& sketch);
  static bool IsDenseSketchValue(std::string_view value);
  // Adds the hashes to the sketch held in `value` ("" = an empty one) and
  // stores it back; `changed` (if given) gets the hashes that changed it.
  // False if `value` is not a sketch (nothing changed).
  static bool AddToSketchValue(std::string& value, std::span<const uint64_t> hashes, std::vector<uint64_t>* changed);
  storage::Status ReplaySketchAdd(std::string_view payload, int64_t now_ms);
  Shard& state(const ShardRef& ref) { return shards_[ref.index()]; }

  ShardSet& shard_set_;
  storage::Store& store_;
  const Clock& clock_;
  Shard shards_[kShardCount];  // element i protected by shard i's mutex
};

template <typename Reader>
bool KeyspaceModule::Read(std::string_view key, Reader&& read) {
  return shard_set_.Read(key, [&](const ShardRef& ref) {
    Entry* entry = FindLive(state(ref), key, clock_.NowMs());
    if (entry == nullptr) return false;
    read(std::string_view(entry->value));
    return true;
  });
}

}  // namespace tally::core
