#pragma once
// Distinct counts per owner (UNIQ.ADD, UNIQ.COUNT; docs/metering.md): one
// DistinctSketch (core/distinct_sketch.h) per cell of (owner, key), a cell
// being the total or one period of a rollup interval (hour, day, week,
// month, quarter, year) in the owner's time zone, as counters' cells are.
// A count over several periods is the estimate of the UNION of their
// sketches, never the sum of their counts.
//
// Memory holds, per shard, the recently used (owner, key) pairs ("entries"):
// each one's total and its current ("hot") cell per rollup interval, loaded
// from the `uniq` family on first touch. Any other cell that changes (a late
// event, a hot cell that rolled over) is kept in `cold` until compaction
// writes it, and released then. An entry not used during one whole
// compaction interval, and written, is dropped from memory (it loads again
// on its next add). Reads look, in order: hot cell, cold map, in-flight
// compaction, RocksDB. Compaction writes each changed cell's whole encoding
// (an absolute value), so it can write without the shard lock and a read
// never counts a change twice.
//
// Adds are logged (log op kUniqAdd) as the member hashes that changed at
// least one cell, with the period ids they were applied to; replay adds them
// again (idempotent: a hash added twice changes nothing).
//
// Owners come from the owners module (ids, time zones). Owners with only
// distinct counts are not listed by CTR.OWNERS (not a listing source).
//
// Thread-safety: every op takes its owner's shard lock. Names must already be
// valid (ValidName).

#include <absl/container/flat_hash_map.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/calendar.h"
#include "core/clock.h"
#include "core/distinct_sketch.h"
#include "core/engine_module.h"
#include "core/op_result.h"
#include "core/owners.h"
#include "core/read_errors.h"
#include "core/shard_set.h"
#include "core/string_map.h"
#include "storage/log_format.h"
#include "storage/store.h"

namespace tally::core {

// Memory of the module (for metrics and tests), counted under each shard's lock.
struct UniqueMemoryStats {
  uint64_t entries = 0;         // (owner, key) pairs in memory: total + hot cells
  uint64_t dirty_entries = 0;   // changed since the last compaction
  uint64_t cold_cells = 0;      // changed non-hot cells waiting for compaction
  uint64_t inflight_cells = 0;  // cells a running compaction is writing
  uint64_t sketch_bytes = 0;    // heap bytes of every sketch held
};

class UniquesModule final : public EngineModule {
 public:
  // Members one UNIQ.ADD takes at most (its log entry: 8 bytes each).
  static constexpr size_t kMaxMembers = 10000;

  UniquesModule(ShardSet& shards, storage::Store& store, const Clock& clock, OwnersModule& owners);

  // UNIQ.ADD: adds each member (hashed once) to the total and to the cell of
  // every rollup interval for event_ms, in the owner's zone (a late event
  // lands in its own past periods). True if any cell changed; nothing is
  // logged (and nothing created) when none did. kReadFailed (nothing
  // changed) if a cell it needs cannot be read.
  OpResult<bool> Add(std::string_view owner, std::string_view key, std::span<const std::string_view> members,
                     int64_t event_ms);

  // The union of the cells of `interval` whose periods lie in [from, to]
  // (inclusive; total has one cell: from and to are ignored). Only cells
  // that exist are visited, however long the range. Never creates state.
  // kReadFailed if a cell cannot be read (never a count from less).
  OpResult<DistinctSketch> Union(std::string_view owner, std::string_view key, Interval interval, PeriodId from,
                                 PeriodId to);
  // UNIQ.COUNT: Union(...).Count().
  OpResult<uint64_t> Count(std::string_view owner, std::string_view key, Interval interval, PeriodId from, PeriodId to);

  // O(shards + entries + changed cells), one shard lock at a time.
  UniqueMemoryStats MemoryStats();

  // EngineModule
  std::string_view name() const override { return "uniques"; }
  std::vector<storage::log_format::Op> log_ops() const override;
  storage::Status Replay(const storage::log_format::Entry& entry, const ReplayContext& context) override;
  void Snapshot(const ShardRef& shard) override;
  storage::Status WriteSnapshot(CompactionBatch& batch) override;
  void FinishSnapshot(const ShardRef& shard, bool ok) override;
  ModuleStats Stats() override;

 private:
  // An (owner, key) pair in memory: its total and hot cells.
  struct Entry {
    DistinctSketch total;
    DistinctSketch hot[6];
    int64_t period[6] = {};  // the hot cells' periods
    bool dirty = false;      // listed in Shard::dirty
    bool used = true;        // added to since the last snapshot (else dropped at the next one, once written)
  };
  struct CellRef {
    uint64_t entry;  // EntryId(owner id, key id)
    uint8_t interval;
    int64_t period;
    bool operator==(const CellRef&) const = default;
    template <typename H>
    friend H AbslHashValue(H h, const CellRef& c) {
      return H::combine(std::move(h), c.entry, c.interval, c.period);
    }
  };
  // A cell a compaction writes: its key in the uniq family and its bytes
  // (hot cells are encoded under the lock, since adds go on changing them;
  // cold ones are moved to `inflight` and encoded without it).
  struct PendingCell {
    std::string key;
    std::string bytes;                       // hot cells
    const DistinctSketch* sketch = nullptr;  // cold cells (in Shard::inflight until FinishSnapshot)
  };
  // One shard's state. Protected by the shard's mutex.
  struct alignas(64) Shard {
    StringMap<uint32_t> key_ids;  // key names interned per shard (owner names by the owners module)
    std::vector<std::string> key_names;
    // Entries by address: a dense sketch is 12 KiB, and a pointer keeps
    // rehashing cheap.
    absl::flat_hash_map<uint64_t, std::unique_ptr<Entry>> entries;
    std::vector<uint64_t> dirty;                            // entries changed since the last snapshot
    absl::flat_hash_map<CellRef, DistinctSketch> cold;      // changed non-hot cells (whole sketches)
    absl::flat_hash_map<CellRef, DistinctSketch> inflight;  // cold cells a running compaction is writing
    // Filled by Snapshot, read by the compaction thread, released by FinishSnapshot.
    std::vector<PendingCell> snapshot_cells;
    std::vector<uint64_t> snapshot_entries;
  };

  static uint64_t EntryId(uint32_t owner, uint32_t key) { return (uint64_t{owner} << 32) | key; }
  static uint32_t OwnerOf(uint64_t entry) { return static_cast<uint32_t>(entry >> 32); }
  static uint32_t KeyOf(uint64_t entry) { return static_cast<uint32_t>(entry); }
  static uint8_t RollupInterval(int index) { return static_cast<uint8_t>(index + 1); }

  Shard& state(const ShardRef& shard) { return shards_[shard.index()]; }

  // ---- internals; REQUIRE the shard's lock (the ShardRef) ----
  // A failed read is noted in `fault`; the results are then meaningless.
  uint32_t InternKey(const ShardRef& shard, std::string_view key);
  // Interns owner and key and loads the entry (adds and replay); nullptr if
  // the owner's settings or a cell cannot be read.
  Entry* EntryFor(const ShardRef& shard, std::string_view owner, std::string_view key, uint64_t* entry_id,
                  ReadFault& fault);
  // The stored value of a non-hot cell: cold map, in-flight compaction, then
  // RocksDB (nothing for an owner no compaction has written).
  DistinctSketch StoredCell(const ShardRef& shard, uint64_t entry_id, uint8_t interval, int64_t period,
                            ReadFault& fault);
  DistinctSketch ReadStoredCell(std::string_view owner, std::string_view key, uint8_t interval, int64_t period,
                                ReadFault& fault);
  // Adds the hashes to the seven cells of `periods`; the hashes that changed
  // at least one go to `changed` (if not null). kReadFailed (nothing
  // changed) if a cell it needs cannot be read.
  bool ApplyAdd(const ShardRef& shard, uint64_t entry_id, Entry& entry, const int64_t (&periods)[6],
                std::span<const uint64_t> hashes, std::vector<uint64_t>* changed, ReadFault& fault);
  void MarkDirty(const ShardRef& shard, uint64_t entry_id, Entry& entry);

  ShardSet& shard_set_;
  storage::Store& store_;
  const Clock& clock_;
  OwnersModule& owners_;
  Shard shards_[kShardCount];  // element i protected by shard i's mutex
};

}  // namespace tally::core
