// Counters: CTR.TOP, owners ranked by a cell or by the sum of a range of
// cells.
//
// Where the values come from. Compaction keeps two indexes beside every
// stored cell: `by_key` (key, interval, period, owner -> value) and
// `by_value` (key, interval, period, value descending, owner), the cells of
// one period in ranking order. A stored cell is current unless memory holds
// a newer one: a counter changed since the last compaction (or being
// written by the running one) whose hot cell is in the asked periods, that
// holds a changed non-hot cell there, or whose interval was deleted. So a
// ranking is
//   1. under each shard's lock, the values of those changed counters (their
//      owners shadow the indexes' entries), then
//   2. every other owner from the indexes, all read from ONE RocksDB
//      snapshot (Store::View): a first page of one period reads about
//      `offset + limit` entries of `by_value`, however many owners there are.
// Ranges of periods merge the periods' `by_value` lists with the threshold
// algorithm (Fagin et al.): read each list a chunk at a time, sum each new
// owner's stored cells of the range, and stop once the page's lowest sum
// beats the most any unseen owner could have. Where that would read much
// (a selective owner prefix, a long range, many changed counters right
// after a burst of new ones), one pass over `by_key` sums every owner of the
// range instead.

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>

#include <algorithm>
#include <array>
#include <limits>
#include <memory>
#include <optional>

#include "core/counters.h"
#include "core/hash.h"

namespace tally::core {

namespace lf = storage::log_format;
using storage::Family;
using storage::Status;
using storage::Store;

namespace {

// Ranking order: higher values first, ties by owner name.
bool Before(int64_t value, std::string_view owner, int64_t other_value, std::string_view other_owner) {
  return value != other_value ? value > other_value : owner < other_owner;
}

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
    return Before(value, owner, worst.value, worst.owner);
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
  // Full, with a lowest value above `bound`: no owner worth at most `bound`
  // can enter any more.
  bool FullAbove(int64_t bound) const { return heap_.size() == capacity_ && heap_.front().value > bound; }
  // Highest first, without the first `offset`.
  std::vector<RankedOwner> Take(size_t offset) {
    std::sort_heap(heap_.begin(), heap_.end(), Better);
    heap_.erase(heap_.begin(), heap_.begin() + static_cast<std::ptrdiff_t>(std::min(offset, heap_.size())));
    return std::move(heap_);
  }

 private:
  static bool Better(const RankedOwner& a, const RankedOwner& b) { return Before(a.value, a.owner, b.value, b.owner); }
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

bool HasPrefix(std::string_view owner, std::string_view prefix) { return owner.substr(0, prefix.size()) == prefix; }

// Beyond these the `by_key` pass is the cheaper way (see the file comment).
constexpr size_t kPrefixScanBudget = 20000;    // by_value entries read for a page with an owner prefix
constexpr size_t kThresholdBudget = 200000;    // by_value entries the threshold algorithm may read
constexpr int64_t kMaxThresholdPeriods = 64;   // periods merged side by side
constexpr size_t kMaxChangedReadAlone = 4096;  // changed counters whose stored cells are read one by one
constexpr size_t kThresholdChunk = 64;         // entries read from each period's list per round

}  // namespace

// The counters of the key whose cells of the query's periods memory holds
// newer than the indexes, filtered by the owner prefix.
struct CountersModule::TopChanges {
  // A range: each changed counter, with what memory holds of the range.
  struct Changed {
    std::string owner;
    int64_t sum = 0;                // the cells of the range memory holds
    int64_t hot_period = 0;         // counted in `sum` when in the range
    bool stored_dead = false;       // the interval was deleted: no stored cell counts
    bool complete = false;          // `sum` includes the stored cells it needs
    std::vector<int64_t> shadowed;  // periods of non-hot cells counted in `sum`

    bool Shadows(int64_t period) const {
      return stored_dead || period == hot_period ||
             std::find(shadowed.begin(), shadowed.end(), period) != shadowed.end();
    }
  };
  std::vector<Changed> counters;
  StringMap<uint32_t> by_owner;  // owner -> index in `counters`

  // One period: memory holds each changed counter's cell entirely. Only the
  // best `offset + limit` of them can be on the page, and who they are is
  // kept without copying names (a burst of new owners before a compaction
  // can make a million of them): a hash of each owner's name, confirmed
  // under the shard's lock by the counter's id.
  bool one_period = false;
  std::vector<RankedOwner> best;  // ranked
  absl::flat_hash_set<uint64_t> owner_hashes;
  std::array<absl::flat_hash_set<uint64_t>, kShardCount> ids;
  std::array<uint32_t, kShardCount> key_ids{};
};

bool CountersModule::IsTopChange(const TopChanges& changes, std::string_view owner) {
  if (!changes.one_period) return changes.by_owner.contains(owner);
  if (!changes.owner_hashes.contains(StableHash(owner))) return false;
  const size_t index = ShardSet::ShardOf(owner);
  if (changes.ids[index].empty()) return false;
  return shard_set_.Locked(index, [&](const ShardRef& ref) {
    std::optional<uint32_t> owner_id = owners_.Find(ref, owner);
    return owner_id && changes.ids[index].contains(CounterId(*owner_id, changes.key_ids[index]));
  });
}

void CountersModule::CollectTopChanges(const TopQuery& query, TopChanges& out, ReadFault& fault) {
  const uint8_t iv = static_cast<uint8_t>(query.interval);
  const bool total = query.interval == Interval::kTotal;
  const int rollup = total ? 0 : RollupIndex(query.interval);
  auto in_range = [&](int64_t period) { return period >= query.from && period <= query.to; };
  out.one_period = query.from == query.to;
  Ranking best(Capacity(query));
  for (size_t index = 0; index < kShardCount; ++index) {
    shard_set_.Locked(index, [&](const ShardRef& ref) {
      Shard& shard = state(ref);
      auto key_it = shard.key_ids.find(query.key);
      if (key_it == shard.key_ids.end()) return;
      const uint32_t key_id = key_it->second;
      out.key_ids[index] = key_id;
      auto deleted = [&](uint64_t counter_id, const Counter& counter) {
        if (counter.deleted_mask & Bit(query.interval)) return true;
        auto inflight_mask = shard.inflight_deleted.find(counter_id);
        return inflight_mask != shard.inflight_deleted.end() && (inflight_mask->second & Bit(query.interval));
      };
      // One period: the counter's cell, by the read order of one cell.
      auto add_cell = [&](uint64_t counter_id, const Counter& counter) {
        if (!out.ids[index].insert(counter_id).second) return;
        const std::string& owner = OwnerName(ref, counter_id);
        out.owner_hashes.insert(StableHash(owner));
        if (HasPrefix(owner, query.owner_prefix)) {
          best.Consider(CellValueLocked(ref, counter_id, counter, query.interval, query.from, fault), owner);
        }
      };
      // A range: what memory holds of it.
      absl::flat_hash_map<uint64_t, uint32_t> slot_of;  // counter -> index in out.counters (this shard's)
      auto add_range = [&](uint64_t counter_id, const Counter& counter) -> TopChanges::Changed* {
        auto [it, inserted] = slot_of.try_emplace(counter_id, UINT32_MAX);  // UINT32_MAX: filtered out
        if (!inserted) return it->second == UINT32_MAX ? nullptr : &out.counters[it->second];
        const std::string& owner = OwnerName(ref, counter_id);
        if (!HasPrefix(owner, query.owner_prefix)) return nullptr;
        TopChanges::Changed changed;
        changed.owner = owner;
        changed.hot_period = total ? 0 : counter.period[rollup];
        changed.stored_dead = deleted(counter_id, counter);
        if (in_range(changed.hot_period)) changed.sum = total ? counter.total : counter.value[rollup];
        it->second = static_cast<uint32_t>(out.counters.size());
        out.counters.push_back(std::move(changed));
        return &out.counters.back();
      };
      // Changed counters whose hot cell is in the range, or whose interval
      // was deleted; other changed counters' cells of the range are stored.
      for (const auto* list : {&shard.dirty, &shard.snapshot_counters}) {
        for (uint64_t counter_id : *list) {
          if (KeyOf(counter_id) != key_id) continue;
          auto slot = shard.counters.find(counter_id);
          if (slot == shard.counters.end()) continue;
          const Counter& counter = shard.slab[slot->second];
          if (!in_range(total ? 0 : counter.period[rollup]) && !deleted(counter_id, counter)) continue;
          if (out.one_period) {
            add_cell(counter_id, counter);
          } else {
            add_range(counter_id, counter);
          }
        }
      }
      // Changed non-hot cells of the range (none, mostly, once compaction
      // ran). A cold cell shadows the same cell in flight: cold first.
      for (const auto* cells : {&shard.cold, &shard.inflight}) {
        const bool is_inflight = cells == &shard.inflight;
        for (const auto& [cell, value] : *cells) {
          if (KeyOf(cell.counter) != key_id || cell.interval != iv || !in_range(cell.period)) continue;
          auto slot = shard.counters.find(cell.counter);
          if (slot == shard.counters.end()) continue;
          const Counter& counter = shard.slab[slot->second];
          if (out.one_period) {
            add_cell(cell.counter, counter);
            continue;
          }
          TopChanges::Changed* changed = add_range(cell.counter, counter);
          if (changed == nullptr || cell.period == changed->hot_period) continue;
          if (std::find(changed->shadowed.begin(), changed->shadowed.end(), cell.period) != changed->shadowed.end()) {
            continue;
          }
          // A delete since the last compaction makes the cells in flight dead.
          if (is_inflight && (counter.deleted_mask & Bit(query.interval))) continue;
          changed->shadowed.push_back(cell.period);
          AddSaturating(changed->sum, value);
        }
      }
    });
  }
  out.best = best.Take(0);
  for (uint32_t i = 0; i < out.counters.size(); ++i) out.by_owner.emplace(out.counters[i].owner, i);
}

// Adds the stored cells of the range that memory does not shadow to each
// changed counter (one short scan each).
void CountersModule::CompleteTopChanges(const TopQuery& query, TopChanges& changes, const Store::ReadView& view,
                                        ReadFault& fault) {
  const uint8_t iv = static_cast<uint8_t>(query.interval);
  for (TopChanges::Changed& changed : changes.counters) {
    if (changed.complete) continue;
    changed.complete = true;
    if (changed.stored_dead) continue;
    const std::string begin = lf::CellKey(changed.owner, query.key, iv, query.from);
    const std::string end = lf::CellKey(changed.owner, query.key, iv, query.to + 1);
    Status scanned = store_.Scan(
        Family::kCells, begin, end,
        [&](std::string_view cell_key, std::string_view encoded) {
          lf::ParsedCellKey parsed;
          int64_t value = 0;
          if (lf::ParseCellKey(cell_key, &parsed) && lf::DecodeInt64(encoded, &value) &&
              !changed.Shadows(parsed.period)) {
            AddSaturating(changed.sum, value);
          }
          return true;
        },
        Store::ScanMode::kShort, &view);
    if (!fault.Check(Family::kCells, begin, scanned)) return;
  }
}

OpResult<std::vector<RankedOwner>> CountersModule::Top(const TopQuery& query) {
  TopQuery asked = query;
  if (asked.interval == Interval::kTotal) asked.from = asked.to = 0;
  if (asked.from > asked.to || asked.limit == 0) return OpResult<std::vector<RankedOwner>>::Ok({});
  ReadFault fault;
  TopChanges changes;
  CollectTopChanges(asked, changes, fault);
  if (fault) return fault.Result<std::vector<RankedOwner>>();
  // After step 1: an owner that changes in between is read with its newer
  // stored value, as any read racing a write may.
  std::unique_ptr<Store::ReadView> view = store_.View();
  std::optional<std::vector<RankedOwner>> ranked;
  const bool automatic = asked.method == TopQuery::Method::kAuto;
  if (asked.method != TopQuery::Method::kKeyIndex) {
    if (asked.from == asked.to) {
      ranked = TopFromValueIndex(asked, changes, *view, automatic, fault);
    } else if (!automatic ||
               (asked.to - asked.from < kMaxThresholdPeriods && changes.counters.size() <= kMaxChangedReadAlone)) {
      CompleteTopChanges(asked, changes, *view, fault);
      if (!fault) ranked = TopByThreshold(asked, changes, *view, automatic, fault);
    }
  }
  if (!ranked && !fault) ranked = TopFromKeyIndex(asked, changes, *view, fault);
  // A ranking without the cells that could not be read would be wrong
  // without saying so: no partial ranking.
  if (fault) return fault.Result<std::vector<RankedOwner>>();
  return OpResult<std::vector<RankedOwner>>::Ok(std::move(*ranked));
}

// One period: the by_value entries in order, merged with the changed
// counters' values, until the page is full. nullopt when an owner prefix
// matches too few entries for this to be quick.
std::optional<std::vector<RankedOwner>> CountersModule::TopFromValueIndex(const TopQuery& query,
                                                                          const TopChanges& changes,
                                                                          const Store::ReadView& view, bool budgeted,
                                                                          ReadFault& fault) {
  const uint8_t iv = static_cast<uint8_t>(query.interval);
  const std::vector<RankedOwner>& memory = changes.best;
  std::vector<RankedOwner> page;
  size_t rank = 0, next_memory = 0, read = 0;
  bool out_of_budget = false;
  // False once the page is full.
  auto emit = [&](std::string_view owner, int64_t value) {
    if (rank++ >= query.offset) page.push_back({std::string(owner), value});
    return page.size() < query.limit;
  };
  auto emit_memory_before = [&](int64_t value, std::string_view owner) {
    for (; next_memory < memory.size(); ++next_memory) {
      const RankedOwner& changed = memory[next_memory];
      if (!Before(changed.value, changed.owner, value, owner)) break;
      if (!emit(changed.owner, changed.value)) return false;
    }
    return true;
  };
  const std::string begin = lf::ByKeyPrefix(query.key, iv, query.from);
  const std::string end = lf::ByKeyPrefix(query.key, iv, query.from + 1);
  bool full = false;
  Status scanned = store_.Scan(
      Family::kByValue, begin, end,
      [&](std::string_view index_key, std::string_view) {
        int64_t period = 0, value = 0;
        std::string_view owner;
        if (!lf::ParseByValueKey(index_key, query.key, iv, &period, &value, &owner)) return true;
        if (budgeted && !query.owner_prefix.empty() && ++read > kPrefixScanBudget + 4 * Capacity(query)) {
          out_of_budget = true;
          return false;
        }
        if (!HasPrefix(owner, query.owner_prefix) || IsTopChange(changes, owner)) return true;
        full = !emit_memory_before(value, owner) || !emit(owner, value);
        return !full;
      },
      Store::ScanMode::kShort, &view);
  if (!fault.Check(Family::kByValue, begin, scanned)) return page;
  if (out_of_budget) return std::nullopt;
  // The changed counters ranked below every stored entry.
  for (; !full && next_memory < memory.size(); ++next_memory) {
    if (!emit(memory[next_memory].owner, memory[next_memory].value)) break;
  }
  return page;
}

// A short range of periods, every changed counter complete: the threshold
// algorithm over the periods' by_value lists. nullopt past its budget.
std::optional<std::vector<RankedOwner>> CountersModule::TopByThreshold(const TopQuery& query, const TopChanges& changes,
                                                                       const Store::ReadView& view, bool budgeted,
                                                                       ReadFault& fault) {
  const uint8_t iv = static_cast<uint8_t>(query.interval);
  Ranking ranking(Capacity(query));
  for (const auto& changed : changes.counters) ranking.Consider(changed.sum, changed.owner);
  struct List {
    std::unique_ptr<Store::Cursor> cursor;
    int64_t last = std::numeric_limits<int64_t>::max();  // the last value read: no unseen owner has more here
  };
  std::vector<List> lists;
  for (int64_t period = query.from; period <= query.to; ++period) {
    lists.push_back({store_.OpenCursor(Family::kByValue, lf::ByKeyPrefix(query.key, iv, period),
                                       lf::ByKeyPrefix(query.key, iv, period + 1), &view)});
  }
  absl::flat_hash_set<std::string> seen;
  size_t read = 0;
  while (true) {
    bool any_left = false;
    for (List& list : lists) {
      for (size_t n = 0; n < kThresholdChunk && list.cursor->Valid(); ++n, list.cursor->Next()) {
        int64_t period = 0, value = 0;
        std::string_view owner;
        if (!lf::ParseByValueKey(list.cursor->key(), query.key, iv, &period, &value, &owner)) continue;
        list.last = value;
        ++read;
        if (!HasPrefix(owner, query.owner_prefix) || changes.by_owner.contains(owner)) continue;
        if (!seen.emplace(owner).second) continue;
        // The owner's whole sum over the range, from its stored cells.
        int64_t sum = 0;
        const std::string begin = lf::CellKey(owner, query.key, iv, query.from);
        Status scanned = store_.Scan(
            Family::kCells, begin, lf::CellKey(owner, query.key, iv, query.to + 1),
            [&](std::string_view, std::string_view encoded) {
              int64_t cell = 0;
              if (lf::DecodeInt64(encoded, &cell)) AddSaturating(sum, cell);
              return true;
            },
            Store::ScanMode::kShort, &view);
        if (!fault.Check(Family::kCells, begin, scanned)) return std::vector<RankedOwner>{};
        ranking.Consider(sum, owner);
      }
      if (!fault.Check(Family::kByValue, lf::ByKeyPrefix(query.key, iv, query.from), list.cursor->status())) {
        return std::vector<RankedOwner>{};
      }
      any_left = any_left || list.cursor->Valid();
    }
    if (!any_left) break;
    // The most an owner not seen yet can have: in each list still being
    // read, at most the last value read there (or no cell: 0); in a list
    // read to its end, no cell.
    int64_t bound = 0;
    for (const List& list : lists) {
      if (list.cursor->Valid()) AddSaturating(bound, std::max<int64_t>(list.last, 0));
    }
    if (ranking.FullAbove(bound)) break;
    if (budgeted && read > kThresholdBudget) return std::nullopt;
  }
  return ranking.Take(query.offset);
}

// Any range, any prefix: one pass over the by_key entries of the range (with
// an owner prefix, a seek per period), summing every owner not changed.
std::vector<RankedOwner> CountersModule::TopFromKeyIndex(const TopQuery& query, TopChanges& changes,
                                                         const Store::ReadView& view, ReadFault& fault) {
  const uint8_t iv = static_cast<uint8_t>(query.interval);
  StringMap<int64_t> stored;  // owners not changed: their sums
  auto add = [&](int64_t period, std::string_view owner, std::string_view encoded) {
    int64_t value = 0;
    if (!lf::DecodeInt64(encoded, &value) || value == 0) return;
    if (changes.one_period) {
      if (!IsTopChange(changes, owner)) AddSaturating(stored[owner], value);
      return;
    }
    auto changed = changes.by_owner.find(owner);
    if (changed == changes.by_owner.end()) return AddSaturating(stored[owner], value);
    TopChanges::Changed& counter = changes.counters[changed->second];
    if (!counter.complete && !counter.Shadows(period)) AddSaturating(counter.sum, value);
  };
  const std::string prefix(query.owner_prefix);
  const std::string begin = lf::ByKeyPrefix(query.key, iv, query.from) + prefix;
  Status scanned;
  if (prefix.empty()) {
    scanned = store_.Scan(
        Family::kByKey, begin, lf::ByKeyPrefix(query.key, iv, query.to + 1),
        [&](std::string_view index_key, std::string_view encoded) {
          int64_t period = 0;
          std::string_view owner;
          if (lf::ParseByKeyKey(index_key, query.key, iv, &period, &owner)) add(period, owner, encoded);
          return true;
        },
        Store::ScanMode::kBulk, &view);
  } else {
    scanned = store_.ScanSeeking(
        Family::kByKey, begin,
        [&](std::string_view index_key, std::string_view encoded, std::string* seek_to) {
          int64_t period = 0;
          std::string_view owner;
          if (!lf::ParseByKeyKey(index_key, query.key, iv, &period, &owner) || period > query.to) return false;
          if (HasPrefix(owner, prefix)) {
            add(period, owner, encoded);
          } else {
            // Before the prefix: to it, in this period; after it: the next period.
            *seek_to = lf::ByKeyPrefix(query.key, iv, owner < prefix ? period : period + 1) + prefix;
          }
          return true;
        },
        &view);
  }
  fault.Check(Family::kByKey, begin, scanned);
  Ranking ranking(Capacity(query));
  for (const auto& changed : changes.counters) ranking.Consider(changed.sum, changed.owner);
  for (const auto& changed : changes.best) ranking.Consider(changed.value, changed.owner);
  for (const auto& [owner, sum] : stored) ranking.Consider(sum, owner);
  return ranking.Take(query.offset);
}

}  // namespace tally::core
