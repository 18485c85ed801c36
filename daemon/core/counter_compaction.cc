// Counters: their part of compaction (snapshot under the lock, absolute
// values into the batch without it), retention, the background load of
// stored counters and statistics.

#include <absl/container/flat_hash_map.h>

#include <tuple>

#include "core/counters.h"

namespace tally::core {

namespace lf = storage::log_format;
namespace ff = storage::feed_format;
using storage::Family;
using storage::Status;

namespace {

constexpr int64_t kHourMs = 3600 * 1000;
constexpr int64_t kDayMs = 86400ll * 1000;

// Approximate length of a period, to decide retention without a time zone.
int64_t PeriodSpanMs(Interval interval) {
  switch (interval) {
    case Interval::kHour:
      return kHourMs;
    case Interval::kDay:
      return kDayMs;
    case Interval::kWeek:
      return 7 * kDayMs;
    case Interval::kMonth:
      return 31 * kDayMs;
    case Interval::kQuarter:
      return 92 * kDayMs;
    case Interval::kYear:
      return 366 * kDayMs;
    case Interval::kTotal:
      return 0;
  }
  return 0;
}

int64_t PeriodStartApproxMs(Interval interval, int64_t period) {
  return interval == Interval::kHour ? period * 60000 : period * kDayMs;
}

class CellRetention final : public storage::RetentionPolicy {
 public:
  CellRetention(const CounterOptions& options, const Clock& clock) : options_(options), clock_(clock) {}
  bool DropCell(std::string_view key, std::string_view) const override {
    lf::ParsedCellKey parsed;
    if (!lf::ParseCellKey(key, &parsed)) return false;
    return Expired(parsed.interval, parsed.period);
  }
  bool DropIndexEntry(std::string_view key) const override {
    // key 0x00 interval period ...
    const size_t end_of_key = key.find('\0');
    if (end_of_key == std::string_view::npos || end_of_key + 1 >= key.size()) return false;
    const uint8_t interval = static_cast<uint8_t>(key[end_of_key + 1]);
    int64_t period = 0;
    std::string_view rest;
    if (!lf::ParseByKeyKey(key, key.substr(0, end_of_key), interval, &period, &rest)) return false;
    return Expired(interval, period);
  }
  bool Expired(uint8_t interval_byte, int64_t period) const {
    if (interval_byte >= kIntervalCount) return false;
    const Interval interval = static_cast<Interval>(interval_byte);
    const int64_t keep = options_.retention_ms[interval_byte];
    if (keep <= 0 || interval == Interval::kTotal) return false;
    return PeriodStartApproxMs(interval, period) + PeriodSpanMs(interval) + keep < clock_.NowMs();
  }
  bool DropDedupe(std::string_view, std::string_view value) const override {
    int64_t expiry = 0;
    uint64_t fingerprint = 0;
    return lf::DecodeDedupeValue(value, &expiry, &fingerprint) && expiry <= clock_.NowMs();
  }

 private:
  const CounterOptions options_;
  const Clock& clock_;
};

// Period labels for the changefeed, computed once per (zone, interval,
// period) in a compaction: most cells of one run share a few periods.
class LabelCache {
 public:
  const std::string& Get(const TimeZone& zone, uint8_t interval, int64_t period) {
    auto [it, inserted] = labels_.try_emplace(std::make_tuple(zone.zone(), interval, period));
    if (inserted) it->second = PeriodLabel(static_cast<Interval>(interval), period, zone);
    return it->second;
  }

 private:
  absl::flat_hash_map<std::tuple<const date::time_zone*, uint8_t, int64_t>, std::string> labels_;
};

}  // namespace

std::unique_ptr<storage::RetentionPolicy> MakeRetentionPolicy(const CounterOptions& options, const Clock& clock) {
  return std::make_unique<CellRetention>(options, clock);
}

// ---------------------------------------------------------------------------
// The by_value index of a data dir written before it existed

Status CountersModule::BuildValueIndex(const std::function<void(uint64_t)>& progress) {
  auto built = store_.Get(Family::kMeta, lf::kValueIndexBuiltKey);
  if (!built.ok()) {
    ReadFault fault;
    fault.Check(Family::kMeta, lf::kValueIndexBuiltKey, built.status());
    return fault.ToStatus();
  }
  if (built.value()) return Status::Ok();
  storage::WriteBatch batch(store_);
  // Rows a build cut short left behind describe the same by_key entries:
  // start again from nothing anyway.
  batch.DeleteRange(Family::kByValue, "", std::string(1, '\x7f'));
  uint64_t entries = 0;
  Status written = Status::Ok();
  Status scanned = store_.Scan(
      Family::kByKey, "", "",
      [&](std::string_view index_key, std::string_view encoded) {
        // key 0x00 interval period(8) owner
        const size_t end_of_key = index_key.find('\0');
        if (end_of_key == std::string_view::npos) return true;
        const std::string_view key = index_key.substr(0, end_of_key);
        if (index_key.size() < end_of_key + 10) return true;
        const uint8_t interval = static_cast<uint8_t>(index_key[end_of_key + 1]);
        int64_t period = 0, value = 0;
        std::string_view owner;
        if (!lf::ParseByKeyKey(index_key, key, interval, &period, &owner) || !lf::DecodeInt64(encoded, &value)) {
          return true;
        }
        batch.Put(Family::kByValue, lf::ByValueKey(key, interval, period, value, owner), {});
        if (++entries % 100000 == 0) {
          written = store_.Write(batch, /*sync=*/false);
          batch.Clear();
          if (progress) progress(entries);
        }
        return written.ok();
      },
      storage::Store::ScanMode::kBulk);
  if (!written.ok()) return written;
  if (!scanned.ok()) {
    ReadFault fault;
    fault.Check(Family::kByKey, "", scanned);
    return fault.ToStatus();
  }
  batch.Put(Family::kMeta, lf::kValueIndexBuiltKey, "1");
  if (progress && entries > 0) progress(entries);
  return store_.Write(batch, /*sync=*/true);
}

// ---------------------------------------------------------------------------
// Compaction

void CountersModule::Snapshot(const ShardRef& ref) {
  Shard& shard = state(ref);
  shard.snapshot_cells.clear();
  shard.snapshot_deletes.clear();
  shard.snapshot_counters.clear();
  shard.snapshot_stored.clear();
  // Every change notes the stored values before it marks the counter dirty.
  shard.snapshot_stored_unknown = shard.dirty_stored_unknown || shard.dirty_stored.size() != shard.dirty.size();
  shard.dirty_stored_unknown = false;
  for (size_t d = 0; d < shard.dirty.size(); ++d) {
    const uint64_t counter_id = shard.dirty[d];
    auto it = shard.counters.find(counter_id);
    if (it == shard.counters.end()) continue;
    Counter& counter = shard.slab[it->second];
    counter.dirty = false;
    owners_.NoteCompacted(ref, OwnerOf(counter_id));
    shard.snapshot_counters.push_back(counter_id);
    if (!shard.snapshot_stored_unknown) shard.snapshot_stored.push_back(shard.dirty_stored[d]);
    if (counter.deleted_mask != 0) {
      shard.snapshot_deletes.push_back({counter_id, counter.deleted_mask});
      shard.inflight_deleted[counter_id] |= counter.deleted_mask;
      counter.deleted_mask = 0;
    }
    shard.snapshot_cells.push_back({counter_id, 0, 0, counter.total});
    for (int i = 0; i < 6; ++i) {
      shard.snapshot_cells.push_back(
          {counter_id, static_cast<uint8_t>(RollupInterval(i)), counter.period[i], counter.value[i]});
    }
  }
  shard.dirty.clear();
  ClearScratch(shard.dirty_stored);
  shard.inflight.swap(shard.cold);  // the in-flight map is empty between compactions
  for (const auto& [cell, value] : shard.inflight) {
    shard.snapshot_cells.push_back({cell.counter, cell.interval, cell.period, value});
  }
  shard.inflight_ids.swap(shard.seen_ids);
  // Changes from now on belong to the next generation.
  shard.snapshot_owners.swap(shard.changed_owners);
  shard.changed_owners.clear();
  ++shard.generation;
}

Status CountersModule::WriteSnapshot(CompactionBatch& out) {
  Shard& shard = shards_[out.shard];
  // Only this thread touches the snapshot vectors now; names are read under
  // the lock because interning may grow the tables meanwhile.
  struct Named {
    std::string owner;
    std::string key;
    TimeZone zone;  // the owner's, for the changefeed's period labels
  };
  std::vector<Named> names;
  shard_set_.Locked(out.shard, [&](const ShardRef& ref) {
    names.reserve(shard.snapshot_cells.size() + shard.snapshot_deletes.size());
    for (const auto& cell : shard.snapshot_cells) {
      names.push_back(
          {OwnerName(ref, cell.counter), KeyName(ref, cell.counter), owners_.ZoneOf(ref, OwnerOf(cell.counter))});
    }
    for (const auto& del : shard.snapshot_deletes) {
      names.push_back(
          {OwnerName(ref, del.counter), KeyName(ref, del.counter), owners_.ZoneOf(ref, OwnerOf(del.counter))});
    }
  });
  // The changefeed records of this run, in the order of the batch: deletes,
  // then every written cell with its absolute value.
  ff::ChangeBlobWriter& changes = out.changes;
  storage::WriteBatch& batch = out.batch;
  LabelCache labels;
  // Deletes first: in a WriteBatch later operations win, so the cells written
  // below (values after the delete) survive the range deletion.
  for (size_t d = 0; d < shard.snapshot_deletes.size(); ++d) {
    const Named& name = names[shard.snapshot_cells.size() + d];
    uint8_t mask = shard.snapshot_deletes[d].mask;
    if (mask == kAllIntervals) {
      changes.AddDelete(name.owner, name.key, ff::kDeleteAll);
    } else {
      for (int interval = 0; interval < kIntervalCount; ++interval) {
        if (mask & (1u << interval)) {
          changes.AddDelete(name.owner, name.key, static_cast<uint8_t>(ff::kDeleteBit | interval));
        }
      }
    }
    for (int interval = 0; interval < kIntervalCount; ++interval) {
      if (!(mask & (1u << interval))) continue;
      std::string begin = lf::CellPrefix(name.owner, name.key);
      begin.push_back(static_cast<char>(interval));
      std::string end = lf::CellPrefix(name.owner, name.key);
      end.push_back(static_cast<char>(interval + 1));
      Status s = store_.Scan(Family::kCells, begin, end, [&](std::string_view cell_key, std::string_view encoded) {
        lf::ParsedCellKey parsed;
        if (lf::ParseCellKey(cell_key, &parsed)) {
          batch.Delete(Family::kByKey, lf::ByKeyKey(parsed.key, parsed.interval, parsed.period, parsed.owner));
          int64_t stored = 0;
          if (lf::DecodeInt64(encoded, &stored)) {
            batch.Delete(Family::kByValue,
                         lf::ByValueKey(parsed.key, parsed.interval, parsed.period, stored, parsed.owner));
          }
        }
        return true;
      });
      // The batch is not written; the snapshot goes back to the next run.
      ReadFault fault;
      if (!fault.Check(Family::kCells, begin, s)) return fault.ToStatus();
      batch.DeleteRange(Family::kCells, begin, end);
    }
  }
  // The by_value index is keyed by the value: moving a cell's entry needs
  // the value stored now. For a hot cell whose period has not moved since
  // the counter was stored, memory noted it (StoredHot); the others (rolled
  // over, late, set) are read from their by_key entries in one batch.
  std::vector<std::string> index_keys;
  index_keys.reserve(shard.snapshot_cells.size());
  std::vector<int64_t> stored_values(shard.snapshot_cells.size(), 0);
  std::vector<uint32_t> unknown;  // cells whose stored value is read
  for (size_t c = 0; c < shard.snapshot_cells.size(); ++c) {
    const auto& cell = shard.snapshot_cells[c];
    index_keys.push_back(lf::ByKeyKey(names[c].key, cell.interval, cell.period, names[c].owner));
    // Snapshot lists each dirty counter's total and six hot cells first, in
    // the order of snapshot_counters.
    const size_t counter = c / 7, slot = c % 7;
    if (counter < shard.snapshot_stored.size()) {
      const StoredHot& stored = shard.snapshot_stored[counter];
      if (slot == 0) {
        stored_values[c] = stored.total;
        continue;
      }
      if (stored.period[slot - 1] == cell.period) {
        stored_values[c] = stored.value[slot - 1];
        continue;
      }
    }
    unknown.push_back(static_cast<uint32_t>(c));
  }
  if (!unknown.empty()) {
    std::vector<std::string> unknown_keys;
    unknown_keys.reserve(unknown.size());
    for (uint32_t c : unknown) unknown_keys.push_back(index_keys[c]);
    auto read = store_.MultiGet(Family::kByKey, unknown_keys);
    if (!read.ok()) {
      ReadFault fault;
      fault.Check(Family::kByKey, unknown_keys.front(), read.status());
      return fault.ToStatus();
    }
    for (size_t u = 0; u < unknown.size(); ++u) {
      // An undecodable value would leave its by_value entry behind: the
      // batch is not written (the snapshot goes back to the next run).
      if (read.value()[u] && !lf::DecodeInt64(*read.value()[u], &stored_values[unknown[u]])) {
        return Status::Corruption("by_key: the value of " + PrintableKey(unknown_keys[u]) + " is not 8 bytes");
      }
    }
  }
  for (size_t c = 0; c < shard.snapshot_cells.size(); ++c) {
    const auto& cell = shard.snapshot_cells[c];
    const Named& name = names[c];
    changes.AddUpsert(name.owner, name.key, cell.interval, labels.Get(name.zone, cell.interval, cell.period),
                      cell.value);
    // A zero value has no entry.
    const int64_t stored_value = stored_values[c];
    if (stored_value != 0 && stored_value != cell.value) {
      batch.Delete(Family::kByValue, lf::ByValueKey(name.key, cell.interval, cell.period, stored_value, name.owner));
    }
    // A zero cell is stored as no cell: a reset or deleted cell leaves no row,
    // and counters never write the zero cells they have not touched.
    std::string cell_key = lf::CellKey(name.owner, name.key, cell.interval, cell.period);
    const std::string& index_key = index_keys[c];
    if (cell.value == 0) {
      batch.Delete(Family::kCells, cell_key);
      batch.Delete(Family::kByKey, index_key);
    } else {
      std::string value = lf::EncodeInt64(cell.value);
      batch.Put(Family::kCells, cell_key, value);
      batch.Put(Family::kByKey, index_key, value);
      batch.Put(Family::kByValue, lf::ByValueKey(name.key, cell.interval, cell.period, cell.value, name.owner), {});
    }
  }
  for (const auto& [dedupe_key, seen] : shard.inflight_ids) {
    batch.Put(Family::kDedupe, dedupe_key, lf::EncodeDedupeValue(seen.expiry_ms, seen.fingerprint));
  }
  out.written += shard.snapshot_cells.size() + shard.snapshot_deletes.size() + shard.inflight_ids.size();
  return Status::Ok();
}

void CountersModule::FinishSnapshot(const ShardRef& ref, bool ok) {
  Shard& shard = state(ref);
  if (!ok) {
    // Nothing was written: give everything back to the next compaction.
    // What memory noted as stored since the snapshot is not what is stored.
    shard.dirty_stored_unknown = true;
    for (uint64_t counter_id : shard.snapshot_counters) {
      auto it = shard.counters.find(counter_id);
      if (it == shard.counters.end()) continue;
      NoteStoredHot(ref, shard.slab[it->second]);
      MarkDirty(ref, counter_id, shard.slab[it->second]);
    }
    for (const auto& del : shard.snapshot_deletes) {
      auto it = shard.counters.find(del.counter);
      if (it != shard.counters.end()) shard.slab[it->second].deleted_mask |= del.mask;
    }
    for (auto& [cell, value] : shard.inflight) shard.cold.try_emplace(cell, value);  // newer cold values win
    for (auto& [id, seen] : shard.inflight_ids) shard.seen_ids.try_emplace(id, seen);
  }
  // Written (or marked dirty again above, which listed their owners anew).
  ClearScratch(shard.snapshot_owners);
  shard.inflight.clear();
  shard.inflight_ids.clear();
  shard.inflight_deleted.clear();
  ClearScratch(shard.snapshot_cells);
  ClearScratch(shard.snapshot_deletes);
  ClearScratch(shard.snapshot_counters);
  ClearScratch(shard.snapshot_stored);
}

// ---------------------------------------------------------------------------
// The background load

Status CountersModule::LoadStoredCounters() {
  ReadFault fault;  // the first counter that could not be loaded (each one is logged)
  Status s =
      store_.ScanSeeking(Family::kCells, "", [&](std::string_view cell_key, std::string_view, std::string* seek_to) {
        if (stop_loading_.load(std::memory_order_acquire)) return false;
        lf::ParsedCellKey parsed;
        if (!lf::ParseCellKey(cell_key, &parsed)) return true;
        shard_set_.Read(parsed.owner, [&](const ShardRef& ref) {
          uint64_t counter_id = 0;
          if (FindCounter(ref, parsed.owner, parsed.key, &counter_id) == nullptr) {
            // Left out of memory on a failed read: every op on it then reads
            // (and fails) again instead of starting from 0.
            CounterFor(ref, parsed.owner, parsed.key, &counter_id, fault);
          }
        });
        // Next counter: past every interval byte of this one.
        *seek_to = lf::CellPrefix(parsed.owner, parsed.key);
        seek_to->push_back(static_cast<char>(kIntervalCount));
        return true;
      });
  if (!s.ok()) {
    ReadFault scan_fault;
    scan_fault.Check(Family::kCells, "", s);  // logged and counted as any failed read
    return scan_fault.ToStatus();
  }
  if (fault) return fault.ToStatus();
  if (!stop_loading_.load(std::memory_order_acquire)) all_loaded_.store(true, std::memory_order_release);
  return s;
}

// ---------------------------------------------------------------------------
// Statistics

CounterMemoryStats CountersModule::MemoryStats() {
  CounterMemoryStats stats;
  for (size_t i = 0; i < kShardCount; ++i) {
    shard_set_.Locked(i, [&](const ShardRef& ref) {
      Shard& shard = state(ref);
      stats.owners += owners_.Count(ref);
      stats.counters += shard.slab.size();
      stats.dirty_counters += shard.dirty.size();
      for (const auto& [cell, value] : shard.cold) {
        if (cell.interval < kIntervalCount) ++stats.pending_cells[cell.interval];
      }
      stats.inflight_cells += shard.inflight.size();
      stats.pending_event_ids += shard.seen_ids.size();
    });
  }
  for (int i = 0; i < kIntervalCount; ++i) stats.stored_cells[i] = stored_cells_[i].load(std::memory_order_relaxed);
  stats.stored_cells_counted_ms = stored_cells_counted_ms_.load(std::memory_order_acquire);
  return stats;
}

Status CountersModule::CountStoredCells() {
  uint64_t counts[kIntervalCount] = {};
  const int64_t started_ms = clock_.NowMs();
  Status scanned = store_.Scan(
      Family::kByValue, "", "",
      [&](std::string_view entry, std::string_view) {
        if (stop_loading_.load(std::memory_order_relaxed)) return false;
        // key 0x00 interval ...
        const size_t end_of_key = entry.find('\0');
        if (end_of_key != std::string_view::npos && end_of_key + 1 < entry.size()) {
          const auto interval = static_cast<uint8_t>(entry[end_of_key + 1]);
          if (interval < kIntervalCount) ++counts[interval];
        }
        return true;
      },
      storage::Store::ScanMode::kBulk);
  if (!scanned.ok()) {
    ReadFault fault;
    fault.Check(Family::kByValue, "", scanned);
    return fault.ToStatus();
  }
  if (stop_loading_.load(std::memory_order_acquire)) return Status::Ok();
  for (int i = 0; i < kIntervalCount; ++i) stored_cells_[i].store(counts[i], std::memory_order_relaxed);
  stored_cells_counted_ms_.store(started_ms, std::memory_order_release);
  return Status::Ok();
}

ModuleStats CountersModule::Stats() {
  ModuleStats stats{name()};
  for (size_t i = 0; i < kShardCount; ++i) {
    shard_set_.Locked(i, [&](const ShardRef& ref) {
      stats.items += state(ref).slab.size();
      stats.pending += state(ref).dirty.size() + state(ref).cold.size();
    });
  }
  return stats;
}

}  // namespace tally::core
