// Counters: CTR.TOP, owners ranked by a cell.
//
// Counters in memory are authoritative for their cells; while the start-up
// load of stored counters runs, the `by_key` index adds the compacted cells
// of counters not in memory yet.

#include <algorithm>
#include <array>

#include "core/counters.h"

namespace tally::core {

namespace lf = storage::log_format;
using storage::Family;

std::vector<RankedOwner> CountersModule::Top(std::string_view key, Interval interval, PeriodId period, size_t limit,
                                             std::string_view owner_prefix) {
  // A bounded heap of the best `limit` so far (its top is the worst of them),
  // so ranking N owners costs O(N log limit) and copies few names.
  auto better = [](const RankedOwner& a, const RankedOwner& b) {
    return a.value != b.value ? a.value > b.value : a.owner < b.owner;
  };
  std::vector<RankedOwner> heap;
  heap.reserve(limit + 1);
  auto consider = [&](int64_t value, std::string_view owner) {
    if (value == 0 || limit == 0) return;
    if (heap.size() == limit) {
      const RankedOwner& worst = heap.front();
      if (value < worst.value || (value == worst.value && owner >= worst.owner)) return;
      std::pop_heap(heap.begin(), heap.end(), better);
      heap.pop_back();
    }
    heap.push_back({std::string(owner), value});
    std::push_heap(heap.begin(), heap.end(), better);
  };
  const uint8_t iv = static_cast<uint8_t>(interval);
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
        consider(CellValueLocked(ref, counter_id, counter, interval, period), owner);
      }
    });
  }
  // 2. Compacted cells of counters not in memory, from the by_key index
  // (skipped once every stored counter has been loaded into memory).
  if (all_in_memory) {
    std::sort_heap(heap.begin(), heap.end(), better);
    return heap;
  }
  std::string prefix = lf::ByKeyPrefix(key, iv, period);
  std::string begin = prefix + std::string(owner_prefix);
  std::string end = prefix;
  end.push_back('\x7f');
  store_.Scan(
      Family::kByKey, begin, end,
      [&](std::string_view index_key, std::string_view encoded) {
        std::string_view owner = index_key.substr(prefix.size());
        if (owner.substr(0, owner_prefix.size()) != owner_prefix) return false;
        int64_t value = 0;
        if (!lf::DecodeInt64(encoded, &value) || value == 0) return true;
        // Most entries cannot enter a full heap: skip them before the (costlier)
        // check whether memory holds a newer value for the owner.
        if (heap.size() == limit && limit > 0) {
          const RankedOwner& worst = heap.front();
          if (value < worst.value || (value == worst.value && owner >= worst.owner)) return true;
        }
        const size_t shard_index = ShardSet::ShardOf(owner);
        const bool ranked = shard_set_.Locked(shard_index, [&](const ShardRef& ref) {
          uint64_t counter_id = 0;
          if (Counter* counter = FindCounter(ref, owner, key, &counter_id)) {
            if (state(ref).counters.at(counter_id) < ranked_slots[shard_index]) return true;  // ranked from memory
            // Loaded (by the background load or a write) after the memory pass
            // went by: memory holds its current value.
            value = CellValueLocked(ref, counter_id, *counter, interval, period);
          }
          return false;
        });
        if (!ranked) consider(value, owner);
        return true;
      },
      storage::Store::ScanMode::kBulk);
  std::sort_heap(heap.begin(), heap.end(), better);
  return heap;
}

}  // namespace tally::core
