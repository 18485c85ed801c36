#pragma once
// Counters: owners' totals and calendar rollup cells (CTR.*).
//
// Memory holds, per shard, each touched counter's total and its current
// ("hot") cell per rollup interval, as absolute values loaded from the
// `cells` family on first touch. Any other cell that changes (a late event, a
// SET of a past period, a hot cell that rolled over) is kept as an absolute
// value in `cold` until compaction writes it. Reads look, in order: hot cell,
// cold map, pending delete mask, in-flight compaction, RocksDB. Because every
// value in memory is absolute, a compaction can write its snapshot without
// holding the shard lock and a read never counts a change twice.
//
// Owners come from the owners module (ids, time zones); audited changes go
// through the feeds module (one Audited log entry with the audit record).
//
// Files: counters.cc (loading, applying, the write ops, replay),
// counter_reads.cc (point and range reads), counter_top.cc (CTR.TOP),
// counter_compaction.cc (snapshot, batch, retention, the background load).
//
// Thread-safety: every op takes its owner's shard lock; Top takes one shard
// lock at a time. Names must already be valid (ValidName).

#include <absl/container/flat_hash_map.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/calendar.h"
#include "core/clock.h"
#include "core/counter_types.h"
#include "core/engine_module.h"
#include "core/feeds.h"
#include "core/op_result.h"
#include "core/owners.h"
#include "core/read_errors.h"
#include "core/shard_set.h"
#include "core/string_map.h"
#include "storage/log_format.h"
#include "storage/store.h"

namespace tally::core {

class CountersModule final : public EngineModule, public OwnerListingSource {
 public:
  CountersModule(ShardSet& shards, storage::Store& store, const Clock& clock, OwnersModule& owners, FeedsModule& feeds,
                 const CounterOptions& options);

  // ---- writes ---------------------------------------------------------------
  // CTR.INCRBY: adds delta to the total and to the cell of every interval for
  // the event time. With an event id seen within the dedupe window: the same
  // arguments (delta, and AT if given) apply nothing and reply the current
  // total as a duplicate; other arguments are kIdConflict (nothing applied).
  // kOverflow if any cell would overflow (nothing changes, the id is not
  // recorded).
  OpResult<IncrementResult> Increment(const CounterIncrement& increment);
  // CTR.ADJUST: a correction that keeps every interval consistent. Adds
  // delta to the total and to the cell of every interval for event_ms,
  // exactly as an increment does (every cell checked for overflow first:
  // kOverflow changes nothing), but audited: the
  // change and its audit record (actor, command, before/after of the seven
  // cells) ride in ONE Audited log entry (a CounterIncr inside), so both are
  // durable together or not at all. Replies the new total. With an event id,
  // as Increment: the same arguments are a duplicate (nothing applied, no
  // audit record), other ones kIdConflict.
  OpResult<IncrementResult> Adjust(const CounterAdjustment& adjustment, const AuditInfo& audit);
  // Sets cells, of any intervals and periods (CTR.SET, RESET, RECOUNT), in
  // one atomic step: the log entry holds them together, so a crash applies
  // all of them or none. Cells apply in order (a cell named twice ends with
  // its last value). With `audit`, the same entry carries the audit record
  // (before/after).
  OpResult<bool> AssignCells(std::string_view owner, std::string_view key, const std::vector<CellAssignment>& cells,
                             const AuditInfo* audit = nullptr);
  // Removes every cell of the counter, or every period of one interval.
  // Replies how many cells held a value. When none did, nothing is logged
  // and nothing is created (not even the owner). With `audit`, as
  // AssignCells.
  OpResult<int64_t> DeleteCells(std::string_view owner, std::string_view key, std::optional<Interval> interval,
                                const AuditInfo* audit = nullptr);

  // ---- for modules whose log entries carry a counter change (quotas) --------
  // REQUIRE the owner's shard lock. The event id check of an increment:
  // nullopt when the id is new (or empty); else the duplicate's current
  // total, id_conflict, or the read failure. May load the counter.
  std::optional<OpResult<IncrementResult>> CheckEventIdLocked(const ShardRef& shard, const CounterIncrement& request,
                                                              int64_t now);
  // Increment's work under the lock: checks the event id (unless the caller
  // just did: `id_checked`), applies the increment and encodes its
  // CounterIncr entry into `entry` instead of the log, for the caller to
  // append or to nest in its own entry (whose replay dispatches it here).
  OpResult<IncrementResult> IncrementLocked(const ShardRef& shard, const CounterIncrement& request, int64_t now,
                                            bool id_checked, std::string* entry);

  // REQUIRE the owner's shard lock. Whether IncrementLocked of `request`
  // (without an event id) would apply: Ok, kOverflow, or the read failure.
  // Changes nothing (it may load the counter). A module applying several
  // increments of distinct counters in one entry checks them all first: under
  // the one lock, increments that each pass apply together.
  OpResult<bool> CheckIncrementLocked(const ShardRef& shard, const CounterIncrement& request);
  // REQUIRE the owner's shard lock. Increments of distinct counters of ONE
  // owner at ONE event time, without event ids (METER.RECORD's measures and
  // cost), as one change: every one is checked (overflow, unreadable cells)
  // before any applies, so all apply, their CounterIncr entries appended to
  // `entries`, or none does (the first failure is returned). The owner, its
  // zone's periods and each counter are resolved once, not once per check
  // and once per apply.
  OpResult<bool> IncrementAllLocked(const ShardRef& shard, std::span<const CounterIncrement> increments,
                                    std::string* entries);

  // ---- event ids that guard another module's whole request -----------------
  // METER.RECORD's ID guards one event of several counters, not one counter.
  // Such an id lives in the counters' dedupe window and family like theirs,
  // keyed DedupeKey(owner, scope, id) with a `scope` no counter key can be
  // ("#meter": '#' is not a name character). REQUIRE the owner's shard lock.
  // The fingerprint the id was first used with (0: any), or nullopt if it was
  // not seen within the window; kReadFailed if the dedupe family cannot be read.
  OpResult<std::optional<uint64_t>> SeenRequestIdLocked(const ShardRef& shard, std::string_view owner,
                                                        std::string_view scope, std::string_view id, int64_t now);
  // Remembers a new id until the window ends; returns that instant (for the
  // caller's log entry, whose replay calls RestoreRequestIdLocked).
  int64_t NoteRequestIdLocked(const ShardRef& shard, std::string_view owner, std::string_view scope,
                              std::string_view id, uint64_t fingerprint, int64_t now);
  void RestoreRequestIdLocked(const ShardRef& shard, std::string_view owner, std::string_view scope,
                              std::string_view id, int64_t expiry_ms, uint64_t fingerprint);

  // ---- reads (never create owners or counters) -------------------------------
  // Reads include every change, compacted or not.
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
  // The owner's cells that hold a non-zero value, in (key, interval, period)
  // order, compacted or not. Cost: one seek per key, plus one range scan per
  // key and interval when every period is asked for.
  OpResult<std::vector<CellRow>> OwnerCells(std::string_view owner, const CellFilter& filter);
  // CTR.TOP (see TopQuery): at most `limit` owners, after the first
  // `offset`. Cost: a pass over the counters changed since the last
  // compaction, then for one period about offset + limit entries of the
  // `by_value` index (however many owners the key has); for a short range
  // of periods, the threshold algorithm over the periods' `by_value` lists;
  // else one `by_key` pass over the range (counter_top.cc says when;
  // docs/architecture.md has measurements). kReadFailed if a stored cell or
  // an index cannot be read (no partial ranking is ever answered).
  OpResult<std::vector<RankedOwner>> Top(const TopQuery& query);
  // One period: Top({key, interval, period, period, 0, limit, owner_prefix}).
  OpResult<std::vector<RankedOwner>> Top(std::string_view key, Interval interval, PeriodId period, size_t limit,
                                         std::string_view owner_prefix) {
    return Top(TopQuery{key, interval, period, period, 0, limit, owner_prefix});
  }

  // OwnerListingSource: owners with at least one non-zero cell. Cost: one
  // seek per owner in the `cells` family, a pass over the names of the
  // owners changed since their shard's last finished compaction, and for
  // those of them that can be among the first `limit` an exact look at their
  // counters (a seek per key; a counter whose total and current cells are
  // all zero also walks the shard's changed cells).
  void ListOwners(std::string_view prefix, std::string_view after, size_t limit, std::set<std::string>* out,
                  ReadFault& fault) override;

  // ---- the by_value index ---------------------------------------------------
  // Builds the by_value index (CTR.TOP's, in value order) from the by_key
  // index when the data dir predates it (the meta row "index/by_value" is
  // absent): one pass over by_key, `progress` told the entries written every
  // 100,000. Run at open, before recovery and compaction write anything.
  storage::Status BuildValueIndex(const std::function<void(uint64_t entries)>& progress);

  // ---- the background load --------------------------------------------------
  // Loads every stored counter into memory (one cells-family pass that visits
  // one entry per counter). Run once in the background after start: when it
  // is done, memory holds every counter and CTR.TOP no longer scans the
  // by_key index. Safe to run while serving. A counter whose stored cells
  // cannot be read is skipped (left out of memory, so every op on it keeps
  // failing instead of starting from 0), the pass goes on, and the first
  // failure is returned: all_loaded() then stays false.
  storage::Status LoadStoredCounters();
  bool all_loaded() const { return all_loaded_.load(std::memory_order_acquire); }
  // Counts the stored cells by interval: one pass over the `by_value` index
  // (one entry per stored cell with a value), for the dashboard's overview
  // and metrics (MemoryStats). Run in the background after compactions;
  // StopLoading makes it return early.
  storage::Status CountStoredCells();
  // Makes a running LoadStoredCounters return early (shutdown).
  void StopLoading() { stop_loading_.store(true, std::memory_order_release); }

  // O(shards + changed cells), one shard lock at a time.
  CounterMemoryStats MemoryStats();
  const CounterOptions& options() const { return options_; }

  // EngineModule
  std::string_view name() const override { return "counters"; }
  std::vector<storage::log_format::Op> log_ops() const override;
  storage::Status Replay(const storage::log_format::Entry& entry, const ReplayContext& context) override;
  void Snapshot(const ShardRef& shard) override;
  storage::Status WriteSnapshot(CompactionBatch& batch) override;
  void FinishSnapshot(const ShardRef& shard, bool ok) override;
  ModuleStats Stats() override;

 private:
  // A counter's hot state: the total and the current cell of each rollup
  // interval (the period it belongs to and its absolute value). 88 bytes.
  struct Counter {
    int64_t total = 0;
    int64_t value[6] = {};
    int32_t period[6] = {};
    bool dirty = false;        // listed in Shard::dirty
    uint8_t deleted_mask = 0;  // intervals (bit = Interval) whose stored cells are dead until compaction
  };
  // A counter's total and hot cells as they were stored, captured at its
  // first change after a compaction (Shard::dirty_stored).
  struct StoredHot {
    int64_t total;
    int64_t value[6];
    int32_t period[6];
  };
  // A non-hot cell of a counter in memory.
  struct CellRef {
    uint64_t counter;  // CounterId(owner id, key id)
    uint8_t interval;
    int64_t period;
    bool operator==(const CellRef&) const = default;
    template <typename H>
    friend H AbslHashValue(H h, const CellRef& c) {
      return H::combine(std::move(h), c.counter, c.interval, c.period);
    }
  };
  // An event id seen since the last compaction (older ones are in `dedupe`).
  struct SeenId {
    int64_t expiry_ms;
    uint64_t fingerprint;  // of the arguments (0: unknown, matches any)
  };
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
  // One shard's counters. Protected by the shard's mutex.
  struct alignas(64) Shard {
    // Key names are interned per shard (owner names by the owners module).
    StringMap<uint32_t> key_ids;
    std::vector<std::string> key_names;
    // Counters live in a slab (stable addresses, no per-counter allocation,
    // no empty-slot waste); the map holds only (owner, key) -> slab index.
    // Counters are never removed from memory.
    std::deque<Counter> slab;
    absl::flat_hash_map<uint64_t, uint32_t> counters;
    std::vector<uint64_t> dirty;  // counters changed since the last compaction
    // dirty[i]'s total and hot cells as stored when it was last compacted
    // (or loaded): the values whose by_value entries compaction moves, known
    // without reading them back. Unknown after a failed compaction.
    std::vector<StoredHot> dirty_stored;
    bool dirty_stored_unknown = false;
    absl::flat_hash_map<CellRef, int64_t> cold;               // changed non-hot cells (absolute values)
    absl::flat_hash_map<CellRef, int64_t> inflight;           // cold cells a running compaction is writing
    absl::flat_hash_map<uint64_t, uint8_t> inflight_deleted;  // delete masks a running compaction applies
    StringMap<SeenId> seen_ids;                               // owner\0key\0id -> expiry, fingerprint
    StringMap<SeenId> inflight_ids;                           // being written

    // Owners whose stored cells may differ from memory: those with a counter
    // changed since the last snapshot (changed_owners), and those whose
    // changes a running compaction is writing (snapshot_owners). Listing
    // decides them from memory; every other owner from its stored cells.
    // owner_generation[id] is the generation of the owner's last change (0:
    // none), which keeps changed_owners free of repeats; Snapshot starts a
    // new generation.
    uint32_t generation = 1;
    std::vector<uint32_t> owner_generation;
    std::vector<uint32_t> changed_owners;
    std::vector<uint32_t> snapshot_owners;

    // Filled by Snapshot, read by the compaction thread while it builds the
    // batch, released by FinishSnapshot.
    std::vector<PendingCell> snapshot_cells;
    std::vector<PendingDelete> snapshot_deletes;
    std::vector<uint64_t> snapshot_counters;
    std::vector<StoredHot> snapshot_stored;  // parallel to snapshot_counters
    bool snapshot_stored_unknown = false;
  };

  static uint64_t CounterId(uint32_t owner, uint32_t key) { return (uint64_t{owner} << 32) | key; }
  static uint32_t OwnerOf(uint64_t counter) { return static_cast<uint32_t>(counter >> 32); }
  static uint32_t KeyOf(uint64_t counter) { return static_cast<uint32_t>(counter); }
  static int RollupIndex(Interval interval) { return static_cast<int>(interval) - 1; }
  static Interval RollupInterval(int index) { return static_cast<Interval>(index + 1); }
  static uint8_t Bit(Interval interval) { return static_cast<uint8_t>(1u << static_cast<int>(interval)); }
  static constexpr uint8_t kAllIntervals = 0x7f;

  Shard& state(const ShardRef& shard) { return shards_[shard.index()]; }

  // ---- internals; REQUIRE the shard's lock (the ShardRef) ----
  // A failed read of stored state is noted in the ReadFault the functions
  // below take; their results are then meaningless and the op must not use
  // them (read_errors.h).
  uint32_t InternKey(const ShardRef& shard, std::string_view key);
  // nullptr (nothing loaded) if the stored cells cannot be read.
  Counter* LoadCounter(const ShardRef& shard, uint32_t owner_id, uint32_t key_id, ReadFault& fault);
  // Interns owner and key and loads the counter (mutating ops and replay);
  // nullptr if the owner's settings or the counter's cells cannot be read.
  Counter* CounterFor(const ShardRef& shard, std::string_view owner, std::string_view key, uint64_t* counter_id,
                      ReadFault& fault);
  // Lookup-only, for reads, which never intern or load anything.
  Counter* FindCounter(const ShardRef& shard, std::string_view owner, std::string_view key, uint64_t* counter_id);
  const std::string& OwnerName(const ShardRef& shard, uint64_t counter_id) const {
    return owners_.Name(shard, OwnerOf(counter_id));
  }
  const std::string& KeyName(const ShardRef& shard, uint64_t counter_id) {
    return state(shard).key_names[KeyOf(counter_id)];
  }
  // Calls fn(counter id, const Counter&) for each of the owner's counters in
  // memory. There is no per-owner list (it would cost every counter a heap
  // allocation): it probes each key name of the shard when there are fewer
  // names than counters (many owners, a handful of keys: the common case),
  // else it makes one pass over the shard's counters.
  template <typename Fn>
  void ForEachCounterOf(const ShardRef& shard, uint32_t owner_id, Fn&& fn) {
    Shard& s = state(shard);
    if (s.key_names.size() < s.counters.size()) {
      for (uint32_t key_id = 0; key_id < s.key_names.size(); ++key_id) {
        auto it = s.counters.find(CounterId(owner_id, key_id));
        if (it != s.counters.end()) fn(it->first, s.slab[it->second]);
      }
    } else {
      for (const auto& [counter_id, slot] : s.counters) {
        if (OwnerOf(counter_id) == owner_id) fn(counter_id, s.slab[slot]);
      }
    }
  }
  // Key names of the owner's counters: stored ones (one seek per key) and
  // those in memory.
  std::set<std::string> OwnerKeysLocked(const ShardRef& shard, std::string_view owner, ReadFault& fault);
  int64_t ReadStoredCell(std::string_view owner, std::string_view key, uint8_t interval, int64_t period,
                         ReadFault& fault);
  // The cells of one interval that hold a value, stored and in memory, within
  // [from, to] when given. `counter` may be null (not in memory).
  std::map<int64_t, int64_t> IntervalCells(const ShardRef& shard, std::string_view owner, std::string_view key,
                                           const Counter* counter, uint64_t counter_id, uint8_t interval,
                                           std::optional<int64_t> from, std::optional<int64_t> to, ReadFault& fault);
  // The stored (non-hot) value of a cell: cold map, pending delete, in-flight
  // compaction, then RocksDB.
  int64_t StoredCell(const ShardRef& shard, uint64_t counter_id, const Counter& counter, uint8_t interval,
                     int64_t period, ReadFault& fault);
  int64_t CellValueLocked(const ShardRef& shard, uint64_t counter_id, const Counter& counter, Interval interval,
                          PeriodId period, ReadFault& fault);
  // How many cells of the counter in the intervals of `mask` hold a value
  // (a zero cell is no cell), by the read order: stored, in flight, cold,
  // hot. `counter` may be null (not in memory: the stored cells are current).
  int64_t LiveCells(const ShardRef& shard, std::string_view owner, std::string_view key, const Counter* counter,
                    uint64_t counter_id, uint8_t mask, ReadFault& fault);
  // Whether any counter of the owner holds a non-zero cell, from memory and
  // RocksDB (exact whatever a compaction is doing).
  bool OwnerHasValueLocked(const ShardRef& shard, uint32_t owner_id, ReadFault& fault);
  // The fingerprint of an event id seen within the dedupe window (0: seen,
  // arguments unknown); nullopt if not seen.
  std::optional<uint64_t> SeenEvent(const ShardRef& shard, const std::string& dedupe_key, int64_t now,
                                    ReadFault& fault);
  // An increment's or adjustment's event id: nullopt when it is new (or
  // empty), else the reply: the duplicate's current total, id_conflict when
  // the fingerprint differs, or the read failure. Sets *dedupe_key.
  std::optional<OpResult<IncrementResult>> CheckEventId(const ShardRef& shard, std::string_view owner,
                                                        std::string_view key, std::string_view event_id,
                                                        uint64_t fingerprint, int64_t now, const Counter& counter,
                                                        std::string* dedupe_key, ReadFault& fault);
  // A new event id applied by a live op: its fields in the entry, and the id
  // remembered until compaction writes it (nothing when dedupe_key is empty).
  void NoteEventId(const ShardRef& shard, const std::string& dedupe_key, std::string_view event_id,
                   uint64_t fingerprint, int64_t now, storage::log_format::CounterIncr* entry);
  // The increment's new total and cells, unapplied: kOverflow if any would
  // overflow, kReadFailed if a late event's stored cell cannot be read.
  OpStatus ComputeIncrement(const ShardRef& shard, uint64_t counter_id, const Counter& counter, int64_t delta,
                            const int64_t (&periods)[6], int64_t* next_total, int64_t (&next)[6], ReadFault& fault);
  // kReadFailed (nothing applied) if a late event's stored cell cannot be read.
  // Stores what ComputeIncrement computed (rolls hot cells over, keeps late
  // cells for compaction, marks the counter dirty).
  void CommitIncrement(const ShardRef& shard, uint64_t counter_id, Counter& counter, const int64_t (&periods)[6],
                       int64_t next_total, const int64_t (&next)[6]);
  OpStatus ApplyIncrement(const ShardRef& shard, uint64_t counter_id, Counter& counter, int64_t delta,
                          const int64_t (&periods)[6], ReadFault& fault);
  void ApplyAssign(const ShardRef& shard, uint64_t counter_id, Counter& counter,
                   const storage::log_format::CellValue& cell);
  void ApplyDelete(const ShardRef& shard, uint64_t counter_id, Counter& counter, uint8_t mask);
  // Called by every change BEFORE it changes the counter, then MarkDirty
  // after: a clean counter's memory is what is stored.
  void NoteStoredHot(const ShardRef& shard, const Counter& counter) {
    if (counter.dirty) return;
    StoredHot& stored = state(shard).dirty_stored.emplace_back();
    stored.total = counter.total;
    std::copy(std::begin(counter.value), std::end(counter.value), stored.value);
    std::copy(std::begin(counter.period), std::end(counter.period), stored.period);
  }
  void MarkDirty(const ShardRef& shard, uint64_t counter_id, Counter& counter);
  // CTR.TOP's steps (counter_top.cc). Collect: under each shard's lock, the
  // counters whose cells of the query's periods memory holds newer than the
  // indexes. The rest read from one view of the store.
  struct TopChanges;
  void CollectTopChanges(const TopQuery& query, TopChanges& out, ReadFault& fault);
  // Whether memory ranks `owner` (its index entries are stale or shadowed).
  bool IsTopChange(const TopChanges& changes, std::string_view owner);
  void CompleteTopChanges(const TopQuery& query, TopChanges& changes, const storage::Store::ReadView& view,
                          ReadFault& fault);
  // With `budgeted`, nullopt once they would read more than the by_key pass.
  std::optional<std::vector<RankedOwner>> TopFromValueIndex(const TopQuery& query, const TopChanges& changes,
                                                            const storage::Store::ReadView& view, bool budgeted,
                                                            ReadFault& fault);
  std::optional<std::vector<RankedOwner>> TopByThreshold(const TopQuery& query, const TopChanges& changes,
                                                         const storage::Store::ReadView& view, bool budgeted,
                                                         ReadFault& fault);
  std::vector<RankedOwner> TopFromKeyIndex(const TopQuery& query, TopChanges& changes,
                                           const storage::Store::ReadView& view, ReadFault& fault);

  ShardSet& shard_set_;
  storage::Store& store_;
  const Clock& clock_;
  OwnersModule& owners_;
  FeedsModule& feeds_;
  const CounterOptions options_;
  std::atomic<bool> all_loaded_{false};
  std::atomic<bool> stop_loading_{false};
  std::atomic<uint64_t> stored_cells_[kIntervalCount] = {};
  std::atomic<int64_t> stored_cells_counted_ms_{0};
  Shard shards_[kShardCount];  // element i protected by shard i's mutex
};

}  // namespace tally::core
