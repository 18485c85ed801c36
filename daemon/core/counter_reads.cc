// Counters: point and range reads. Reads never intern an owner or a key, and
// never load a counter: what is not in memory is read from RocksDB.

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "core/counters.h"

namespace tally::core {

namespace lf = storage::log_format;
using storage::Family;
using storage::Status;

CountersModule::Counter* CountersModule::FindCounter(const ShardRef& ref, std::string_view owner, std::string_view key,
                                                     uint64_t* counter_id) {
  Shard& shard = state(ref);
  std::optional<uint32_t> owner_id = owners_.Find(ref, owner);
  auto key_it = shard.key_ids.find(key);
  if (!owner_id || key_it == shard.key_ids.end()) return nullptr;
  *counter_id = CounterId(*owner_id, key_it->second);
  auto it = shard.counters.find(*counter_id);
  return it == shard.counters.end() ? nullptr : &shard.slab[it->second];
}

int64_t CountersModule::ReadStoredCell(std::string_view owner, std::string_view key, uint8_t interval, int64_t period,
                                       ReadFault& fault) {
  std::optional<std::string> value =
      GetOrNote(store_, Family::kCells, lf::CellKey(owner, key, interval, period), fault);
  int64_t v = 0;
  if (value) lf::DecodeInt64(*value, &v);
  return v;
}

std::map<int64_t, int64_t> CountersModule::IntervalCells(const ShardRef& ref, std::string_view owner,
                                                         std::string_view key, const Counter* counter,
                                                         uint64_t counter_id, uint8_t interval,
                                                         std::optional<int64_t> from, std::optional<int64_t> to,
                                                         ReadFault& fault) {
  Shard& shard = state(ref);
  std::map<int64_t, int64_t> cells;
  auto in_range = [&](int64_t p) { return (!from || p >= *from) && (!to || p <= *to); };
  bool stored_dead = false, inflight_dead = false;
  if (counter != nullptr) {
    stored_dead = (counter->deleted_mask & (1u << interval)) != 0;
    auto mask = shard.inflight_deleted.find(counter_id);
    inflight_dead = mask != shard.inflight_deleted.end() && (mask->second & (1u << interval));
  }
  // What is stored (one range scan), unless deleted since ...
  if (!stored_dead && !inflight_dead) {
    std::string begin = from ? lf::CellKey(owner, key, interval, *from) : lf::CellPrefix(owner, key) + char(interval);
    std::string end = lf::CellPrefix(owner, key) + char(interval + 1);
    fault.Check(Family::kCells, begin,
                store_.Scan(Family::kCells, begin, end, [&](std::string_view cell_key, std::string_view value) {
                  lf::ParsedCellKey parsed;
                  int64_t v = 0;
                  if (!lf::ParseCellKey(cell_key, &parsed) || !lf::DecodeInt64(value, &v)) return true;
                  if (to && parsed.period > *to) return false;
                  cells[parsed.period] = v;
                  return true;
                }));
  }
  if (counter == nullptr) return cells;
  // ... then memory on top, in the order a point read uses.
  if (!stored_dead) {
    for (const auto& [cell, value] : shard.inflight) {
      if (cell.counter == counter_id && cell.interval == interval && in_range(cell.period)) cells[cell.period] = value;
    }
  }
  for (const auto& [cell, value] : shard.cold) {
    if (cell.counter == counter_id && cell.interval == interval && in_range(cell.period)) cells[cell.period] = value;
  }
  int i = RollupIndex(static_cast<Interval>(interval));
  if (in_range(counter->period[i])) cells[counter->period[i]] = counter->value[i];
  return cells;
}

int64_t CountersModule::LiveCells(const ShardRef& ref, std::string_view owner, std::string_view key,
                                  const Counter* counter, uint64_t counter_id, uint8_t mask, ReadFault& fault) {
  Shard& shard = state(ref);
  // Stored cells still alive: not deleted since (pending or in flight).
  uint8_t dead = 0;
  if (counter != nullptr) {
    auto inflight_mask = shard.inflight_deleted.find(counter_id);
    dead = counter->deleted_mask | (inflight_mask == shard.inflight_deleted.end() ? uint8_t{0} : inflight_mask->second);
  }
  std::string prefix = lf::CellPrefix(owner, key);
  std::string end = prefix;
  end.back() = '\x01';
  // Cells by (interval, period), each overwritten in the read order: stored,
  // then in flight, then cold, then hot.
  std::map<std::pair<uint8_t, int64_t>, int64_t> cells;
  fault.Check(Family::kCells, prefix,
              store_.Scan(Family::kCells, prefix, end, [&](std::string_view cell_key, std::string_view encoded) {
                lf::ParsedCellKey parsed;
                int64_t value = 0;
                if (lf::ParseCellKey(cell_key, &parsed) && lf::DecodeInt64(encoded, &value) &&
                    (mask & (1u << parsed.interval)) && !(dead & (1u << parsed.interval))) {
                  cells[{parsed.interval, parsed.period}] = value;
                }
                return true;
              }));
  if (counter != nullptr) {
    for (const auto& [cell, value] : shard.inflight) {
      if (cell.counter == counter_id && (mask & (1u << cell.interval)) &&
          !(counter->deleted_mask & (1u << cell.interval))) {
        cells[{cell.interval, cell.period}] = value;
      }
    }
    for (const auto& [cell, value] : shard.cold) {
      if (cell.counter == counter_id && (mask & (1u << cell.interval))) cells[{cell.interval, cell.period}] = value;
    }
    if (mask & Bit(Interval::kTotal)) cells[{0, 0}] = counter->total;
    for (int i = 0; i < 6; ++i) {
      if (mask & Bit(RollupInterval(i))) {
        cells[{static_cast<uint8_t>(RollupInterval(i)), counter->period[i]}] = counter->value[i];
      }
    }
  }
  int64_t live = 0;
  for (const auto& [cell, value] : cells) live += value != 0 ? 1 : 0;
  return live;
}

bool CountersModule::OwnerHasValueLocked(const ShardRef& ref, uint32_t owner_id, ReadFault& fault) {
  // The common case first, without RocksDB: a counter in memory with a
  // non-zero total or current cell.
  bool hot_value = false;
  ForEachCounterOf(ref, owner_id, [&](uint64_t, const Counter& counter) {
    hot_value = hot_value || counter.total != 0 ||
                std::any_of(std::begin(counter.value), std::end(counter.value), [](int64_t v) { return v != 0; });
  });
  if (hot_value) return true;
  // Every counter of the owner, stored or in memory, cell by cell.
  const std::string& owner = owners_.Name(ref, owner_id);
  for (const std::string& key : OwnerKeysLocked(ref, owner, fault)) {
    uint64_t counter_id = 0;
    const Counter* counter = FindCounter(ref, owner, key, &counter_id);
    if (counter == nullptr) return true;  // not in memory: its stored cells are current, and one exists
    if (LiveCells(ref, owner, key, counter, counter_id, kAllIntervals, fault) > 0) return true;
  }
  return false;
}

void CountersModule::ListOwners(std::string_view prefix, std::string_view after, size_t limit,
                                std::set<std::string>* out, ReadFault& fault) {
  auto wanted = [&](std::string_view owner) {
    return owner.substr(0, prefix.size()) == prefix && (after.empty() || owner > after);
  };
  // 1. Owners whose stored cells may be stale: those changed since the last
  // finished compaction of their shard (decided from memory in step 3).
  // Every other owner's stored cells are current from here on: a compaction
  // that settles one later has written its cells before, so step 2 sees them.
  std::map<std::string, size_t, std::less<>> unsettled;  // name -> shard
  for (size_t index = 0; index < kShardCount; ++index) {
    shard_set_.Locked(index, [&](const ShardRef& ref) {
      const Shard& shard = state(ref);
      for (const auto* owners : {&shard.changed_owners, &shard.snapshot_owners}) {
        for (uint32_t owner_id : *owners) {
          const std::string& owner = owners_.Name(ref, owner_id);
          if (wanted(owner)) unsettled.emplace(owner, index);
        }
      }
    });
  }
  // 2. Every other owner with a stored cell (zero cells are never stored):
  // one seek per owner, until `limit` of them are found.
  size_t found = 0;
  std::string last_found;
  std::string begin(prefix);
  if (!after.empty()) begin = std::max(begin, std::string(after) + '\x01');  // names are > 0x01
  Status scanned =
      store_.ScanSeeking(Family::kCells, begin, [&](std::string_view cell_key, std::string_view, std::string* seek_to) {
        const std::string_view owner = cell_key.substr(0, cell_key.find('\0'));
        if (owner.substr(0, prefix.size()) != prefix) return false;
        if (!unsettled.contains(owner) && wanted(owner)) {
          out->emplace(owner);
          if (++found >= limit) {
            last_found.assign(owner);
            return false;
          }
        }
        *seek_to = std::string(owner) + '\x01';  // past every cell of this owner
        return true;
      });
  if (!fault.Check(Family::kCells, begin, scanned)) return;
  // 3. The unsettled owners that can be among the first `limit`, from memory
  // (exact, whatever a compaction is doing meanwhile).
  for (const auto& [owner, index] : unsettled) {
    if (found >= limit && owner > last_found) break;
    shard_set_.Locked(index, [&](const ShardRef& ref) {
      std::optional<uint32_t> owner_id = owners_.Find(ref, owner);
      if (owner_id && OwnerHasValueLocked(ref, *owner_id, fault)) out->insert(owner);
    });
  }
}

OpResult<int64_t> CountersModule::ReadCell(std::string_view owner, std::string_view key, Interval interval,
                                           PeriodId period) {
  return shard_set_.Read(owner, [&](const ShardRef& ref) {
    uint64_t counter_id = 0;
    ReadFault fault;
    Counter* counter = FindCounter(ref, owner, key, &counter_id);
    const int64_t value = counter != nullptr
                              ? CellValueLocked(ref, counter_id, *counter, interval, period, fault)
                              : ReadStoredCell(owner, key, static_cast<uint8_t>(interval), period, fault);
    if (fault) return fault.Result<int64_t>();
    return OpResult<int64_t>::Ok(value);
  });
}

OpResult<std::vector<std::pair<std::string, int64_t>>> CountersModule::ReadOwnerCells(std::string_view owner,
                                                                                      Interval interval,
                                                                                      PeriodId period) {
  return shard_set_.Read(owner, [&](const ShardRef& ref) {
    using Result = OpResult<std::vector<std::pair<std::string, int64_t>>>;
    std::vector<std::pair<std::string, int64_t>> out;
    ReadFault fault;
    for (const std::string& key : OwnerKeysLocked(ref, owner, fault)) {
      uint64_t counter_id = 0;
      Counter* counter = FindCounter(ref, owner, key, &counter_id);
      int64_t value = counter != nullptr ? CellValueLocked(ref, counter_id, *counter, interval, period, fault)
                                         : ReadStoredCell(owner, key, static_cast<uint8_t>(interval), period, fault);
      // A counter whose total and cell are both zero (deleted, or reset) is not listed.
      int64_t total = counter != nullptr ? counter->total : ReadStoredCell(owner, key, 0, 0, fault);
      if (total == 0 && value == 0) continue;
      out.emplace_back(key, value);
    }
    if (fault) return fault.Result<std::vector<std::pair<std::string, int64_t>>>();
    return Result::Ok(std::move(out));
  });
}

std::set<std::string> CountersModule::OwnerKeysLocked(const ShardRef& ref, std::string_view owner, ReadFault& fault) {
  Shard& shard = state(ref);
  std::set<std::string> keys;
  // Stored counters: one seek per key (every counter has a total cell once
  // compacted), not a walk over all of the owner's cells.
  const std::string prefix = lf::OwnerCellPrefix(owner);
  Status scanned = store_.ScanSeeking(Family::kCells, prefix,
                                      [&](std::string_view cell_key, std::string_view, std::string* seek_to) {
                                        if (cell_key.substr(0, prefix.size()) != prefix) return false;
                                        lf::ParsedCellKey parsed;
                                        if (!lf::ParseCellKey(cell_key, &parsed)) return true;
                                        keys.emplace(parsed.key);
                                        *seek_to = lf::CellPrefix(owner, parsed.key);
                                        seek_to->push_back(static_cast<char>(kIntervalCount));
                                        return true;
                                      });
  fault.Check(Family::kCells, prefix, scanned);
  // Counters in memory.
  std::optional<uint32_t> owner_id = owners_.Find(ref, owner);
  if (!owner_id) return keys;
  ForEachCounterOf(ref, *owner_id,
                   [&](uint64_t counter_id, const Counter&) { keys.insert(shard.key_names[KeyOf(counter_id)]); });
  return keys;
}

OpResult<std::vector<CellRow>> CountersModule::OwnerCells(std::string_view owner, const CellFilter& filter) {
  return shard_set_.Read(owner, [&](const ShardRef& ref) {
    std::set<std::string> keys;
    ReadFault fault;
    if (filter.key.empty()) {
      keys = OwnerKeysLocked(ref, owner, fault);
    } else {
      keys.emplace(filter.key);  // absent: every cell reads 0 and nothing is listed
    }
    std::vector<CellRow> rows;
    for (const std::string& key : keys) {
      uint64_t counter_id = 0;
      Counter* counter = FindCounter(ref, owner, key, &counter_id);
      auto add = [&](Interval interval, PeriodId period, int64_t value) {
        if (value != 0) rows.push_back({key, interval, period, value});
      };
      for (int i = 0; i < kIntervalCount; ++i) {
        const Interval interval = static_cast<Interval>(i);
        if (filter.interval && *filter.interval != interval) continue;
        if (interval == Interval::kTotal) {
          add(interval, 0, counter != nullptr ? counter->total : ReadStoredCell(owner, key, 0, 0, fault));
        } else if (filter.period) {
          add(interval, *filter.period,
              counter != nullptr ? CellValueLocked(ref, counter_id, *counter, interval, *filter.period, fault)
                                 : ReadStoredCell(owner, key, static_cast<uint8_t>(i), *filter.period, fault));
        } else {
          for (const auto& [period, value] : IntervalCells(
                   ref, owner, key, counter, counter_id, static_cast<uint8_t>(i), std::nullopt, std::nullopt, fault)) {
            add(interval, period, value);
          }
        }
      }
    }
    if (fault) return fault.Result<std::vector<CellRow>>();
    return OpResult<std::vector<CellRow>>::Ok(std::move(rows));
  });
}

OpResult<std::vector<std::pair<PeriodId, int64_t>>> CountersModule::ReadRange(std::string_view owner,
                                                                              std::string_view key, Interval interval,
                                                                              PeriodId from, PeriodId to) {
  using Result = OpResult<std::vector<std::pair<PeriodId, int64_t>>>;
  return shard_set_.Read(owner, [&](const ShardRef& ref) {
    uint64_t counter_id = 0;
    Counter* counter = FindCounter(ref, owner, key, &counter_id);
    ReadFault fault;
    if (interval == Interval::kTotal) {
      const int64_t total = counter != nullptr ? counter->total : ReadStoredCell(owner, key, 0, 0, fault);
      if (fault) return fault.Result<std::vector<std::pair<PeriodId, int64_t>>>();
      return Result::Ok({{0, total}});
    }
    std::optional<TimeZone> zone_storage;
    const TimeZone& zone = owners_.ZoneForRead(ref, owner, &zone_storage, fault);
    std::map<int64_t, int64_t> cells =
        IntervalCells(ref, owner, key, counter, counter_id, static_cast<uint8_t>(interval), from, to, fault);
    if (fault) return fault.Result<std::vector<std::pair<PeriodId, int64_t>>>();
    std::vector<std::pair<PeriodId, int64_t>> out;
    constexpr size_t kMaxPeriods = 100000;  // the commands ask for at most 10,000
    for (PeriodId p = from; p <= to && out.size() < kMaxPeriods; p = StepPeriod(interval, p, 1, zone)) {
      auto it = cells.find(p);
      out.emplace_back(p, it == cells.end() ? 0 : it->second);
    }
    return Result::Ok(std::move(out));
  });
}

OpResult<int64_t> CountersModule::SumCells(std::string_view owner, std::string_view key, Interval interval,
                                           std::optional<PeriodId> from, std::optional<PeriodId> to) {
  if (interval == Interval::kTotal) return ReadCell(owner, key, interval, 0);
  // Sum the cells that exist (not a walk over periods: cells may be years
  // apart, or lie on hours of a zone the owner no longer uses).
  return shard_set_.Read(owner, [&](const ShardRef& ref) {
    uint64_t counter_id = 0;
    Counter* counter = FindCounter(ref, owner, key, &counter_id);
    int64_t sum = 0;
    ReadFault fault;
    const std::map<int64_t, int64_t> cells =
        IntervalCells(ref, owner, key, counter, counter_id, static_cast<uint8_t>(interval), from, to, fault);
    if (fault) return fault.Result<int64_t>();
    for (const auto& [period, value] : cells) {
      if (__builtin_add_overflow(sum, value, &sum)) return OpResult<int64_t>::Error(OpStatus::kOverflow);
    }
    return OpResult<int64_t>::Ok(sum);
  });
}

}  // namespace tally::core
