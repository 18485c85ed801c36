// Counters: CTR.TOP, owners ranked by a cell or by the sum of a range of
// cells.
//
// Counters in memory are authoritative for what they hold (the hot cell,
// changed cells, pending deletes); what they do not hold, and counters not
// in memory, come from RocksDB: a point read of a counter's cell, or the
// `by_key` index (key, interval, period, owner -> value), which compaction
// keeps next to every cell.

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>

#include <algorithm>
#include <array>
#include <limits>

#include "core/counters.h"

namespace tally::core {

namespace lf = storage::log_format;
using storage::Family;

namespace {

// The best `capacity` owners so far: a bounded heap whose top is the worst
// of them, so ranking N owners costs O(N log capacity) and copies few names.
class Ranking {
 public:
  explicit Ranking(size_t capacity) : capacity_(capacity) { heap_.reserve(std::min<size_t>(capacity, 1 << 16) + 1); }

  // Whether (value, owner) would enter now: false for most once it is full.
  bool Enters(int64_t value, std::string_view owner) const {
    if (value == 0 || capacity_ == 0) return false;
    if (heap_.size() < capacity_) return true;
    const RankedOwner& worst = heap_.front();
    return value > worst.value || (value == worst.value && owner < worst.owner);
  }
  void Consider(int64_t value, std::string_view owner) {
    if (!Enters(value, owner)) return;
    if (heap_.size() == capacity_) {
      std::pop_heap(heap_.begin(), heap_.end(), Better);
      heap_.pop_back();
    }
    heap_.push_back({std::string(owner), value});
    std::push_heap(heap_.begin(), heap_.end(), Better);
  }
  // Highest first, without the first `offset`.
  std::vector<RankedOwner> Take(size_t offset) {
    std::sort_heap(heap_.begin(), heap_.end(), Better);
    heap_.erase(heap_.begin(), heap_.begin() + static_cast<std::ptrdiff_t>(std::min(offset, heap_.size())));
    return std::move(heap_);
  }

 private:
  static bool Better(const RankedOwner& a, const RankedOwner& b) {
    return a.value != b.value ? a.value > b.value : a.owner < b.owner;
  }
  const size_t capacity_;
  std::vector<RankedOwner> heap_;
};

size_t Capacity(const TopQuery& query) {
  return query.limit > std::numeric_limits<size_t>::max() - query.offset ? std::numeric_limits<size_t>::max()
                                                                         : query.offset + query.limit;
}

// A sum of cells saturates instead of overflowing: the ranking stays right
// at the extremes, and nothing can report a wrapped value.
void AddSaturating(int64_t& sum, int64_t value) {
  if (__builtin_add_overflow(sum, value, &sum)) {
    sum = value > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
}

}  // namespace

OpResult<std::vector<RankedOwner>> CountersModule::Top(const TopQuery& query) {
  ReadFault fault;
  std::vector<RankedOwner> ranked;
  if (query.interval == Interval::kTotal || query.from == query.to) {
    TopQuery one = query;
    if (query.interval == Interval::kTotal) one.from = one.to = 0;
    ranked = TopOfPeriod(one, fault);
  } else if (query.from <= query.to) {
    ranked = TopOfRange(query, fault);
  }
  // A ranking without the cells that could not be read would be wrong
  // without saying so: no partial ranking.
  if (fault) return fault.Result<std::vector<RankedOwner>>();
  return OpResult<std::vector<RankedOwner>>::Ok(std::move(ranked));
}

std::vector<RankedOwner> CountersModule::TopOfPeriod(const TopQuery& query, ReadFault& fault) {
  const std::string_view key = query.key, owner_prefix = query.owner_prefix;
  const Interval interval = query.interval;
  const PeriodId period = query.from;
  Ranking ranking(Capacity(query));
  // Read before the memory pass: only if every stored counter was in memory
  // when the pass began does the pass alone see them all.
  const bool all_in_memory = all_loaded();
  // Counters are appended to a shard's slab when loaded and never removed:
  // a slot below this size at the memory pass was ranked by it.
  std::array<size_t, kShardCount> ranked_slots{};
  // 1. Counters in memory are authoritative for their cells.
  for (size_t index = 0; index < kShardCount; ++index) {
    shard_set_.Locked(index, [&](const ShardRef& ref) {
      Shard& shard = state(ref);
      ranked_slots[index] = shard.slab.size();
      auto key_it = shard.key_ids.find(key);
      if (key_it == shard.key_ids.end()) return;
      const uint32_t key_id = key_it->second;
      for (auto& [counter_id, slot] : shard.counters) {
        if (KeyOf(counter_id) != key_id) continue;
        Counter& counter = shard.slab[slot];
        const std::string& owner = OwnerName(ref, counter_id);
        if (owner.compare(0, owner_prefix.size(), owner_prefix) != 0) continue;
        ranking.Consider(CellValueLocked(ref, counter_id, counter, interval, period, fault), owner);
      }
    });
  }
  // 2. Compacted cells of counters not in memory, from the by_key index
  // (skipped once every stored counter has been loaded into memory).
  if (all_in_memory) return ranking.Take(query.offset);
  std::string prefix = lf::ByKeyPrefix(key, static_cast<uint8_t>(interval), period);
  std::string begin = prefix + std::string(owner_prefix);
  std::string end = prefix;
  end.push_back('\x7f');
  const storage::Status scanned = store_.Scan(
      Family::kByKey, begin, end,
      [&](std::string_view index_key, std::string_view encoded) {
        std::string_view owner = index_key.substr(prefix.size());
        if (owner.substr(0, owner_prefix.size()) != owner_prefix) return false;
        int64_t value = 0;
        if (!lf::DecodeInt64(encoded, &value) || value == 0) return true;
        // Most entries cannot enter a full ranking: skip them before the
        // (costlier) check whether memory holds a newer value for the owner.
        if (!ranking.Enters(value, owner)) return true;
        const size_t shard_index = ShardSet::ShardOf(owner);
        const bool ranked = shard_set_.Locked(shard_index, [&](const ShardRef& ref) {
          uint64_t counter_id = 0;
          if (Counter* counter = FindCounter(ref, owner, key, &counter_id)) {
            if (state(ref).counters.at(counter_id) < ranked_slots[shard_index]) return true;  // ranked from memory
            // Loaded (by the background load or a write) after the memory pass
            // went by: memory holds its current value.
            value = CellValueLocked(ref, counter_id, *counter, interval, period, fault);
          }
          return false;
        });
        if (!ranked) ranking.Consider(value, owner);
        return true;
      },
      storage::Store::ScanMode::kBulk);
  fault.Check(Family::kByKey, begin, scanned);
  return ranking.Take(query.offset);
}

// A range of periods. Each cell counts once, from where it is authoritative:
//   1. under each shard's lock, every counter of the key in memory adds the
//      cells of the range that memory holds (the hot cell, changed cells,
//      cells a compaction is writing) and remembers which periods those were
//      and whether the interval was deleted since the last compaction;
//   2. then one scan of the by_key index over the range adds every stored
//      cell that memory did not hold at step 1: for a counter in memory then,
//      those it did not shadow; for any other owner, all of them (its stored
//      cells were current at step 1; a cell changed since is at worst seen
//      with its newer value, as any read racing a write may).
std::vector<RankedOwner> CountersModule::TopOfRange(const TopQuery& query, ReadFault& fault) {
  Ranking ranking(Capacity(query));
  if (Capacity(query) == 0) return {};
  const uint8_t iv = static_cast<uint8_t>(query.interval);
  const int rollup = RollupIndex(query.interval);
  auto in_range = [&](int64_t period) { return period >= query.from && period <= query.to; };
  auto wanted = [&](std::string_view owner) {
    return owner.substr(0, query.owner_prefix.size()) == query.owner_prefix;
  };

  // 1. What memory holds, per counter of the key (one per owner).
  struct MemorySum {
    std::string owner;
    int64_t sum = 0;
    int64_t hot_period = 0;
    bool pending_delete = false;  // deleted since the last compaction: in-flight and stored cells are dead
    bool stored_dead = false;     // ... or deleted by the running compaction: stored cells are dead
  };
  std::vector<MemorySum> sums;
  absl::flat_hash_set<std::pair<uint32_t, int64_t>> shadows;  // (index, period) of changed cells memory held
  for (size_t index = 0; index < kShardCount; ++index) {
    shard_set_.Locked(index, [&](const ShardRef& ref) {
      Shard& shard = state(ref);
      auto key_it = shard.key_ids.find(query.key);
      if (key_it == shard.key_ids.end()) return;
      const uint32_t key_id = key_it->second;
      const size_t first = sums.size();
      for (const auto& [counter_id, slot] : shard.counters) {
        if (KeyOf(counter_id) != key_id) continue;
        const std::string& owner = OwnerName(ref, counter_id);
        if (!wanted(owner)) continue;
        const Counter& counter = shard.slab[slot];
        MemorySum m;
        m.owner = owner;
        m.hot_period = counter.period[rollup];
        // The read order of one cell: hot, cold, pending delete, in flight,
        // delete in flight, stored.
        m.pending_delete = (counter.deleted_mask & (1u << iv)) != 0;
        auto inflight_mask = shard.inflight_deleted.find(counter_id);
        m.stored_dead =
            m.pending_delete || (inflight_mask != shard.inflight_deleted.end() && (inflight_mask->second & (1u << iv)));
        if (in_range(m.hot_period)) AddSaturating(m.sum, counter.value[rollup]);
        sums.push_back(std::move(m));
      }
      // The shard's changed cells of this key and interval in the range
      // (none, mostly, once compaction ran): one pass over each map.
      absl::flat_hash_map<uint64_t, uint32_t> slots;  // counter -> index in sums, built when needed
      auto slot_of = [&](uint64_t counter_id) -> MemorySum* {
        if (slots.empty()) {
          for (size_t i = first; i < sums.size(); ++i) {
            std::optional<uint32_t> owner_id = owners_.Find(ref, sums[i].owner);
            slots.emplace(CounterId(*owner_id, key_id), static_cast<uint32_t>(i));
          }
        }
        auto it = slots.find(counter_id);
        return it == slots.end() ? nullptr : &sums[it->second];
      };
      for (const auto* cells : {&shard.cold, &shard.inflight}) {
        const bool is_inflight = cells == &shard.inflight;
        for (const auto& [cell, value] : *cells) {
          if (KeyOf(cell.counter) != key_id || cell.interval != iv || !in_range(cell.period)) continue;
          MemorySum* m = slot_of(cell.counter);
          if (m == nullptr || cell.period == m->hot_period || (is_inflight && m->pending_delete)) continue;
          // A cold cell shadows the same cell in flight.
          if (!shadows.emplace(static_cast<uint32_t>(m - sums.data()), cell.period).second) continue;
          AddSaturating(m->sum, value);
        }
      }
    });
  }

  // 2. The stored cells of the range: one scan over every period of it
  // (with a prefix: seeking past the owners outside it, per period). Within
  // a period the index is in owner order, so the owners in memory are
  // walked alongside in name order (no lookup per entry).
  std::vector<uint32_t> by_name(sums.size());
  for (uint32_t i = 0; i < by_name.size(); ++i) by_name[i] = i;
  std::sort(by_name.begin(), by_name.end(), [&](uint32_t a, uint32_t b) { return sums[a].owner < sums[b].owner; });
  StringMap<int64_t> stored_only;  // owners not in memory at step 1
  int64_t walk_period = 0;
  size_t walk = by_name.size();  // position in by_name; restarts with every period
  auto add_stored = [&](int64_t period, std::string_view owner, std::string_view encoded) {
    int64_t value = 0;
    if (!lf::DecodeInt64(encoded, &value) || value == 0) return;
    if (walk == by_name.size() || period != walk_period) {
      walk_period = period;
      walk = 0;
    }
    while (walk < by_name.size() && sums[by_name[walk]].owner < owner) ++walk;
    if (walk == by_name.size() || sums[by_name[walk]].owner != owner) {
      return AddSaturating(stored_only[owner], value);
    }
    const uint32_t index = by_name[walk];
    MemorySum& m = sums[index];
    if (m.stored_dead || period == m.hot_period || (!shadows.empty() && shadows.contains({index, period}))) {
      return;  // memory held this cell at step 1
    }
    AddSaturating(m.sum, value);
  };
  const std::string prefix(query.owner_prefix);
  storage::Status scanned;
  if (prefix.empty()) {
    scanned = store_.Scan(
        Family::kByKey, lf::ByKeyPrefix(query.key, iv, query.from), lf::ByKeyPrefix(query.key, iv, query.to + 1),
        [&](std::string_view index_key, std::string_view encoded) {
          int64_t period = 0;
          std::string_view owner;
          if (lf::ParseByKeyKey(index_key, query.key, iv, &period, &owner)) add_stored(period, owner, encoded);
          return true;
        },
        storage::Store::ScanMode::kBulk);
  } else {
    scanned =
        store_.ScanSeeking(Family::kByKey, lf::ByKeyPrefix(query.key, iv, query.from) + prefix,
                           [&](std::string_view index_key, std::string_view encoded, std::string* seek_to) {
                             int64_t period = 0;
                             std::string_view owner;
                             if (!lf::ParseByKeyKey(index_key, query.key, iv, &period, &owner) || period > query.to) {
                               return false;
                             }
                             if (wanted(owner)) {
                               add_stored(period, owner, encoded);
                             } else {
                               // Before the prefix: to it, in this period; after it: the next period.
                               *seek_to = lf::ByKeyPrefix(query.key, iv, owner < prefix ? period : period + 1) + prefix;
                             }
                             return true;
                           });
  }
  fault.Check(Family::kByKey, lf::ByKeyPrefix(query.key, iv, query.from) + prefix, scanned);
  for (const MemorySum& m : sums) ranking.Consider(m.sum, m.owner);
  for (const auto& [owner, sum] : stored_only) ranking.Consider(sum, owner);
  return ranking.Take(query.offset);
}

}  // namespace tally::core
