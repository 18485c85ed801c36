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
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/calendar.h"
#include "core/clock.h"
#include "core/hash.h"
#include "core/op_result.h"
#include "storage/feed_format.h"
#include "storage/log_format.h"
#include "storage/status.h"
#include "storage/store.h"
#include "storage/wal.h"

namespace tally::core {

// Fixed forever for a data dir: a key's shard orders its log entries.
inline constexpr size_t kShardCount = 64;

struct CounterOptions;
// The RocksDB compaction filter's view of retention (cells and event ids).
std::unique_ptr<storage::RetentionPolicy> MakeRetentionPolicy(const CounterOptions& options, const Clock& clock);

// Owner and key names: 1-128 bytes of A-Z a-z 0-9 _ . : @ - (SPEC §1).
bool ValidName(std::string_view name);
// Event ids: 1-128 printable ASCII bytes without spaces.
bool ValidEventId(std::string_view id);

struct CounterOptions {
  TimeZone default_time_zone = TimeZone::Utc();
  int64_t dedupe_window_ms = 7ll * 86400 * 1000;
  // Per interval (indexed by Interval): how long cells are kept; 0 = forever.
  int64_t retention_ms[kIntervalCount] = {0, 7ll * 86400 * 1000, 400ll * 86400 * 1000, 0, 0, 0, 0};
  // How long changefeed records are kept (CHANGES.READ); 0 = forever.
  int64_t changes_retention_ms = 7ll * 86400 * 1000;
};

struct EngineOptions {
  std::string data_dir;
  bool fsync_each_write = false;  // durability=fsync
  size_t block_cache_bytes = 64ull << 20;
  CounterOptions counters;
};

// One cell to set (CTR.SET / RESET / RECOUNT).
struct CellAssignment {
  Interval interval;
  PeriodId period;
  int64_t value;
};

struct CounterIncrement {
  std::string_view owner;
  std::string_view key;
  int64_t delta = 0;
  int64_t event_ms = 0;       // when it happened (the caller checked the AT bounds)
  std::string_view event_id;  // empty: none
};

struct IncrementResult {
  int64_t total = 0;
  bool duplicate = false;  // the event id was seen within the dedupe window; nothing applied
};

struct RankedOwner {
  std::string owner;
  int64_t value;
};

// Which cells of an owner Engine::OwnerCells returns.
struct CellFilter {
  std::string_view key;              // empty: every key
  std::optional<Interval> interval;  // nullopt: total and every interval
  std::optional<PeriodId> period;    // with an interval: only that period; nullopt: every period
};

// One cell of an owner (CTR.CELLS: the admin table and export).
struct CellRow {
  std::string key;
  Interval interval;
  PeriodId period;
  int64_t value;
};

struct OwnersPage {
  std::string next_cursor;  // empty: done
  std::vector<std::string> owners;
};

// Who made an administrative change (CTR.SET/RESET/RECOUNT/DEL): the op logs
// an audit record with before/after values in the same entry as the change.
struct AuditInfo {
  std::string_view actor;    // 1-128 printable ASCII bytes (ValidActor)
  std::string_view command;  // "CTR.SET", ...
};
// Actors: 1-128 bytes of printable ASCII (spaces allowed, not first or last).
bool ValidActor(std::string_view actor);

// ---- changefeed and audit trail (engine_feed.cc, docs/changefeed.md) ----
// Sequence numbers of both feeds are global, dense (1, 2, 3, ...) and given at
// compaction, in the same RocksDB batch as the cells and the checkpoint: a
// record is only ever readable once it is durable, and a seq never changes
// meaning, across crashes and restarts.
enum class FeedCursor {
  kOk,
  kTooOld,  // records after `since` were trimmed (retention): the reader lost changes
  kAhead,   // `since` is past the newest record (a cursor of another data dir?)
};

// One changed cell (or a deletion). Upserts carry the cell's absolute value
// after the change (a record may repeat an unchanged value).
struct ChangeEntry {
  uint64_t seq = 0;
  std::string owner;
  std::string key;
  std::optional<Interval> interval;  // nullopt: a delete of every cell of the counter
  std::string period;                // label in the owner's zone; empty for deletes
  std::optional<int64_t> value;      // nullopt: delete (every period of `interval`, or every cell)
};

struct ChangesPage {
  FeedCursor cursor = FeedCursor::kOk;
  uint64_t next = 0;    // the last seq returned, or `since` when nothing is new
  uint64_t oldest = 0;  // the oldest seq still kept (newest + 1 when none is kept)
  uint64_t newest = 0;  // the newest readable seq (0: none yet)
  std::vector<ChangeEntry> records;
};

struct AuditEntry {
  uint64_t seq = 0;
  int64_t time_ms = 0;
  std::string actor;
  std::string command;
  std::string owner;
  std::string key;
  std::string details;  // JSON object, e.g. {"cells":[{"interval":"day","period":"2024-12-04","before":3,"after":10}]}
};

struct AuditPage {
  FeedCursor cursor = FeedCursor::kOk;
  uint64_t next = 0;
  uint64_t oldest = 0;
  uint64_t newest = 0;
  std::vector<AuditEntry> records;
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

// Counter state in memory (for metrics): counted under each shard's lock,
// nothing read from RocksDB.
struct CounterMemoryStats {
  uint64_t owners = 0;          // owner names interned in memory
  uint64_t counters = 0;        // counters in memory (total + one hot cell per rollup interval)
  uint64_t dirty_counters = 0;  // counters changed since the last compaction
  // Changed non-hot cells waiting for compaction (late events, SET of past
  // periods, rolled-over hot cells), by Interval.
  uint64_t pending_cells[kIntervalCount] = {};
  uint64_t inflight_cells = 0;     // cells a running compaction is writing
  uint64_t pending_event_ids = 0;  // event ids seen since the last compaction
};

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
  // O(shards + changed cells), one shard lock at a time.
  CounterMemoryStats CounterStats();

  // ---- counters (SPEC §1-§3) ----------------------------------------------
  // Names must already be valid (see ValidName). Reads include every change,
  // compacted or not.
  OpResult<IncrementResult> Increment(const CounterIncrement& increment);
  OpResult<int64_t> ReadCell(std::string_view owner, std::string_view key, Interval interval, PeriodId period);
  // Every key of the owner with its value in the cell (interval, period), sorted by key.
  OpResult<std::vector<std::pair<std::string, int64_t>>> ReadOwnerCells(std::string_view owner, Interval interval,
                                                                        PeriodId period);
  // Values of periods [from, to] of one interval (inclusive), oldest first; absent cells are 0.
  OpResult<std::vector<std::pair<PeriodId, int64_t>>> ReadRange(std::string_view owner, std::string_view key,
                                                                Interval interval, PeriodId from, PeriodId to);
  // Sum of the cells of the interval in [from, to] (each bound optional):
  // only cells that hold a value are visited, however long the range.
  OpResult<int64_t> SumCells(std::string_view owner, std::string_view key, Interval interval,
                             std::optional<PeriodId> from, std::optional<PeriodId> to);
  // Sets cells (all in one atomic step; the log entry holds them together).
  // With `audit`, the same entry carries the audit record (before/after).
  OpResult<bool> AssignCells(std::string_view owner, std::string_view key, const std::vector<CellAssignment>& cells,
                             const AuditInfo* audit = nullptr);
  // Removes every cell of the counter, or every period of one interval.
  // Replies how many cells existed. With `audit`, as AssignCells.
  OpResult<int64_t> DeleteCells(std::string_view owner, std::string_view key, std::optional<Interval> interval,
                                const AuditInfo* audit = nullptr);

  // ---- changefeed and audit trail (engine_feed.cc) -------------------------
  // Records with seq > since, in order, at most `limit`. Only what compaction
  // has written (and synced) is visible: a change shows up after the next
  // compaction (CompactAll). A cursor older than the oldest kept record, or
  // past the newest, is reported in `cursor` (no records).
  // kStorageFailed when RocksDB cannot be read or a blob does not decode.
  OpResult<ChangesPage> ReadChanges(uint64_t since, size_t limit);
  OpResult<AuditPage> ReadAudit(uint64_t since, size_t limit);
  // Owners ranked by their cell (key, interval, period): highest first, ties by owner.
  std::vector<RankedOwner> Top(std::string_view key, Interval interval, PeriodId period, size_t limit,
                               std::string_view owner_prefix);
  OwnersPage ListOwners(std::string_view prefix, std::string_view cursor, size_t count);
  // The owner's cells that hold a non-zero value, in (key, interval, period)
  // order, compacted or not. Cost: one seek per key, plus one range scan per
  // key and interval when every period is asked for.
  OpResult<std::vector<CellRow>> OwnerCells(std::string_view owner, const CellFilter& filter);
  TimeZone OwnerTimeZone(std::string_view owner);
  // Loads every stored counter into memory (one cells-family pass that visits
  // one entry per counter). Run once in the background after start: when it
  // is done, memory holds every counter and CTR.TOP no longer scans the
  // by_key index. Safe to run while serving.
  storage::Status LoadStoredCounters();
  bool all_counters_loaded() const { return all_counters_loaded_.load(std::memory_order_acquire); }
  // Makes a running LoadStoredCounters return early (shutdown).
  void StopLoading() { stop_loading_.store(true, std::memory_order_release); }
  OpResult<bool> SetOwnerTimeZone(std::string_view owner, const TimeZone& zone);
  const CounterOptions& counter_options() const { return counter_options_; }

  // ---- compaction ---------------------------------------------------------
  // Folds one shard's changes into the compacted families and trims its log
  // (then publishes the feed records it wrote, see PublishFeeds).
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
    size_t operator()(std::string_view s) const {
      return absl::Hash<absl::string_view>{}(absl::string_view(s.data(), s.size()));
    }
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
  // A counter's hot state: the total and the current cell of each rollup
  // interval (the period it belongs to and its absolute value).
  struct Counter {
    int64_t total = 0;
    int64_t value[6] = {};
    int32_t period[6] = {};
    bool dirty = false;        // listed in dirty_counters
    uint8_t deleted_mask = 0;  // intervals (bit = Interval) whose stored cells are dead until compaction
  };
  struct OwnerState {
    std::string name;
    std::optional<TimeZone> zone;  // nullopt: the daemon's
    bool persisted = false;        // present in the owners family with its current zone
    // False only for an owner no compaction has written yet: none of its
    // cells can be in RocksDB, so loading its counters needs no reads.
    bool may_have_cells = false;
  };
  // A non-hot cell of a counter in memory.
  struct CellRef {
    uint64_t counter;  // (owner id << 32) | key id
    uint8_t interval;
    int64_t period;
    bool operator==(const CellRef&) const = default;
    template <typename H>
    friend H AbslHashValue(H h, const CellRef& c) {
      return H::combine(std::move(h), c.counter, c.interval, c.period);
    }
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

    // Counters. Owner and key names are interned per shard.
    absl::flat_hash_map<std::string, uint32_t, KeyHash, KeyEq> owner_ids;
    std::vector<OwnerState> owners;
    absl::flat_hash_map<std::string, uint32_t, KeyHash, KeyEq> key_ids;
    std::vector<std::string> key_names;
    // Counters live in a slab (stable addresses, no per-counter allocation,
    // no empty-slot waste); the map holds only (owner, key) -> slab index.
    // Counters are never removed from memory.
    std::deque<Counter> counter_slab;
    absl::flat_hash_map<uint64_t, uint32_t> counters;
    std::vector<uint64_t> dirty_counters;
    std::vector<uint32_t> dirty_owners;                                  // owners to (re)write to the owners family
    absl::flat_hash_map<CellRef, int64_t> cold;                          // changed non-hot cells (absolute values)
    absl::flat_hash_map<CellRef, int64_t> inflight;                      // cold cells a running compaction is writing
    absl::flat_hash_map<uint64_t, uint8_t> inflight_deleted;             // delete masks a running compaction applies
    absl::flat_hash_map<std::string, int64_t, KeyHash, KeyEq> seen_ids;  // owner\0key\0id -> expiry
    absl::flat_hash_map<std::string, int64_t, KeyHash, KeyEq> inflight_ids;  // being written

    // Filled under mu by SnapshotCounters, read by the compaction thread
    // (holding compaction_mu_) while it builds the batch, released by
    // FinishCounterCompaction.
    struct PendingCell {
      uint64_t counter;
      uint8_t interval;
      int64_t period;
      int64_t value;
    };
    struct PendingDelete {
      uint64_t counter;
      uint8_t mask;
    };
    std::vector<PendingCell> snapshot_cells;
    std::vector<PendingDelete> snapshot_deletes;
    std::vector<uint64_t> snapshot_counters;
    std::vector<std::pair<std::string, std::string>> snapshot_owners;  // name, zone ("" = daemon's)
    std::vector<uint32_t> snapshot_owner_ids;

    // Audit records of administrative changes since the last compaction, in
    // log order (appended with their log entry, and at replay).
    struct PendingAudit {
      int64_t time_ms;
      std::string actor, command, owner, key, details;
    };
    std::vector<PendingAudit> audits;
    std::vector<PendingAudit> snapshot_audits;  // taken by SnapshotCounters

    storage::ShardLog log;  // appended under mu
  };

  Engine(const Clock& clock, std::unique_ptr<storage::RetentionPolicy> retention, std::unique_ptr<storage::Store> store,
         const EngineOptions& options);
  storage::Status Recover();
  static size_t ShardOf(std::string_view key) { return StableHash(key) % kShardCount; }
  Shard& ShardFor(std::string_view key) { return *shards_[ShardOf(key)]; }

  // REQUIRES: shard.mu held. Finds a live entry, removing it if expired.
  PlainEntry* FindLive(Shard& shard, std::string_view key, int64_t now_ms);
  // REQUIRES: shard.mu held.
  void MarkDirty(Shard& shard, std::string_view key, PlainEntry* entry);
  void RemoveEntry(Shard& shard, std::string_view key, PlainEntry& entry);
  void LogPut(Shard& shard, std::string_view key, const PlainEntry& entry);

  // ---- counter internals (engine_counters.cc); REQUIRE shard.mu held ----
  uint32_t InternOwner(Shard& shard, std::string_view owner);
  uint32_t InternKey(Shard& shard, std::string_view key);
  Counter& LoadCounter(Shard& shard, uint32_t owner_id, uint32_t key_id);
  // Interns owner and key and loads the counter (mutating ops and replay).
  Counter& CounterFor(Shard& shard, std::string_view owner, std::string_view key, uint64_t* counter_id);
  void SetZoneLocked(Shard& shard, std::string_view owner, const TimeZone& zone);
  const TimeZone& ZoneOf(const Shard& shard, uint32_t owner_id) const;
  // Key names of the owner's counters: stored ones (one seek per key) and
  // those in memory. REQUIRES: shard.mu held.
  std::set<std::string> OwnerKeysLocked(Shard& shard, std::string_view owner);
  // Lookup-only helpers for reads, which never intern or load anything.
  Counter* FindCounter(Shard& shard, std::string_view owner, std::string_view key, uint64_t* counter_id);
  int64_t ReadStoredCell(std::string_view owner, std::string_view key, uint8_t interval, int64_t period);
  const TimeZone& ZoneForRead(Shard& shard, std::string_view owner, std::optional<TimeZone>* storage);
  // The cells of one interval that hold a value, stored and in memory, within
  // [from, to] when given. `counter` may be null (not in memory).
  std::map<int64_t, int64_t> IntervalCells(Shard& shard, std::string_view owner, std::string_view key,
                                           const Counter* counter, uint64_t counter_id, uint8_t interval,
                                           std::optional<int64_t> from, std::optional<int64_t> to);
  int64_t StoredCell(Shard& shard, uint64_t counter_id, const Counter& counter, uint8_t interval, int64_t period);
  int64_t CellValueLocked(Shard& shard, uint64_t counter_id, const Counter& counter, Interval interval,
                          PeriodId period);
  bool SeenEvent(Shard& shard, const std::string& dedupe_key, int64_t now);
  OpStatus ApplyIncrement(Shard& shard, uint64_t counter_id, Counter& counter, int64_t delta,
                          const int64_t (&periods)[6]);
  void ApplyAssign(Shard& shard, uint64_t counter_id, Counter& counter, const storage::log_format::CellValue& cell);
  void ApplyDelete(Shard& shard, uint64_t counter_id, Counter& counter, uint8_t mask);
  void MarkCounterDirty(Shard& shard, uint64_t counter_id, Counter& counter);
  // Appends an administrative change (`inner_entry`, encoded) and its audit
  // record as ONE log entry, and queues the record for the next compaction.
  void LogAudited(Shard& shard, const AuditInfo& audit, std::string_view owner, std::string_view key,
                  std::string details, std::string_view inner_entry);
  storage::Status ReplayCounterEntry(const storage::log_format::Entry& entry, int64_t now);
  void SnapshotCounters(Shard& shard);
  storage::Status CompactCounters(Shard& shard, size_t index, storage::WriteBatch& batch, size_t* written);
  void FinishCounterCompaction(Shard& shard, bool ok);

  // ---- feeds (engine_feed.cc) -----------------------------------------------
  // Appends this shard compaction's change records (collected in `changes`,
  // which starts at changes_next_) and audit records to `batch`, with the
  // next seqs in meta, as tentative seqs. REQUIRES: compaction_mu_.
  void AppendFeeds(Shard& shard, storage::feed_format::ChangeBlobWriter& changes, storage::WriteBatch& batch,
                   size_t* written);
  // After the shard's batch: makes the tentative seqs final (ok) or drops them.
  void FinishFeeds(bool ok);
  storage::Status LoadFeeds();
  storage::Status CompactOneShard(size_t shard);
  // Syncs RocksDB's log and makes every feed record written so far readable;
  // trims change records past their retention. Takes compaction_mu_.
  storage::Status PublishFeeds();
  // Deletes the log entries that compactions since the last call covered,
  // after one fsync of what they wrote.
  storage::Status TrimCompactedLogs();

  const Clock& clock_;
  CounterOptions counter_options_;
  std::unique_ptr<storage::RetentionPolicy> retention_;  // outlives store_
  std::unique_ptr<storage::Store> store_;
  std::array<std::unique_ptr<Shard>, kShardCount> shards_;
  std::unique_ptr<storage::WalWriter> wal_;
  uint64_t recovered_entries_ = 0;
  std::atomic<bool> all_counters_loaded_{false};
  std::atomic<bool> stop_loading_{false};

  mutable std::mutex compaction_mu_;  // one compaction at a time; guards stats and pending_trims_
  // Per shard: the checkpoint its last compaction wrote, whose log entries
  // TrimCompactedLogs has not deleted yet (0: none).
  std::array<uint64_t, kShardCount> pending_trims_{};
  CompactionStats compaction_stats_;

  // Feed sequence numbers. GUARDED_BY(compaction_mu_): the next seq to give
  // (committed), the tentative next of the batch being built, and the last
  // seq written to RocksDB. The atomics are what readers may see: written,
  // synced, and below the trim point.
  uint64_t changes_next_ = 1, changes_tentative_ = 1;
  uint64_t audit_next_ = 1, audit_tentative_ = 1;
  std::atomic<uint64_t> changes_visible_{0};  // newest readable change seq
  std::atomic<uint64_t> changes_trimmed_{0};  // every change seq <= this was trimmed
  std::atomic<uint64_t> audit_visible_{0};
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
