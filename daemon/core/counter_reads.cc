// Counters: point and range reads. Reads never intern an owner or a key, and
// never load a counter: what is not in memory is read from RocksDB.

#include <map>
#include <set>

#include "core/counters.h"

namespace tally::core {

namespace lf = storage::log_format;
using storage::Family;

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

int64_t CountersModule::ReadStoredCell(std::string_view owner, std::string_view key, uint8_t interval, int64_t period) {
  auto value = store_.Get(Family::kCells, lf::CellKey(owner, key, interval, period));
  int64_t v = 0;
  if (value.ok() && value.value()) lf::DecodeInt64(*value.value(), &v);
  return v;
}

std::map<int64_t, int64_t> CountersModule::IntervalCells(const ShardRef& ref, std::string_view owner,
                                                         std::string_view key, const Counter* counter,
                                                         uint64_t counter_id, uint8_t interval,
                                                         std::optional<int64_t> from, std::optional<int64_t> to) {
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
    store_.Scan(Family::kCells, begin, end, [&](std::string_view cell_key, std::string_view value) {
      lf::ParsedCellKey parsed;
      int64_t v = 0;
      if (!lf::ParseCellKey(cell_key, &parsed) || !lf::DecodeInt64(value, &v)) return true;
      if (to && parsed.period > *to) return false;
      cells[parsed.period] = v;
      return true;
    });
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

OpResult<int64_t> CountersModule::ReadCell(std::string_view owner, std::string_view key, Interval interval,
                                           PeriodId period) {
  return shard_set_.Read(owner, [&](const ShardRef& ref) {
    uint64_t counter_id = 0;
    if (Counter* counter = FindCounter(ref, owner, key, &counter_id)) {
      return OpResult<int64_t>::Ok(CellValueLocked(ref, counter_id, *counter, interval, period));
    }
    return OpResult<int64_t>::Ok(ReadStoredCell(owner, key, static_cast<uint8_t>(interval), period));
  });
}

OpResult<std::vector<std::pair<std::string, int64_t>>> CountersModule::ReadOwnerCells(std::string_view owner,
                                                                                      Interval interval,
                                                                                      PeriodId period) {
  return shard_set_.Read(owner, [&](const ShardRef& ref) {
    std::vector<std::pair<std::string, int64_t>> out;
    for (const std::string& key : OwnerKeysLocked(ref, owner)) {
      uint64_t counter_id = 0;
      Counter* counter = FindCounter(ref, owner, key, &counter_id);
      int64_t value = counter != nullptr ? CellValueLocked(ref, counter_id, *counter, interval, period)
                                         : ReadStoredCell(owner, key, static_cast<uint8_t>(interval), period);
      // A counter whose total and cell are both zero (deleted, or reset) is not listed.
      int64_t total = counter != nullptr ? counter->total : ReadStoredCell(owner, key, 0, 0);
      if (total == 0 && value == 0) continue;
      out.emplace_back(key, value);
    }
    return OpResult<std::vector<std::pair<std::string, int64_t>>>::Ok(std::move(out));
  });
}

std::set<std::string> CountersModule::OwnerKeysLocked(const ShardRef& ref, std::string_view owner) {
  Shard& shard = state(ref);
  std::set<std::string> keys;
  // Stored counters: one seek per key (every counter has a total cell once
  // compacted), not a walk over all of the owner's cells.
  const std::string prefix = lf::OwnerCellPrefix(owner);
  store_.ScanSeeking(Family::kCells, prefix, [&](std::string_view cell_key, std::string_view, std::string* seek_to) {
    if (cell_key.substr(0, prefix.size()) != prefix) return false;
    lf::ParsedCellKey parsed;
    if (!lf::ParseCellKey(cell_key, &parsed)) return true;
    keys.emplace(parsed.key);
    *seek_to = lf::CellPrefix(owner, parsed.key);
    seek_to->push_back(static_cast<char>(kIntervalCount));
    return true;
  });
  // Counters in memory (there is no per-owner list, which would cost every
  // counter a heap allocation): probe each key name of the shard when there
  // are fewer names than counters (many owners, a handful of keys: the
  // common case), else one pass over the shard's counters.
  std::optional<uint32_t> owner_id = owners_.Find(ref, owner);
  if (!owner_id) return keys;
  if (shard.key_names.size() < shard.counters.size()) {
    for (uint32_t key_id = 0; key_id < shard.key_names.size(); ++key_id) {
      if (shard.counters.contains(CounterId(*owner_id, key_id))) keys.insert(shard.key_names[key_id]);
    }
  } else {
    for (const auto& [counter_id, slot] : shard.counters) {
      if (OwnerOf(counter_id) == *owner_id) keys.insert(shard.key_names[KeyOf(counter_id)]);
    }
  }
  return keys;
}

OpResult<std::vector<CellRow>> CountersModule::OwnerCells(std::string_view owner, const CellFilter& filter) {
  return shard_set_.Read(owner, [&](const ShardRef& ref) {
    std::set<std::string> keys;
    if (filter.key.empty()) {
      keys = OwnerKeysLocked(ref, owner);
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
          add(interval, 0, counter != nullptr ? counter->total : ReadStoredCell(owner, key, 0, 0));
        } else if (filter.period) {
          add(interval, *filter.period,
              counter != nullptr ? CellValueLocked(ref, counter_id, *counter, interval, *filter.period)
                                 : ReadStoredCell(owner, key, static_cast<uint8_t>(i), *filter.period));
        } else {
          for (const auto& [period, value] : IntervalCells(ref, owner, key, counter, counter_id,
                                                           static_cast<uint8_t>(i), std::nullopt, std::nullopt)) {
            add(interval, period, value);
          }
        }
      }
    }
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
    if (interval == Interval::kTotal) {
      return Result::Ok({{0, counter != nullptr ? counter->total : ReadStoredCell(owner, key, 0, 0)}});
    }
    std::optional<TimeZone> zone_storage;
    const TimeZone& zone = owners_.ZoneForRead(ref, owner, &zone_storage);
    std::map<int64_t, int64_t> cells =
        IntervalCells(ref, owner, key, counter, counter_id, static_cast<uint8_t>(interval), from, to);
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
    for (const auto& [period, value] :
         IntervalCells(ref, owner, key, counter, counter_id, static_cast<uint8_t>(interval), from, to)) {
      if (__builtin_add_overflow(sum, value, &sum)) return OpResult<int64_t>::Error(OpStatus::kOverflow);
    }
    return OpResult<int64_t>::Ok(sum);
  });
}

}  // namespace tally::core
