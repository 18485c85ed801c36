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
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/distinct_sketch.h"
#include "core/engine_module.h"
#include "core/keyspace_values.h"
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
  // SCAN: see docs/architecture.md for the cursor and the cost. `type`
  // (SCAN ... TYPE, any case): only keys of that type ("string", "hash",
  // "zset"); empty: all.
  ScanPage Scan(uint64_t cursor, std::string_view pattern, size_t count, std::string_view type = {});
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

  // ---- Hashes, sorted sets, INCRBYFLOAT, FLUSHDB ------------------------
  // (core/keyspace_hashes.cc, core/keyspace_sorted_sets.cc.) A key holds one
  // type (ValueType): an op on a key of another type answers kWrongKind
  // (Redis's WRONGTYPE) and changes nothing; SET replaces any type. A hash
  // or sorted set left empty is removed. A change logs only the fields or
  // members it set (their new absolute values) or removed (kPlainHashSet,
  // kPlainHashDel, kPlainZsetSet, kPlainZsetRem), never the whole value;
  // compaction writes a changed key's whole value as one kv row.

  // The key's type; nullopt if it does not exist.
  std::optional<ValueType> TypeOf(std::string_view key);
  // Call read(value) under the shard lock when the key holds that type
  // (std::string_view, const HashValue&, const SortedSet&); false if the
  // key does not exist, kWrongKind if it holds another type.
  template <typename Reader>
  OpResult<bool> ReadString(std::string_view key, Reader&& read);
  template <typename Reader>
  OpResult<bool> ReadHash(std::string_view key, Reader&& read);
  template <typename Reader>
  OpResult<bool> ReadSortedSet(std::string_view key, Reader&& read);

  // HSET: `pairs` is field, value, field, value, ...; the number of fields
  // that were new. HSETNX (only_if_absent): sets only a new field; 1 if set.
  OpResult<int64_t> HashSet(std::string_view key, std::span<const std::string_view> pairs, bool only_if_absent = false);
  // HDEL: the number of fields removed.
  OpResult<int64_t> HashDelete(std::string_view key, std::span<const std::string_view> fields);
  // HINCRBY: the field's new value (kHashNotInteger, kOverflow).
  OpResult<int64_t> HashIncrBy(std::string_view key, std::string_view field, int64_t delta);
  // HINCRBYFLOAT: the field's new value as stored and replied, Redis's
  // FormatLongDouble (kHashNotFloat, kNanOrInfinity).
  OpResult<std::string> HashIncrByFloat(std::string_view key, std::string_view field, long double delta);
  // INCRBYFLOAT on a string key (kNotFloat, kNanOrInfinity); keeps the expiry.
  OpResult<std::string> IncrByFloat(std::string_view key, long double delta);

  struct SortedSetAddOptions {
    bool only_new = false;       // NX
    bool only_existing = false;  // XX
    bool only_greater = false;   // GT
    bool only_less = false;      // LT
    bool increment = false;      // INCR / ZINCRBY: the score is added
  };
  struct SortedSetAddResult {
    int64_t added = 0;
    int64_t updated = 0;   // existing members whose score changed
    bool applied = false;  // INCR: whether the member was added or updated (the reply is nil if not)
    double score = 0;      // INCR: the member's new score
  };
  // ZADD / ZINCRBY: the (score, member) pairs, applied in order as Redis
  // does (kScoreNan when an increment makes NaN: the pairs before it stay).
  OpResult<SortedSetAddResult> SortedSetAdd(std::string_view key, const SortedSetAddOptions& options,
                                            std::span<const std::pair<double, std::string_view>> pairs);
  // ZREM: the number of members removed.
  OpResult<int64_t> SortedSetRemove(std::string_view key, std::span<const std::string_view> members);
  // ZPOPMIN / ZPOPMAX: removes and returns up to `count` members from the
  // low (or high) end, in pop order.
  OpResult<std::vector<std::pair<std::string, double>>> SortedSetPop(std::string_view key, size_t count, bool highest);

  // FLUSHDB / FLUSHALL: removes every plain key (strings, HyperLogLogs,
  // hashes, sorted sets), a shard at a time under its lock, with one
  // kPlainFlush log entry per shard. Not counters, plans, quotas, meters or
  // distinct counts: they are not Redis data. Run it inside
  // Engine::Atomically(kAllShards, ...) to make it one atomic step.
  OpResult<bool> Flush();

  // ---- WATCH (optimistic transactions) ----------------------------------
  // A watched key's version changes with every change to the key (a write,
  // a delete, an expiry found on access, FLUSHDB). Watch registers one
  // watcher and returns the version now; KeyChangedSince compares (call it
  // inside the EXEC's atomic scope); Unwatch drops the watcher (every Watch
  // needs one: the registry holds a key only while someone watches it).
  uint64_t Watch(std::string_view key);
  bool KeyChangedSince(std::string_view key, uint64_t version);
  void Unwatch(std::string_view key);

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
    std::string value;         // kString
    int64_t expire_at_ms = 0;  // 0 = none
    bool dirty = false;        // changed since the last compaction (listed in dirty)
    ValueType type = ValueType::kString;
    std::unique_ptr<CollectionValue> collection;  // kHash: a HashValue; kSortedSet: a SortedSet
    HashValue& hash() { return static_cast<HashValue&>(*collection); }
    SortedSet& zset() { return static_cast<SortedSet&>(*collection); }
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
    // Keys some client WATCHes: their version and how many watch them.
    // Empty unless a transaction is being prepared (one check per change).
    struct Watched {
      uint64_t version = 0;
      uint32_t watchers = 0;
    };
    StringMap<Watched> watched;
    uint64_t watch_clock = 0;  // the last version given
    // Taken by Snapshot; written by WriteSnapshot on the compaction thread
    // (the only one touching it until FinishSnapshot).
    std::vector<Change> snapshot;
  };

  // REQUIRE the shard's lock.
  // Finds a live entry, removing it if expired.
  Entry* FindLive(Shard& shard, std::string_view key, int64_t now_ms);
  void MarkDirty(Shard& shard, std::string_view key, Entry* entry);
  void Remove(Shard& shard, std::string_view key, Entry& entry);
  // A change to `key`: a new version if someone watches it.
  static void TouchWatched(Shard& shard, std::string_view key) {
    if (shard.watched.empty()) [[likely]]
      return;
    if (auto it = shard.watched.find(key); it != shard.watched.end()) it->second.version = ++shard.watch_clock;
  }
  static void LogPut(const ShardRef& ref, std::string_view key, const Entry& entry);
  // Hashes and sorted sets (core/keyspace_hashes.cc). True if `entry` is
  // absent or holds `type`.
  static bool Holds(const Entry* entry, ValueType type) { return entry == nullptr || entry->type == type; }
  // A new key holding an empty value of `type`.
  Entry& CreateCollection(Shard& shard, std::string_view key, ValueType type);
  // Makes `entry` a string (SET over a hash).
  static void MakeString(Entry& entry) {
    entry.type = ValueType::kString;
    entry.collection.reset();
  }
  // The kv row of an entry (compaction).
  static std::string EncodeRow(const Entry& entry);
  // LoadCompacted's step for a hash's or sorted set's row.
  void LoadTypedRow(Shard& shard, std::string_view key, std::string_view encoded, int64_t now_ms);
  storage::Status ReplayCollection(const storage::log_format::Entry& entry, const ReplayContext& context);
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
    if (entry == nullptr || entry->type != ValueType::kString) return false;  // MGET: nil for a hash
    read(std::string_view(entry->value));
    return true;
  });
}

template <typename Reader>
OpResult<bool> KeyspaceModule::ReadString(std::string_view key, Reader&& read) {
  return shard_set_.Read(key, [&](const ShardRef& ref) {
    Entry* entry = FindLive(state(ref), key, clock_.NowMs());
    if (entry == nullptr) return OpResult<bool>::Ok(false);
    if (entry->type != ValueType::kString) return OpResult<bool>::Error(OpStatus::kWrongKind);
    read(std::string_view(entry->value));
    return OpResult<bool>::Ok(true);
  });
}

template <typename Reader>
OpResult<bool> KeyspaceModule::ReadHash(std::string_view key, Reader&& read) {
  return shard_set_.Read(key, [&](const ShardRef& ref) {
    Entry* entry = FindLive(state(ref), key, clock_.NowMs());
    if (entry == nullptr) return OpResult<bool>::Ok(false);
    if (entry->type != ValueType::kHash) return OpResult<bool>::Error(OpStatus::kWrongKind);
    read(static_cast<const HashValue&>(entry->hash()));
    return OpResult<bool>::Ok(true);
  });
}

template <typename Reader>
OpResult<bool> KeyspaceModule::ReadSortedSet(std::string_view key, Reader&& read) {
  return shard_set_.Read(key, [&](const ShardRef& ref) {
    Entry* entry = FindLive(state(ref), key, clock_.NowMs());
    if (entry == nullptr) return OpResult<bool>::Ok(false);
    if (entry->type != ValueType::kSortedSet) return OpResult<bool>::Error(OpStatus::kWrongKind);
    read(static_cast<const SortedSet&>(entry->zset()));
    return OpResult<bool>::Ok(true);
  });
}

}  // namespace tally::core
