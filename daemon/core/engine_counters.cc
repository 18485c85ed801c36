// Counters: owners' totals and calendar rollup cells (SPEC §1-§3).
//
// Memory holds, per shard, each touched counter's total and its current
// ("hot") cell per rollup interval, as absolute values loaded from the cells
// family on first touch. Any other cell that changes (a late event, a SET of
// a past period, a hot cell that rolled over) is kept as an absolute value in
// `cold` until compaction writes it. Reads look, in order: hot cell, cold map,
// pending delete mask, in-flight compaction, RocksDB. Because every value in
// memory is absolute, a compaction can write its snapshot without holding the
// shard lock and a read never counts a change twice.

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "core/engine.h"
#include "storage/codec.h"

namespace tally::core {

namespace lf = storage::log_format;
using storage::Family;
using storage::Status;

namespace {

constexpr int kHourMs = 3600 * 1000;
constexpr int64_t kDayMs = 86400ll * 1000;

int RollupIndex(Interval interval) { return static_cast<int>(interval) - 1; }
Interval RollupInterval(int index) { return static_cast<Interval>(index + 1); }
uint8_t Bit(Interval interval) { return static_cast<uint8_t>(1u << static_cast<int>(interval)); }
constexpr uint8_t kAllIntervals = 0x7f;

uint64_t CounterId(uint32_t owner, uint32_t key) { return (uint64_t{owner} << 32) | key; }
uint32_t OwnerOf(uint64_t counter) { return static_cast<uint32_t>(counter >> 32); }
uint32_t KeyOf(uint64_t counter) { return static_cast<uint32_t>(counter); }

// Period ids of every rollup interval for an instant. All six are constant
// within one local hour, so the last answer per time zone is cached per
// thread: the hot path computes them from the zone database once an hour.
void PeriodsOf(int64_t unix_ms, const TimeZone& tz, int64_t (&periods)[6]) {
  struct Cached {
    const date::time_zone* zone = nullptr;
    int64_t hour_start = 0;
    int64_t hour_end = 0;
    int64_t periods[6] = {};
  };
  thread_local Cached cache[4];
  thread_local unsigned next = 0;
  for (const Cached& c : cache) {
    if (c.zone == tz.zone() && unix_ms >= c.hour_start && unix_ms < c.hour_end) {
      std::copy(std::begin(c.periods), std::end(c.periods), periods);
      return;
    }
  }
  for (int i = 0; i < 6; ++i) periods[i] = PeriodOf(RollupInterval(i), unix_ms, tz);
  Cached& slot = cache[next++ % 4];
  slot.zone = tz.zone();
  slot.hour_start = periods[0] * 60000;
  slot.hour_end = slot.hour_start + kHourMs;
  std::copy(std::begin(periods), std::end(periods), slot.periods);
}

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
    if (!lf::ParseCellKey(key, &parsed) || parsed.interval >= kIntervalCount) return false;
    Interval interval = static_cast<Interval>(parsed.interval);
    int64_t keep = options_.retention_ms[parsed.interval];
    if (keep <= 0 || interval == Interval::kTotal) return false;
    return PeriodStartApproxMs(interval, parsed.period) + PeriodSpanMs(interval) + keep < clock_.NowMs();
  }
  bool DropDedupe(std::string_view, std::string_view value) const override {
    int64_t expiry = 0;
    return lf::DecodeInt64(value, &expiry) && expiry <= clock_.NowMs();
  }

 private:
  const CounterOptions options_;
  const Clock& clock_;
};

// Audit details (a JSON object). Every value is an interval name, a period
// label or an integer: nothing needs escaping.
std::string AuditCellsJson(const std::vector<CellAssignment>& cells, const std::vector<int64_t>& before,
                           const TimeZone& zone) {
  std::string json = "{\"cells\":[";
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) json += ',';
    json += "{\"interval\":\"";
    json += IntervalName(cells[i].interval);
    json += "\",\"period\":\"";
    json += PeriodLabel(cells[i].interval, cells[i].period, zone);
    json += "\",\"before\":" + std::to_string(before[i]) + ",\"after\":" + std::to_string(cells[i].value) + "}";
  }
  json += "]}";
  return json;
}

std::string AuditDeleteJson(std::optional<Interval> interval, int64_t removed, int64_t total_before) {
  std::string json = "{\"interval\":\"";
  json += interval ? IntervalName(*interval) : std::string_view("all");
  json += "\",\"cells_removed\":" + std::to_string(removed) + ",\"total_before\":" + std::to_string(total_before) + "}";
  return json;
}

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

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == ':' || c == '@' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool ValidEventId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (c <= ' ' || c > '~') return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// Interning and loading (shard.mu held)

uint32_t Engine::InternOwner(Shard& shard, std::string_view owner) {
  auto it = shard.owner_ids.find(owner);
  if (it != shard.owner_ids.end()) return it->second;
  uint32_t id = static_cast<uint32_t>(shard.owners.size());
  shard.owner_ids.emplace(std::string(owner), id);
  OwnerState state;
  state.name.assign(owner);
  // Settings compacted earlier (a time zone) live in the owners family.
  auto stored = store_->Get(Family::kOwners, owner);
  if (stored.ok() && stored.value()) {
    state.persisted = true;
    state.may_have_cells = true;
    if (!stored.value()->empty()) state.zone = TimeZone::Find(*stored.value());
  }
  shard.owners.push_back(std::move(state));
  if (!shard.owners.back().persisted) shard.dirty_owners.push_back(id);
  return id;
}

uint32_t Engine::InternKey(Shard& shard, std::string_view key) {
  auto it = shard.key_ids.find(key);
  if (it != shard.key_ids.end()) return it->second;
  uint32_t id = static_cast<uint32_t>(shard.key_names.size());
  shard.key_ids.emplace(std::string(key), id);
  shard.key_names.emplace_back(key);
  return id;
}

Engine::Counter& Engine::CounterFor(Shard& shard, std::string_view owner, std::string_view key, uint64_t* counter_id) {
  uint32_t owner_id = InternOwner(shard, owner);
  uint32_t key_id = InternKey(shard, key);
  *counter_id = CounterId(owner_id, key_id);
  return LoadCounter(shard, owner_id, key_id);
}

void Engine::SetZoneLocked(Shard& shard, std::string_view owner, const TimeZone& zone) {
  uint32_t owner_id = InternOwner(shard, owner);
  OwnerState& state = shard.owners[owner_id];
  state.zone = zone;
  if (state.persisted) {  // the owners family must learn the new zone
    state.persisted = false;
    shard.dirty_owners.push_back(owner_id);
  }
}

const TimeZone& Engine::ZoneOf(const Shard& shard, uint32_t owner_id) const {
  const auto& zone = shard.owners[owner_id].zone;
  return zone ? *zone : counter_options_.default_time_zone;
}

Engine::Counter& Engine::LoadCounter(Shard& shard, uint32_t owner_id, uint32_t key_id) {
  uint64_t id = CounterId(owner_id, key_id);
  auto it = shard.counters.find(id);
  if (it != shard.counters.end()) return shard.counter_slab[it->second];
  // First touch since start: the total and the current cells come from the
  // cells family (one read each; only once per counter).
  Counter counter;
  const std::string& owner = shard.owners[owner_id].name;
  const std::string& key = shard.key_names[key_id];
  // An owner that compaction never wrote has no stored cells: skip the reads
  // (the common case for a brand-new owner).
  const bool stored = shard.owners[owner_id].may_have_cells;
  auto read = [&](Interval interval, int64_t period) -> int64_t {
    if (!stored) return 0;
    auto value = store_->Get(Family::kCells, lf::CellKey(owner, key, static_cast<uint8_t>(interval), period));
    int64_t v = 0;
    if (value.ok() && value.value()) lf::DecodeInt64(*value.value(), &v);
    return v;
  };
  counter.total = read(Interval::kTotal, 0);
  int64_t periods[6];
  PeriodsOf(clock_.NowMs(), ZoneOf(shard, owner_id), periods);
  for (int i = 0; i < 6; ++i) {
    counter.period[i] = static_cast<int32_t>(periods[i]);
    counter.value[i] = read(RollupInterval(i), periods[i]);
  }
  shard.counters.emplace(id, static_cast<uint32_t>(shard.counter_slab.size()));
  return shard.counter_slab.emplace_back(counter);
}

// The stored (non-hot) value of a cell: cold map, pending delete, in-flight
// compaction, then RocksDB.
int64_t Engine::StoredCell(Shard& shard, uint64_t counter_id, const Counter& counter, uint8_t interval,
                           int64_t period) {
  CellRef ref{counter_id, interval, period};
  if (auto it = shard.cold.find(ref); it != shard.cold.end()) return it->second;
  if (counter.deleted_mask & (1u << interval)) return 0;
  if (auto it = shard.inflight.find(ref); it != shard.inflight.end()) return it->second;
  if (auto it = shard.inflight_deleted.find(counter_id);
      it != shard.inflight_deleted.end() && (it->second & (1u << interval))) {
    return 0;
  }
  const std::string& owner = shard.owners[OwnerOf(counter_id)].name;
  const std::string& key = shard.key_names[KeyOf(counter_id)];
  auto value = store_->Get(Family::kCells, lf::CellKey(owner, key, interval, period));
  int64_t v = 0;
  if (value.ok() && value.value()) lf::DecodeInt64(*value.value(), &v);
  return v;
}

int64_t Engine::CellValueLocked(Shard& shard, uint64_t counter_id, const Counter& counter, Interval interval,
                                PeriodId period) {
  if (interval == Interval::kTotal) return counter.total;
  int i = RollupIndex(interval);
  if (counter.period[i] == period) return counter.value[i];
  return StoredCell(shard, counter_id, counter, static_cast<uint8_t>(interval), period);
}

void Engine::MarkCounterDirty(Shard& shard, uint64_t counter_id, Counter& counter) {
  if (counter.dirty) return;
  counter.dirty = true;
  shard.dirty_counters.push_back(counter_id);
}

bool Engine::SeenEvent(Shard& shard, const std::string& dedupe_key, int64_t now) {
  if (auto it = shard.seen_ids.find(dedupe_key); it != shard.seen_ids.end()) return it->second > now;
  if (auto it = shard.inflight_ids.find(dedupe_key); it != shard.inflight_ids.end()) return it->second > now;
  auto stored = store_->Get(Family::kDedupe, dedupe_key);
  int64_t expiry = 0;
  return stored.ok() && stored.value() && lf::DecodeInt64(*stored.value(), &expiry) && expiry > now;
}

// ---------------------------------------------------------------------------
// Applying changes (live and at replay; shard.mu held)

OpStatus Engine::ApplyIncrement(Shard& shard, uint64_t counter_id, Counter& counter, int64_t delta,
                                const int64_t (&periods)[6]) {
  // Check every cell first: an overflow anywhere changes nothing.
  int64_t next_total = 0;
  if (__builtin_add_overflow(counter.total, delta, &next_total)) return OpStatus::kOverflow;
  int64_t next[6];
  for (int i = 0; i < 6; ++i) {
    int64_t base = counter.period[i] == periods[i]
                       ? counter.value[i]
                       : StoredCell(shard, counter_id, counter, static_cast<uint8_t>(RollupInterval(i)), periods[i]);
    if (__builtin_add_overflow(base, delta, &next[i])) return OpStatus::kOverflow;
  }
  counter.total = next_total;
  for (int i = 0; i < 6; ++i) {
    const uint8_t interval = static_cast<uint8_t>(RollupInterval(i));
    if (counter.period[i] == periods[i]) {
      counter.value[i] = next[i];
    } else if (periods[i] > counter.period[i]) {
      // Roll over: the old hot cell is complete; keep it for compaction and
      // make the event's period the hot one.
      shard.cold[CellRef{counter_id, interval, counter.period[i]}] = counter.value[i];
      shard.cold.erase(CellRef{counter_id, interval, periods[i]});
      counter.period[i] = static_cast<int32_t>(periods[i]);
      counter.value[i] = next[i];
    } else {
      shard.cold[CellRef{counter_id, interval, periods[i]}] = next[i];  // a late event
    }
  }
  MarkCounterDirty(shard, counter_id, counter);
  return OpStatus::kOk;
}

void Engine::ApplyAssign(Shard& shard, uint64_t counter_id, Counter& counter, const lf::CellValue& cell) {
  Interval interval = static_cast<Interval>(cell.interval);
  if (interval == Interval::kTotal) {
    counter.total = cell.value;
  } else {
    int i = RollupIndex(interval);
    if (counter.period[i] == cell.period) {
      counter.value[i] = cell.value;
    } else {
      shard.cold[CellRef{counter_id, cell.interval, cell.period}] = cell.value;
    }
  }
  MarkCounterDirty(shard, counter_id, counter);
}

void Engine::ApplyDelete(Shard& shard, uint64_t counter_id, Counter& counter, uint8_t mask) {
  if (mask & Bit(Interval::kTotal)) counter.total = 0;
  for (int i = 0; i < 6; ++i) {
    if (mask & Bit(RollupInterval(i))) counter.value[i] = 0;
  }
  for (auto it = shard.cold.begin(); it != shard.cold.end();) {
    auto current = it++;
    if (current->first.counter == counter_id && (mask & (1u << current->first.interval))) shard.cold.erase(current);
  }
  counter.deleted_mask |= mask;
  MarkCounterDirty(shard, counter_id, counter);
}

// ---------------------------------------------------------------------------
// Operations

OpResult<IncrementResult> Engine::Increment(const CounterIncrement& request) {
  if (!wal_->health().ok()) return OpResult<IncrementResult>::Error(OpStatus::kStorageFailed);
  Shard& shard = ShardFor(request.owner);
  std::lock_guard<std::mutex> lock(shard.mu);
  const int64_t now = clock_.NowMs();
  uint64_t counter_id = 0;
  Counter& counter = CounterFor(shard, request.owner, request.key, &counter_id);
  std::string dedupe_key;
  if (!request.event_id.empty()) {
    dedupe_key = lf::DedupeKey(request.owner, request.key, request.event_id);
    if (SeenEvent(shard, dedupe_key, now)) return OpResult<IncrementResult>::Ok({counter.total, true});
  }
  lf::CounterIncr entry;
  PeriodsOf(request.event_ms, ZoneOf(shard, OwnerOf(counter_id)), entry.periods);
  OpStatus status = ApplyIncrement(shard, counter_id, counter, request.delta, entry.periods);
  if (status != OpStatus::kOk) return OpResult<IncrementResult>::Error(status);
  entry.owner = request.owner;
  entry.key = request.key;
  entry.delta = request.delta;
  entry.event_ms = request.event_ms;
  if (!dedupe_key.empty()) {
    entry.event_id = request.event_id;
    entry.event_id_expiry_ms = now + counter_options_.dedupe_window_ms;
    shard.seen_ids[dedupe_key] = entry.event_id_expiry_ms;
  }
  shard.log.Append([&](std::string& blob) { lf::AppendCounterIncr(blob, entry); });
  return OpResult<IncrementResult>::Ok({counter.total, false});
}

Engine::Counter* Engine::FindCounter(Shard& shard, std::string_view owner, std::string_view key, uint64_t* counter_id) {
  auto owner_it = shard.owner_ids.find(owner);
  auto key_it = shard.key_ids.find(key);
  if (owner_it == shard.owner_ids.end() || key_it == shard.key_ids.end()) return nullptr;
  *counter_id = CounterId(owner_it->second, key_it->second);
  auto it = shard.counters.find(*counter_id);
  return it == shard.counters.end() ? nullptr : &shard.counter_slab[it->second];
}

int64_t Engine::ReadStoredCell(std::string_view owner, std::string_view key, uint8_t interval, int64_t period) {
  auto value = store_->Get(Family::kCells, lf::CellKey(owner, key, interval, period));
  int64_t v = 0;
  if (value.ok() && value.value()) lf::DecodeInt64(*value.value(), &v);
  return v;
}

const TimeZone& Engine::ZoneForRead(Shard& shard, std::string_view owner, std::optional<TimeZone>* storage) {
  auto it = shard.owner_ids.find(owner);
  if (it != shard.owner_ids.end()) return ZoneOf(shard, it->second);
  auto stored = store_->Get(Family::kOwners, owner);
  if (stored.ok() && stored.value() && !stored.value()->empty()) *storage = TimeZone::Find(*stored.value());
  return *storage ? **storage : counter_options_.default_time_zone;
}

std::map<int64_t, int64_t> Engine::IntervalCells(Shard& shard, std::string_view owner, std::string_view key,
                                                 const Counter* counter, uint64_t counter_id, uint8_t interval,
                                                 std::optional<int64_t> from, std::optional<int64_t> to) {
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
    store_->Scan(Family::kCells, begin, end, [&](std::string_view cell_key, std::string_view value) {
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
    for (const auto& [ref, value] : shard.inflight) {
      if (ref.counter == counter_id && ref.interval == interval && in_range(ref.period)) cells[ref.period] = value;
    }
  }
  for (const auto& [ref, value] : shard.cold) {
    if (ref.counter == counter_id && ref.interval == interval && in_range(ref.period)) cells[ref.period] = value;
  }
  int i = RollupIndex(static_cast<Interval>(interval));
  if (in_range(counter->period[i])) cells[counter->period[i]] = counter->value[i];
  return cells;
}

OpResult<int64_t> Engine::ReadCell(std::string_view owner, std::string_view key, Interval interval, PeriodId period) {
  // Reads never create owners or counters: an unknown name stays unknown.
  Shard& shard = ShardFor(owner);
  std::lock_guard<std::mutex> lock(shard.mu);
  uint64_t counter_id = 0;
  if (Counter* counter = FindCounter(shard, owner, key, &counter_id)) {
    return OpResult<int64_t>::Ok(CellValueLocked(shard, counter_id, *counter, interval, period));
  }
  return OpResult<int64_t>::Ok(ReadStoredCell(owner, key, static_cast<uint8_t>(interval), period));
}

OpResult<std::vector<std::pair<std::string, int64_t>>> Engine::ReadOwnerCells(std::string_view owner, Interval interval,
                                                                              PeriodId period) {
  Shard& shard = ShardFor(owner);
  std::lock_guard<std::mutex> lock(shard.mu);
  std::vector<std::pair<std::string, int64_t>> out;
  for (const std::string& key : OwnerKeysLocked(shard, owner)) {
    uint64_t counter_id = 0;
    Counter* counter = FindCounter(shard, owner, key, &counter_id);
    int64_t value = counter != nullptr ? CellValueLocked(shard, counter_id, *counter, interval, period)
                                       : ReadStoredCell(owner, key, static_cast<uint8_t>(interval), period);
    // A counter whose total and cell are both zero (deleted, or reset) is not listed.
    int64_t total = counter != nullptr ? counter->total : ReadStoredCell(owner, key, 0, 0);
    if (total == 0 && value == 0) continue;
    out.emplace_back(key, value);
  }
  return OpResult<std::vector<std::pair<std::string, int64_t>>>::Ok(std::move(out));
}

std::set<std::string> Engine::OwnerKeysLocked(Shard& shard, std::string_view owner) {
  std::set<std::string> keys;
  // Stored counters: one seek per key (every counter has a total cell once
  // compacted), not a walk over all of the owner's cells.
  const std::string prefix = lf::OwnerCellPrefix(owner);
  store_->ScanSeeking(Family::kCells, prefix, [&](std::string_view cell_key, std::string_view, std::string* seek_to) {
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
  auto owner_it = shard.owner_ids.find(owner);
  if (owner_it == shard.owner_ids.end()) return keys;
  const uint32_t owner_id = owner_it->second;
  if (shard.key_names.size() < shard.counters.size()) {
    for (uint32_t key_id = 0; key_id < shard.key_names.size(); ++key_id) {
      if (shard.counters.contains(CounterId(owner_id, key_id))) keys.insert(shard.key_names[key_id]);
    }
  } else {
    for (const auto& [counter_id, slot] : shard.counters) {
      if (OwnerOf(counter_id) == owner_id) keys.insert(shard.key_names[KeyOf(counter_id)]);
    }
  }
  return keys;
}

OpResult<std::vector<CellRow>> Engine::OwnerCells(std::string_view owner, const CellFilter& filter) {
  Shard& shard = ShardFor(owner);
  std::lock_guard<std::mutex> lock(shard.mu);
  std::set<std::string> keys;
  if (filter.key.empty()) {
    keys = OwnerKeysLocked(shard, owner);
  } else {
    keys.emplace(filter.key);  // absent: every cell reads 0 and nothing is listed
  }
  std::vector<CellRow> rows;
  for (const std::string& key : keys) {
    uint64_t counter_id = 0;
    Counter* counter = FindCounter(shard, owner, key, &counter_id);
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
            counter != nullptr ? CellValueLocked(shard, counter_id, *counter, interval, *filter.period)
                               : ReadStoredCell(owner, key, static_cast<uint8_t>(i), *filter.period));
      } else {
        for (const auto& [period, value] : IntervalCells(shard, owner, key, counter, counter_id,
                                                         static_cast<uint8_t>(i), std::nullopt, std::nullopt)) {
          add(interval, period, value);
        }
      }
    }
  }
  return OpResult<std::vector<CellRow>>::Ok(std::move(rows));
}

OpResult<std::vector<std::pair<PeriodId, int64_t>>> Engine::ReadRange(std::string_view owner, std::string_view key,
                                                                      Interval interval, PeriodId from, PeriodId to) {
  using Result = OpResult<std::vector<std::pair<PeriodId, int64_t>>>;
  Shard& shard = ShardFor(owner);
  std::lock_guard<std::mutex> lock(shard.mu);
  uint64_t counter_id = 0;
  Counter* counter = FindCounter(shard, owner, key, &counter_id);
  if (interval == Interval::kTotal) {
    return Result::Ok({{0, counter != nullptr ? counter->total : ReadStoredCell(owner, key, 0, 0)}});
  }
  std::optional<TimeZone> zone_storage;
  const TimeZone& zone = ZoneForRead(shard, owner, &zone_storage);
  std::map<int64_t, int64_t> cells =
      IntervalCells(shard, owner, key, counter, counter_id, static_cast<uint8_t>(interval), from, to);
  std::vector<std::pair<PeriodId, int64_t>> out;
  constexpr size_t kMaxPeriods = 100000;  // the commands ask for at most 10,000
  for (PeriodId p = from; p <= to && out.size() < kMaxPeriods; p = StepPeriod(interval, p, 1, zone)) {
    auto it = cells.find(p);
    out.emplace_back(p, it == cells.end() ? 0 : it->second);
  }
  return Result::Ok(std::move(out));
}

OpResult<int64_t> Engine::SumCells(std::string_view owner, std::string_view key, Interval interval,
                                   std::optional<PeriodId> from, std::optional<PeriodId> to) {
  if (interval == Interval::kTotal) return ReadCell(owner, key, interval, 0);
  // Sum the cells that exist (not a walk over periods: cells may be years
  // apart, or lie on hours of a zone the owner no longer uses).
  Shard& shard = ShardFor(owner);
  std::lock_guard<std::mutex> lock(shard.mu);
  uint64_t counter_id = 0;
  Counter* counter = FindCounter(shard, owner, key, &counter_id);
  int64_t sum = 0;
  for (const auto& [period, value] :
       IntervalCells(shard, owner, key, counter, counter_id, static_cast<uint8_t>(interval), from, to)) {
    if (__builtin_add_overflow(sum, value, &sum)) return OpResult<int64_t>::Error(OpStatus::kOverflow);
  }
  return OpResult<int64_t>::Ok(sum);
}

OpResult<bool> Engine::AssignCells(std::string_view owner, std::string_view key,
                                   const std::vector<CellAssignment>& cells, const AuditInfo* audit) {
  if (!wal_->health().ok()) return OpResult<bool>::Error(OpStatus::kStorageFailed);
  Shard& shard = ShardFor(owner);
  std::lock_guard<std::mutex> lock(shard.mu);
  uint64_t counter_id = 0;
  Counter& counter = CounterFor(shard, owner, key, &counter_id);
  std::vector<lf::CellValue> encoded;
  encoded.reserve(cells.size());
  std::vector<int64_t> before;
  for (const CellAssignment& cell : cells) {
    // Cells apply in order, so a period named twice shows its first value as
    // the "before" of the second.
    if (audit != nullptr) before.push_back(CellValueLocked(shard, counter_id, counter, cell.interval, cell.period));
    encoded.push_back({static_cast<uint8_t>(cell.interval), cell.period, cell.value});
    ApplyAssign(shard, counter_id, counter, encoded.back());
  }
  if (audit == nullptr) {
    // One entry for all cells: a recount is never half applied after a crash.
    shard.log.Append(
        [&](std::string& blob) { lf::AppendCounterSetCells(blob, owner, key, encoded.data(), encoded.size()); });
    return OpResult<bool>::Ok(true);
  }
  // The audit record rides in the same entry: durable together or not at all.
  std::string inner;
  lf::AppendCounterSetCells(inner, owner, key, encoded.data(), encoded.size());
  LogAudited(shard, *audit, owner, key, AuditCellsJson(cells, before, ZoneOf(shard, OwnerOf(counter_id))), inner);
  return OpResult<bool>::Ok(true);
}

void Engine::LogAudited(Shard& shard, const AuditInfo& audit, std::string_view owner, std::string_view key,
                        std::string details, std::string_view inner_entry) {
  Shard::PendingAudit pending{clock_.NowMs(),     std::string(audit.actor), std::string(audit.command),
                              std::string(owner), std::string(key),         std::move(details)};
  lf::Audit entry{pending.time_ms, pending.actor, pending.command, pending.owner, pending.key, pending.details};
  shard.log.Append([&](std::string& blob) { lf::AppendAudited(blob, entry, inner_entry); });
  shard.audits.push_back(std::move(pending));
}

OpResult<int64_t> Engine::DeleteCells(std::string_view owner, std::string_view key, std::optional<Interval> interval,
                                      const AuditInfo* audit) {
  if (!wal_->health().ok()) return OpResult<int64_t>::Error(OpStatus::kStorageFailed);
  Shard& shard = ShardFor(owner);
  std::lock_guard<std::mutex> lock(shard.mu);
  uint64_t counter_id = 0;
  Counter& counter = CounterFor(shard, owner, key, &counter_id);
  const uint8_t mask = interval ? Bit(*interval) : kAllIntervals;
  // Count the distinct cells that exist now: stored ones still alive, plus
  // those in memory.
  auto inflight_mask = shard.inflight_deleted.find(counter_id);
  uint8_t dead =
      counter.deleted_mask | (inflight_mask == shard.inflight_deleted.end() ? uint8_t{0} : inflight_mask->second);
  std::string prefix = lf::CellPrefix(owner, key);
  std::string end = prefix;
  end.back() = '\x01';
  // Cells that hold a value (a zero cell is no cell), by the read order:
  // stored, then in flight, then cold, then hot.
  std::map<std::pair<uint8_t, int64_t>, int64_t> cells;
  store_->Scan(Family::kCells, prefix, end, [&](std::string_view cell_key, std::string_view encoded) {
    lf::ParsedCellKey parsed;
    int64_t value = 0;
    if (lf::ParseCellKey(cell_key, &parsed) && lf::DecodeInt64(encoded, &value) && (mask & (1u << parsed.interval)) &&
        !(dead & (1u << parsed.interval))) {
      cells[{parsed.interval, parsed.period}] = value;
    }
    return true;
  });
  for (const auto& [ref, value] : shard.inflight) {
    if (ref.counter == counter_id && (mask & (1u << ref.interval)) && !(counter.deleted_mask & (1u << ref.interval))) {
      cells[{ref.interval, ref.period}] = value;
    }
  }
  for (const auto& [ref, value] : shard.cold) {
    if (ref.counter == counter_id && (mask & (1u << ref.interval))) cells[{ref.interval, ref.period}] = value;
  }
  if (mask & Bit(Interval::kTotal)) cells[{0, 0}] = counter.total;
  for (int i = 0; i < 6; ++i) {
    if (mask & Bit(RollupInterval(i)))
      cells[{static_cast<uint8_t>(RollupInterval(i)), counter.period[i]}] = counter.value[i];
  }
  int64_t existing = 0;
  for (const auto& [cell, value] : cells) existing += value != 0 ? 1 : 0;
  const int64_t total_before = counter.total;
  ApplyDelete(shard, counter_id, counter, mask);
  if (audit == nullptr) {
    shard.log.Append([&](std::string& blob) { lf::AppendCounterDelete(blob, owner, key, mask); });
    return OpResult<int64_t>::Ok(existing);
  }
  std::string inner;
  lf::AppendCounterDelete(inner, owner, key, mask);
  LogAudited(shard, *audit, owner, key, AuditDeleteJson(interval, existing, total_before), inner);
  return OpResult<int64_t>::Ok(existing);
}

std::vector<RankedOwner> Engine::Top(std::string_view key, Interval interval, PeriodId period, size_t limit,
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
  const bool all_in_memory = all_counters_loaded();
  // Counters are appended to a shard's slab when loaded and never removed:
  // a slot below this size at the memory pass was ranked by it.
  std::array<size_t, kShardCount> ranked_slots{};
  // 1. Counters in memory are authoritative for their cells.
  for (size_t index = 0; index < kShardCount; ++index) {
    Shard& shard = *shards_[index];
    std::lock_guard<std::mutex> lock(shard.mu);
    ranked_slots[index] = shard.counter_slab.size();
    auto key_it = shard.key_ids.find(key);
    if (key_it == shard.key_ids.end()) continue;
    const uint32_t key_id = key_it->second;
    for (auto& [counter_id, slot] : shard.counters) {
      if (KeyOf(counter_id) != key_id) continue;
      Counter& counter = shard.counter_slab[slot];
      const std::string& owner = shard.owners[OwnerOf(counter_id)].name;
      if (owner.compare(0, owner_prefix.size(), owner_prefix) != 0) continue;
      consider(CellValueLocked(shard, counter_id, counter, interval, period), owner);
    }
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
  store_->Scan(
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
        const size_t shard_index = ShardOf(owner);
        Shard& shard = *shards_[shard_index];
        {
          std::lock_guard<std::mutex> lock(shard.mu);
          uint64_t counter_id = 0;
          if (Counter* counter = FindCounter(shard, owner, key, &counter_id)) {
            if (shard.counters.at(counter_id) < ranked_slots[shard_index]) return true;  // ranked from memory above
            // Loaded (by the background load or a write) after the memory pass
            // went by: memory holds its current value.
            value = CellValueLocked(shard, counter_id, *counter, interval, period);
          }
        }
        consider(value, owner);
        return true;
      },
      storage::Store::ScanMode::kBulk);
  std::sort_heap(heap.begin(), heap.end(), better);
  return heap;
}

Status Engine::LoadStoredCounters() {
  Status s =
      store_->ScanSeeking(Family::kCells, "", [&](std::string_view cell_key, std::string_view, std::string* seek_to) {
        if (stop_loading_.load(std::memory_order_acquire)) return false;
        lf::ParsedCellKey parsed;
        if (!lf::ParseCellKey(cell_key, &parsed)) return true;
        Shard& shard = ShardFor(parsed.owner);
        {
          std::lock_guard<std::mutex> lock(shard.mu);
          uint64_t counter_id = 0;
          if (FindCounter(shard, parsed.owner, parsed.key, &counter_id) == nullptr) {
            CounterFor(shard, parsed.owner, parsed.key, &counter_id);
          }
        }
        // Next counter: past every interval byte of this one.
        *seek_to = lf::CellPrefix(parsed.owner, parsed.key);
        seek_to->push_back(static_cast<char>(kIntervalCount));
        return true;
      });
  if (s.ok() && !stop_loading_.load(std::memory_order_acquire)) {
    all_counters_loaded_.store(true, std::memory_order_release);
  }
  return s;
}

OwnersPage Engine::ListOwners(std::string_view prefix, std::string_view cursor, size_t count) {
  // Owners in name order after `cursor`: compacted ones from the owners family
  // merged with new ones still in memory.
  std::set<std::string> names;
  std::string begin = cursor.empty() ? std::string(prefix) : std::string(cursor) + '\0';
  store_->Scan(Family::kOwners, begin, "", [&](std::string_view name, std::string_view) {
    if (name.substr(0, prefix.size()) != prefix) return false;
    names.emplace(name);
    return names.size() <= count;
  });
  for (auto& shard_ptr : shards_) {
    std::lock_guard<std::mutex> lock(shard_ptr->mu);
    for (uint32_t id : shard_ptr->dirty_owners) {
      const std::string& name = shard_ptr->owners[id].name;
      if (name.compare(0, prefix.size(), prefix) == 0 && (cursor.empty() || name > cursor)) names.insert(name);
    }
    for (uint32_t id : shard_ptr->snapshot_owner_ids) {
      const std::string& name = shard_ptr->owners[id].name;
      if (name.compare(0, prefix.size(), prefix) == 0 && (cursor.empty() || name > cursor)) names.insert(name);
    }
  }
  OwnersPage page;
  for (const std::string& name : names) {
    if (page.owners.size() == count) {
      page.next_cursor = page.owners.back();
      break;
    }
    page.owners.push_back(name);
  }
  return page;
}

TimeZone Engine::OwnerTimeZone(std::string_view owner) {
  Shard& shard = ShardFor(owner);
  std::lock_guard<std::mutex> lock(shard.mu);
  std::optional<TimeZone> storage;
  return ZoneForRead(shard, owner, &storage);
}

OpResult<bool> Engine::SetOwnerTimeZone(std::string_view owner, const TimeZone& zone) {
  if (!wal_->health().ok()) return OpResult<bool>::Error(OpStatus::kStorageFailed);
  Shard& shard = ShardFor(owner);
  std::lock_guard<std::mutex> lock(shard.mu);
  SetZoneLocked(shard, owner, zone);
  shard.log.Append([&](std::string& blob) { lf::AppendOwnerTimeZone(blob, owner, zone.name()); });
  return OpResult<bool>::Ok(true);
}

// ---------------------------------------------------------------------------
// Recovery

Status Engine::ReplayCounterEntry(const lf::Entry& entry, int64_t now) {
  (void)now;
  switch (entry.op) {
    case lf::Op::kCounterIncr: {
      lf::CounterIncr incr;
      if (!lf::DecodeCounterIncr(entry.payload, &incr)) return Status::Corruption("malformed counter increment");
      Shard& shard = ShardFor(incr.owner);
      uint64_t counter_id = 0;
      Counter& counter = CounterFor(shard, incr.owner, incr.key, &counter_id);
      ApplyIncrement(shard, counter_id, counter, incr.delta, incr.periods);
      if (!incr.event_id.empty())
        shard.seen_ids[lf::DedupeKey(incr.owner, incr.key, incr.event_id)] = incr.event_id_expiry_ms;
      return Status::Ok();
    }
    case lf::Op::kCounterSetCells: {
      std::string_view owner, key, cells;
      uint64_t count = 0;
      if (!lf::DecodeCounterSetCells(entry.payload, &owner, &key, &cells, &count)) {
        return Status::Corruption("malformed counter set");
      }
      Shard& shard = ShardFor(owner);
      uint64_t counter_id = 0;
      Counter& counter = CounterFor(shard, owner, key, &counter_id);
      lf::CellValue cell;
      for (uint64_t i = 0; i < count; ++i) {
        if (!lf::NextCellValue(&cells, &cell) || cell.interval >= kIntervalCount) {
          return Status::Corruption("malformed counter set cell");
        }
        ApplyAssign(shard, counter_id, counter, cell);
      }
      return Status::Ok();
    }
    case lf::Op::kCounterDelete: {
      std::string_view owner, key;
      uint8_t mask = 0;
      if (!lf::DecodeCounterDelete(entry.payload, &owner, &key, &mask)) {
        return Status::Corruption("malformed counter delete");
      }
      Shard& shard = ShardFor(owner);
      uint64_t counter_id = 0;
      Counter& counter = CounterFor(shard, owner, key, &counter_id);
      ApplyDelete(shard, counter_id, counter, mask);
      return Status::Ok();
    }
    case lf::Op::kAudited: {
      lf::Audit audit;
      lf::Entry inner;
      if (!lf::DecodeAudited(entry.payload, &audit, &inner)) return Status::Corruption("malformed audited entry");
      Status s = ReplayCounterEntry(inner, now);
      if (!s.ok()) return s;
      // The audit record was not compacted yet (this entry is past the
      // checkpoint): the next compaction gives it its seq.
      ShardFor(audit.owner)
          .audits.push_back({audit.time_ms, std::string(audit.actor), std::string(audit.command),
                             std::string(audit.owner), std::string(audit.key), std::string(audit.details)});
      return Status::Ok();
    }
    case lf::Op::kOwnerTimeZone: {
      std::string_view owner, zone_name;
      if (!lf::DecodeOwnerTimeZone(entry.payload, &owner, &zone_name)) {
        return Status::Corruption("malformed owner time zone");
      }
      auto zone = TimeZone::Find(zone_name);
      if (!zone) return Status::Corruption("unknown time zone in log: " + std::string(zone_name));
      SetZoneLocked(ShardFor(owner), owner, *zone);
      return Status::Ok();
    }
    default:
      return Status::Corruption("unknown log entry type " + std::to_string(static_cast<int>(entry.op)));
  }
}

// ---------------------------------------------------------------------------
// Compaction

void Engine::SnapshotCounters(Shard& shard) {
  shard.snapshot_cells.clear();
  shard.snapshot_deletes.clear();
  shard.snapshot_counters.clear();
  shard.snapshot_owners.clear();
  shard.snapshot_owner_ids.clear();
  shard.snapshot_audits.clear();
  shard.snapshot_audits.swap(shard.audits);
  for (uint64_t counter_id : shard.dirty_counters) {
    auto it = shard.counters.find(counter_id);
    if (it == shard.counters.end()) continue;
    Counter& counter = shard.counter_slab[it->second];
    counter.dirty = false;
    shard.owners[OwnerOf(counter_id)].may_have_cells = true;
    shard.snapshot_counters.push_back(counter_id);
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
  shard.dirty_counters.clear();
  shard.inflight.swap(shard.cold);  // the in-flight map is empty between compactions
  for (const auto& [ref, value] : shard.inflight) {
    shard.snapshot_cells.push_back({ref.counter, ref.interval, ref.period, value});
  }
  shard.inflight_ids.swap(shard.seen_ids);
  for (uint32_t owner_id : shard.dirty_owners) {
    OwnerState& state = shard.owners[owner_id];
    if (state.persisted) continue;
    state.persisted = true;
    shard.snapshot_owner_ids.push_back(owner_id);
    shard.snapshot_owners.emplace_back(state.name, state.zone ? state.zone->name() : std::string());
  }
  shard.dirty_owners.clear();
}

Status Engine::CompactCounters(Shard& shard, size_t index, storage::WriteBatch& batch, size_t* written) {
  (void)index;
  // Only this thread touches the snapshot vectors now (compaction_mu_); names
  // are read under the lock because interning may grow the tables meanwhile.
  struct Named {
    std::string owner;
    std::string key;
    TimeZone zone;  // the owner's, for the changefeed's period labels
  };
  std::vector<Named> names;
  {
    std::lock_guard<std::mutex> lock(shard.mu);
    names.reserve(shard.snapshot_cells.size() + shard.snapshot_deletes.size());
    for (const auto& cell : shard.snapshot_cells) {
      names.push_back({shard.owners[OwnerOf(cell.counter)].name, shard.key_names[KeyOf(cell.counter)],
                       ZoneOf(shard, OwnerOf(cell.counter))});
    }
    for (const auto& del : shard.snapshot_deletes) {
      names.push_back({shard.owners[OwnerOf(del.counter)].name, shard.key_names[KeyOf(del.counter)],
                       ZoneOf(shard, OwnerOf(del.counter))});
    }
  }
  // The changefeed records of this run, in the order of the batch: deletes,
  // then every written cell with its absolute value.
  storage::feed_format::ChangeBlobWriter changes(changes_next_, clock_.NowMs());
  LabelCache labels;
  // Deletes first: in a WriteBatch later operations win, so the cells written
  // below (values after the delete) survive the range deletion.
  for (size_t d = 0; d < shard.snapshot_deletes.size(); ++d) {
    const Named& name = names[shard.snapshot_cells.size() + d];
    uint8_t mask = shard.snapshot_deletes[d].mask;
    if (mask == kAllIntervals) {
      changes.AddDelete(name.owner, name.key, storage::feed_format::kDeleteAll);
    } else {
      for (int interval = 0; interval < kIntervalCount; ++interval) {
        if (mask & (1u << interval)) {
          changes.AddDelete(name.owner, name.key, static_cast<uint8_t>(storage::feed_format::kDeleteBit | interval));
        }
      }
    }
    for (int interval = 0; interval < kIntervalCount; ++interval) {
      if (!(mask & (1u << interval))) continue;
      std::string begin = lf::CellPrefix(name.owner, name.key);
      begin.push_back(static_cast<char>(interval));
      std::string end = lf::CellPrefix(name.owner, name.key);
      end.push_back(static_cast<char>(interval + 1));
      Status s = store_->Scan(Family::kCells, begin, end, [&](std::string_view cell_key, std::string_view) {
        lf::ParsedCellKey parsed;
        if (lf::ParseCellKey(cell_key, &parsed)) {
          batch.Delete(Family::kByKey, lf::ByKeyKey(parsed.key, parsed.interval, parsed.period, parsed.owner));
        }
        return true;
      });
      if (!s.ok()) return s;
      batch.DeleteRange(Family::kCells, begin, end);
    }
  }
  for (size_t c = 0; c < shard.snapshot_cells.size(); ++c) {
    const auto& cell = shard.snapshot_cells[c];
    const Named& name = names[c];
    changes.AddUpsert(name.owner, name.key, cell.interval, labels.Get(name.zone, cell.interval, cell.period),
                      cell.value);
    // A zero cell is stored as no cell: a reset or deleted cell leaves no row,
    // and counters never write the zero cells they have not touched.
    std::string cell_key = lf::CellKey(name.owner, name.key, cell.interval, cell.period);
    std::string index_key = lf::ByKeyKey(name.key, cell.interval, cell.period, name.owner);
    if (cell.value == 0) {
      batch.Delete(Family::kCells, cell_key);
      batch.Delete(Family::kByKey, index_key);
    } else {
      std::string value = lf::EncodeInt64(cell.value);
      batch.Put(Family::kCells, cell_key, value);
      batch.Put(Family::kByKey, index_key, value);
    }
  }
  for (const auto& [dedupe_key, expiry] : shard.inflight_ids) {
    batch.Put(Family::kDedupe, dedupe_key, lf::EncodeInt64(expiry));
  }
  for (const auto& [owner, zone] : shard.snapshot_owners) batch.Put(Family::kOwners, owner, zone);
  *written = shard.snapshot_cells.size() + shard.snapshot_deletes.size() + shard.inflight_ids.size() +
             shard.snapshot_owners.size();
  AppendFeeds(shard, changes, batch, written);
  return Status::Ok();
}

void Engine::FinishCounterCompaction(Shard& shard, bool ok) {
  std::lock_guard<std::mutex> lock(shard.mu);
  if (!ok) {
    // Nothing was written: give everything back to the next compaction.
    for (uint64_t counter_id : shard.snapshot_counters) {
      auto it = shard.counters.find(counter_id);
      if (it != shard.counters.end()) MarkCounterDirty(shard, counter_id, shard.counter_slab[it->second]);
    }
    for (const auto& del : shard.snapshot_deletes) {
      auto it = shard.counters.find(del.counter);
      if (it != shard.counters.end()) shard.counter_slab[it->second].deleted_mask |= del.mask;
    }
    for (auto& [ref, value] : shard.inflight) shard.cold.try_emplace(ref, value);  // newer cold values win
    for (auto& [id, expiry] : shard.inflight_ids) shard.seen_ids.try_emplace(id, expiry);
    for (uint32_t owner_id : shard.snapshot_owner_ids) {
      shard.owners[owner_id].persisted = false;
      shard.dirty_owners.push_back(owner_id);
    }
    // Audit records go back in front of those logged meanwhile (log order).
    shard.audits.insert(shard.audits.begin(), std::make_move_iterator(shard.snapshot_audits.begin()),
                        std::make_move_iterator(shard.snapshot_audits.end()));
  }
  shard.snapshot_audits.clear();
  FinishFeeds(ok);
  shard.inflight.clear();
  shard.inflight_ids.clear();
  shard.inflight_deleted.clear();
  shard.snapshot_cells.clear();
  shard.snapshot_deletes.clear();
  shard.snapshot_counters.clear();
  shard.snapshot_owners.clear();
  shard.snapshot_owner_ids.clear();
}

}  // namespace tally::core
