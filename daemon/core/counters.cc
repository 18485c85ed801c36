// Counters: loading, applying changes (live and at replay) and the write ops.
// See counters.h for the memory model.

#include "core/counters.h"

#include <algorithm>
#include <map>

#include "core/hash.h"
#include "storage/codec.h"

namespace tally::core {

namespace lf = storage::log_format;
using storage::Family;
using storage::Status;

namespace {

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

// Audit details of CTR.ADJUST: the delta and the seven cells it changed.
std::string AuditAdjustJson(int64_t delta, const int64_t (&periods)[6], const int64_t (&before)[7],
                            const TimeZone& zone) {
  std::string json = "{\"delta\":" + std::to_string(delta) + ",\"cells\":[";
  for (int i = 0; i < kIntervalCount; ++i) {
    const Interval interval = static_cast<Interval>(i);
    if (i > 0) json += ',';
    json += "{\"interval\":\"";
    json += IntervalName(interval);
    json += "\",\"period\":\"";
    json += interval == Interval::kTotal ? std::string("total") : PeriodLabel(interval, periods[i - 1], zone);
    json += "\",\"before\":" + std::to_string(before[i]) + ",\"after\":" + std::to_string(before[i] + delta) + "}";
  }
  json += "]}";
  return json;
}

// The fingerprint of an increment's arguments as the client sent them: the
// delta, and the event time only if the client gave it (a retry without AT
// comes later, with another "now"). Never 0, which means "unknown".
// storage/FORMAT.md §7 documents the bytes.
uint64_t EventFingerprint(const CounterIncrement& request) {
  std::string bytes;
  storage::codec::PutFixed64(bytes, static_cast<uint64_t>(request.id_delta.value_or(request.delta)));
  bytes.push_back(request.at_given ? 1 : 0);
  storage::codec::PutFixed64(bytes, request.at_given ? static_cast<uint64_t>(request.event_ms) : 0);
  if (request.id_scope != 0) bytes.insert(bytes.begin(), request.id_scope);
  const uint64_t hash = StableHash(bytes);
  return hash == 0 ? 1 : hash;
}

// The fingerprint of an adjustment's arguments: the increment's bytes behind
// a leading 'A', so an id used by an increment and then by an adjustment (or
// the other way round) never looks like a retry.
uint64_t AdjustFingerprint(const CounterAdjustment& request) {
  std::string bytes = "A";
  storage::codec::PutFixed64(bytes, static_cast<uint64_t>(request.delta));
  bytes.push_back(request.at_given ? 1 : 0);
  storage::codec::PutFixed64(bytes, request.at_given ? static_cast<uint64_t>(request.event_ms) : 0);
  const uint64_t hash = StableHash(bytes);
  return hash == 0 ? 1 : hash;
}

std::string AuditDeleteJson(std::optional<Interval> interval, int64_t removed, int64_t total_before) {
  std::string json = "{\"interval\":\"";
  json += interval ? IntervalName(*interval) : std::string_view("all");
  json += "\",\"cells_removed\":" + std::to_string(removed) + ",\"total_before\":" + std::to_string(total_before) + "}";
  return json;
}

}  // namespace

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name) {
    // Printable ASCII without the space (0x21-0x7E), minus the characters that
    // need quoting where names travel: ',' separates owners in one HTTP query
    // parameter (/v1/values?owners=a,b); quotes delimit names in JSON, CSV,
    // shells and tally's own messages ("invalid owner '...'"); '<' '>' are
    // HTML. Never 0x00, which ends a name inside storage keys (FORMAT.md).
    const bool printable = c > ' ' && c <= '~';
    if (!printable || c == ',' || c == '"' || c == '\'' || c == '`' || c == '<' || c == '>') return false;
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

CountersModule::CountersModule(ShardSet& shards, storage::Store& store, const Clock& clock, OwnersModule& owners,
                               FeedsModule& feeds, const CounterOptions& options)
    : shard_set_(shards), store_(store), clock_(clock), owners_(owners), feeds_(feeds), options_(options) {}

std::vector<lf::Op> CountersModule::log_ops() const {
  return {lf::Op::kCounterIncr, lf::Op::kCounterSetCells, lf::Op::kCounterDelete};
}

// ---------------------------------------------------------------------------
// Interning and loading (the shard's lock held)

uint32_t CountersModule::InternKey(const ShardRef& ref, std::string_view key) {
  Shard& shard = state(ref);
  auto it = shard.key_ids.find(key);
  if (it != shard.key_ids.end()) return it->second;
  uint32_t id = static_cast<uint32_t>(shard.key_names.size());
  shard.key_ids.emplace(std::string(key), id);
  shard.key_names.emplace_back(key);
  return id;
}

CountersModule::Counter* CountersModule::CounterFor(const ShardRef& ref, std::string_view owner, std::string_view key,
                                                    uint64_t* counter_id, ReadFault& fault) {
  const std::optional<uint32_t> owner_id = owners_.Intern(ref, owner, fault);
  if (!owner_id) return nullptr;
  uint32_t key_id = InternKey(ref, key);
  *counter_id = CounterId(*owner_id, key_id);
  return LoadCounter(ref, *owner_id, key_id, fault);
}

CountersModule::Counter* CountersModule::LoadCounter(const ShardRef& ref, uint32_t owner_id, uint32_t key_id,
                                                     ReadFault& fault) {
  Shard& shard = state(ref);
  uint64_t id = CounterId(owner_id, key_id);
  auto it = shard.counters.find(id);
  if (it != shard.counters.end()) return &shard.slab[it->second];
  // First touch since start: the total and the current cells come from the
  // cells family (one read each; only once per counter).
  Counter counter;
  const std::string& owner = owners_.Name(ref, owner_id);
  const std::string& key = shard.key_names[key_id];
  // An owner that compaction never wrote has no stored cells: skip the reads
  // (the common case for a brand-new owner).
  const bool stored = owners_.MayHaveStoredState(ref, owner_id);
  auto read = [&](Interval interval, int64_t period) -> int64_t {
    if (!stored) return 0;
    return ReadStoredCell(owner, key, static_cast<uint8_t>(interval), period, fault);
  };
  counter.total = read(Interval::kTotal, 0);
  int64_t periods[6];
  PeriodsOf(clock_.NowMs(), owners_.ZoneOf(ref, owner_id), periods);
  for (int i = 0; i < 6; ++i) {
    counter.period[i] = static_cast<int32_t>(periods[i]);
    counter.value[i] = read(RollupInterval(i), periods[i]);
  }
  // A counter loaded with a cell it could not read would start from 0.
  if (fault) return nullptr;
  shard.counters.emplace(id, static_cast<uint32_t>(shard.slab.size()));
  return &shard.slab.emplace_back(counter);
}

int64_t CountersModule::StoredCell(const ShardRef& ref, uint64_t counter_id, const Counter& counter, uint8_t interval,
                                   int64_t period, ReadFault& fault) {
  Shard& shard = state(ref);
  CellRef cell{counter_id, interval, period};
  if (auto it = shard.cold.find(cell); it != shard.cold.end()) return it->second;
  if (counter.deleted_mask & (1u << interval)) return 0;
  if (auto it = shard.inflight.find(cell); it != shard.inflight.end()) return it->second;
  if (auto it = shard.inflight_deleted.find(counter_id);
      it != shard.inflight_deleted.end() && (it->second & (1u << interval))) {
    return 0;
  }
  return ReadStoredCell(OwnerName(ref, counter_id), KeyName(ref, counter_id), interval, period, fault);
}

int64_t CountersModule::CellValueLocked(const ShardRef& ref, uint64_t counter_id, const Counter& counter,
                                        Interval interval, PeriodId period, ReadFault& fault) {
  if (interval == Interval::kTotal) return counter.total;
  int i = RollupIndex(interval);
  if (counter.period[i] == period) return counter.value[i];
  return StoredCell(ref, counter_id, counter, static_cast<uint8_t>(interval), period, fault);
}

void CountersModule::MarkDirty(const ShardRef& ref, uint64_t counter_id, Counter& counter) {
  if (counter.dirty) return;
  counter.dirty = true;
  Shard& shard = state(ref);
  shard.dirty.push_back(counter_id);
  // Once per owner per generation (not per increment): the owner's stored
  // cells are no longer what listing may go by.
  const uint32_t owner = OwnerOf(counter_id);
  if (owner >= shard.owner_generation.size()) shard.owner_generation.resize(owner + 1);
  if (shard.owner_generation[owner] != shard.generation) {
    shard.owner_generation[owner] = shard.generation;
    shard.changed_owners.push_back(owner);
  }
}

std::optional<uint64_t> CountersModule::SeenEvent(const ShardRef& ref, const std::string& dedupe_key, int64_t now,
                                                  ReadFault& fault) {
  Shard& shard = state(ref);
  auto live = [&](const SeenId& seen) { return seen.expiry_ms > now ? std::optional(seen.fingerprint) : std::nullopt; };
  if (auto it = shard.seen_ids.find(dedupe_key); it != shard.seen_ids.end()) return live(it->second);
  if (auto it = shard.inflight_ids.find(dedupe_key); it != shard.inflight_ids.end()) return live(it->second);
  // A failed read is noted and answers nullopt: the caller checks `fault`
  // first (taking it for "not seen" would count a retried event twice).
  std::optional<std::string> stored = GetOrNote(store_, Family::kDedupe, dedupe_key, fault);
  SeenId seen{0, 0};
  if (!stored || !lf::DecodeDedupeValue(*stored, &seen.expiry_ms, &seen.fingerprint)) return std::nullopt;
  return live(seen);
}

// ---------------------------------------------------------------------------
// Applying changes (live and at replay; the shard's lock held)

OpStatus CountersModule::ComputeIncrement(const ShardRef& ref, uint64_t counter_id, const Counter& counter,
                                          int64_t delta, const int64_t (&periods)[6], int64_t* next_total,
                                          int64_t (&next)[6], ReadFault& fault) {
  if (__builtin_add_overflow(counter.total, delta, next_total)) return OpStatus::kOverflow;
  for (int i = 0; i < 6; ++i) {
    int64_t base =
        counter.period[i] == periods[i]
            ? counter.value[i]
            : StoredCell(ref, counter_id, counter, static_cast<uint8_t>(RollupInterval(i)), periods[i], fault);
    if (fault) return OpStatus::kReadFailed;  // never add to a cell that could not be read
    if (__builtin_add_overflow(base, delta, &next[i])) return OpStatus::kOverflow;
  }
  return OpStatus::kOk;
}

OpStatus CountersModule::ApplyIncrement(const ShardRef& ref, uint64_t counter_id, Counter& counter, int64_t delta,
                                        const int64_t (&periods)[6], ReadFault& fault) {
  // Check every cell first: an overflow anywhere changes nothing.
  int64_t next_total = 0;
  int64_t next[6];
  const OpStatus status = ComputeIncrement(ref, counter_id, counter, delta, periods, &next_total, next, fault);
  if (status != OpStatus::kOk) return status;
  CommitIncrement(ref, counter_id, counter, periods, next_total, next);
  return OpStatus::kOk;
}

void CountersModule::CommitIncrement(const ShardRef& ref, uint64_t counter_id, Counter& counter,
                                     const int64_t (&periods)[6], int64_t next_total, const int64_t (&next)[6]) {
  Shard& shard = state(ref);
  NoteStoredHot(ref, counter);
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
  MarkDirty(ref, counter_id, counter);
}

void CountersModule::ApplyAssign(const ShardRef& ref, uint64_t counter_id, Counter& counter,
                                 const lf::CellValue& cell) {
  NoteStoredHot(ref, counter);
  Interval interval = static_cast<Interval>(cell.interval);
  if (interval == Interval::kTotal) {
    counter.total = cell.value;
  } else {
    int i = RollupIndex(interval);
    if (counter.period[i] == cell.period) {
      counter.value[i] = cell.value;
    } else {
      state(ref).cold[CellRef{counter_id, cell.interval, cell.period}] = cell.value;
    }
  }
  MarkDirty(ref, counter_id, counter);
}

void CountersModule::ApplyDelete(const ShardRef& ref, uint64_t counter_id, Counter& counter, uint8_t mask) {
  Shard& shard = state(ref);
  NoteStoredHot(ref, counter);
  if (mask & Bit(Interval::kTotal)) counter.total = 0;
  for (int i = 0; i < 6; ++i) {
    if (mask & Bit(RollupInterval(i))) counter.value[i] = 0;
  }
  for (auto it = shard.cold.begin(); it != shard.cold.end();) {
    auto current = it++;
    if (current->first.counter == counter_id && (mask & (1u << current->first.interval))) shard.cold.erase(current);
  }
  counter.deleted_mask |= mask;
  MarkDirty(ref, counter_id, counter);
}

// ---------------------------------------------------------------------------
// Operations

std::optional<OpResult<IncrementResult>> CountersModule::CheckEventId(const ShardRef& ref, std::string_view owner,
                                                                      std::string_view key, std::string_view event_id,
                                                                      uint64_t fingerprint, int64_t now,
                                                                      const Counter& counter, std::string* dedupe_key,
                                                                      ReadFault& fault) {
  if (event_id.empty()) return std::nullopt;
  *dedupe_key = lf::DedupeKey(owner, key, event_id);
  std::optional<uint64_t> seen = SeenEvent(ref, *dedupe_key, now, fault);
  if (fault) return fault.Result<IncrementResult>();
  if (!seen) return std::nullopt;
  if (*seen != 0 && *seen != fingerprint) return OpResult<IncrementResult>::Error(OpStatus::kIdConflict);
  return OpResult<IncrementResult>::Ok({counter.total, true});
}

void CountersModule::NoteEventId(const ShardRef& ref, const std::string& dedupe_key, std::string_view event_id,
                                 uint64_t fingerprint, int64_t now, lf::CounterIncr* entry) {
  if (dedupe_key.empty()) return;
  entry->event_id = event_id;
  entry->event_id_expiry_ms = now + options_.dedupe_window_ms;
  entry->event_fingerprint = fingerprint;
  state(ref).seen_ids[dedupe_key] = {entry->event_id_expiry_ms, fingerprint};
}

OpResult<IncrementResult> CountersModule::Increment(const CounterIncrement& request) {
  return shard_set_.Write(request.owner, [&](const ShardRef& ref) {
    std::string entry;
    OpResult<IncrementResult> result = IncrementLocked(ref, request, clock_.NowMs(), /*id_checked=*/false, &entry);
    if (result.ok() && !result.value.duplicate) ref.Append([&](std::string& blob) { blob.append(entry); });
    return result;
  });
}

std::optional<OpResult<IncrementResult>> CountersModule::CheckEventIdLocked(const ShardRef& ref,
                                                                            const CounterIncrement& request,
                                                                            int64_t now) {
  if (request.event_id.empty()) return std::nullopt;
  uint64_t counter_id = 0;
  ReadFault fault;
  Counter* counter = CounterFor(ref, request.owner, request.key, &counter_id, fault);
  if (counter == nullptr) return fault.Result<IncrementResult>();
  std::string dedupe_key;
  return CheckEventId(ref, request.owner, request.key, request.event_id, EventFingerprint(request), now, *counter,
                      &dedupe_key, fault);
}

OpResult<IncrementResult> CountersModule::IncrementLocked(const ShardRef& ref, const CounterIncrement& request,
                                                          int64_t now, bool id_checked, std::string* entry_out) {
  uint64_t counter_id = 0;
  ReadFault fault;
  Counter* loaded = CounterFor(ref, request.owner, request.key, &counter_id, fault);
  if (loaded == nullptr) return fault.Result<IncrementResult>();
  Counter& counter = *loaded;
  std::string dedupe_key;
  const uint64_t fingerprint = request.event_id.empty() ? 0 : EventFingerprint(request);
  if (id_checked) {
    if (!request.event_id.empty()) dedupe_key = lf::DedupeKey(request.owner, request.key, request.event_id);
  } else if (auto seen = CheckEventId(ref, request.owner, request.key, request.event_id, fingerprint, now, counter,
                                      &dedupe_key, fault)) {
    return *seen;
  }
  lf::CounterIncr entry;
  PeriodsOf(request.event_ms, owners_.ZoneOf(ref, OwnerOf(counter_id)), entry.periods);
  OpStatus status = ApplyIncrement(ref, counter_id, counter, request.delta, entry.periods, fault);
  if (fault) return fault.Result<IncrementResult>();
  if (status != OpStatus::kOk) return OpResult<IncrementResult>::Error(status);
  entry.owner = request.owner;
  entry.key = request.key;
  entry.delta = request.delta;
  entry.event_ms = request.event_ms;
  NoteEventId(ref, dedupe_key, request.event_id, fingerprint, now, &entry);
  lf::AppendCounterIncr(*entry_out, entry);
  return OpResult<IncrementResult>::Ok({counter.total, false});
}

OpResult<bool> CountersModule::CheckIncrementLocked(const ShardRef& ref, const CounterIncrement& request) {
  uint64_t counter_id = 0;
  ReadFault fault;
  Counter* counter = CounterFor(ref, request.owner, request.key, &counter_id, fault);
  if (counter == nullptr) return fault.Result<bool>();
  int64_t periods[6];
  PeriodsOf(request.event_ms, owners_.ZoneOf(ref, OwnerOf(counter_id)), periods);
  int64_t next_total = 0;
  int64_t next[6];
  const OpStatus status = ComputeIncrement(ref, counter_id, *counter, request.delta, periods, &next_total, next, fault);
  if (fault) return fault.Result<bool>();
  if (status != OpStatus::kOk) return OpResult<bool>::Error(status);
  return OpResult<bool>::Ok(true);
}

OpResult<bool> CountersModule::IncrementAllLocked(const ShardRef& ref, std::span<const CounterIncrement> increments,
                                                  std::string* entries) {
  if (increments.empty()) return OpResult<bool>::Ok(true);
  ReadFault fault;
  const std::optional<uint32_t> owner_id = owners_.Intern(ref, increments[0].owner, fault);
  if (!owner_id) return fault.Result<bool>();
  lf::CounterIncr entry;
  PeriodsOf(increments[0].event_ms, owners_.ZoneOf(ref, *owner_id), entry.periods);
  // Every new value is computed (stored cells read) first; then, all
  // fitting, committed as computed: nothing is read twice. Counters live in
  // a deque, so the addresses stay valid while more load.
  struct Computed {
    uint64_t id;
    Counter* counter;
    int64_t next_total;
    int64_t next[6];
  };
  std::vector<Computed> computed(increments.size());
  for (size_t i = 0; i < increments.size(); ++i) {
    Computed& c = computed[i];
    c.id = CounterId(*owner_id, InternKey(ref, increments[i].key));
    c.counter = LoadCounter(ref, *owner_id, KeyOf(c.id), fault);
    if (c.counter == nullptr) return fault.Result<bool>();
    const OpStatus status =
        ComputeIncrement(ref, c.id, *c.counter, increments[i].delta, entry.periods, &c.next_total, c.next, fault);
    if (fault) return fault.Result<bool>();
    if (status != OpStatus::kOk) return OpResult<bool>::Error(status);
  }
  for (size_t i = 0; i < increments.size(); ++i) {
    Computed& c = computed[i];
    CommitIncrement(ref, c.id, *c.counter, entry.periods, c.next_total, c.next);
    entry.owner = increments[i].owner;
    entry.key = increments[i].key;
    entry.delta = increments[i].delta;
    entry.event_ms = increments[i].event_ms;
    lf::AppendCounterIncr(*entries, entry);
  }
  return OpResult<bool>::Ok(true);
}

OpResult<std::optional<uint64_t>> CountersModule::SeenRequestIdLocked(const ShardRef& ref, std::string_view owner,
                                                                      std::string_view scope, std::string_view id,
                                                                      int64_t now) {
  ReadFault fault;
  std::optional<uint64_t> seen = SeenEvent(ref, lf::DedupeKey(owner, scope, id), now, fault);
  if (fault) return fault.Result<std::optional<uint64_t>>();
  return OpResult<std::optional<uint64_t>>::Ok(seen);
}

int64_t CountersModule::NoteRequestIdLocked(const ShardRef& ref, std::string_view owner, std::string_view scope,
                                            std::string_view id, uint64_t fingerprint, int64_t now) {
  const int64_t expiry_ms = now + options_.dedupe_window_ms;
  RestoreRequestIdLocked(ref, owner, scope, id, expiry_ms, fingerprint);
  return expiry_ms;
}

void CountersModule::RestoreRequestIdLocked(const ShardRef& ref, std::string_view owner, std::string_view scope,
                                            std::string_view id, int64_t expiry_ms, uint64_t fingerprint) {
  state(ref).seen_ids[lf::DedupeKey(owner, scope, id)] = {expiry_ms, fingerprint};
}

OpResult<IncrementResult> CountersModule::Adjust(const CounterAdjustment& request, const AuditInfo& audit) {
  return shard_set_.Write(request.owner, [&](const ShardRef& ref) {
    const int64_t now = clock_.NowMs();
    uint64_t counter_id = 0;
    ReadFault fault;
    Counter* loaded = CounterFor(ref, request.owner, request.key, &counter_id, fault);
    if (loaded == nullptr) return fault.Result<IncrementResult>();
    Counter& counter = *loaded;
    std::string dedupe_key;
    const uint64_t fingerprint = request.event_id.empty() ? 0 : AdjustFingerprint(request);
    if (auto seen = CheckEventId(ref, request.owner, request.key, request.event_id, fingerprint, now, counter,
                                 &dedupe_key, fault)) {
      return *seen;
    }
    const TimeZone& zone = owners_.ZoneOf(ref, OwnerOf(counter_id));
    lf::CounterIncr entry;
    PeriodsOf(request.event_ms, zone, entry.periods);
    int64_t before[kIntervalCount];
    before[0] = counter.total;
    for (int i = 0; i < 6; ++i)
      before[i + 1] = CellValueLocked(ref, counter_id, counter, RollupInterval(i), entry.periods[i], fault);
    if (fault) return fault.Result<IncrementResult>();
    const OpStatus status = ApplyIncrement(ref, counter_id, counter, request.delta, entry.periods, fault);
    if (fault) return fault.Result<IncrementResult>();
    if (status != OpStatus::kOk) return OpResult<IncrementResult>::Error(status);
    entry.owner = request.owner;
    entry.key = request.key;
    entry.delta = request.delta;
    entry.event_ms = request.event_ms;
    // The id rides in the inner increment, so replay records it as it does an increment's.
    NoteEventId(ref, dedupe_key, request.event_id, fingerprint, now, &entry);
    std::string inner;
    lf::AppendCounterIncr(inner, entry);
    feeds_.LogAudited(ref, audit, request.owner, request.key,
                      AuditAdjustJson(request.delta, entry.periods, before, zone), inner);
    return OpResult<IncrementResult>::Ok({counter.total, false});
  });
}

OpResult<bool> CountersModule::AssignCells(std::string_view owner, std::string_view key,
                                           const std::vector<CellAssignment>& cells, const AuditInfo* audit) {
  return shard_set_.Write(owner, [&](const ShardRef& ref) {
    uint64_t counter_id = 0;
    ReadFault fault;
    Counter* loaded = CounterFor(ref, owner, key, &counter_id, fault);
    if (loaded == nullptr) return fault.Result<bool>();
    Counter& counter = *loaded;
    std::vector<int64_t> before;
    if (audit != nullptr) {
      // Every "before" is read ahead of any change, so a cell that cannot be
      // read changes nothing. Cells apply in order: a period named twice
      // shows its first value as the "before" of the second.
      std::map<std::pair<Interval, PeriodId>, int64_t> assigned;
      for (const CellAssignment& cell : cells) {
        auto it = assigned.find({cell.interval, cell.period});
        before.push_back(it != assigned.end()
                             ? it->second
                             : CellValueLocked(ref, counter_id, counter, cell.interval, cell.period, fault));
        if (fault) return fault.Result<bool>();
        assigned[{cell.interval, cell.period}] = cell.value;
      }
    }
    std::vector<lf::CellValue> encoded;
    encoded.reserve(cells.size());
    for (const CellAssignment& cell : cells) {
      encoded.push_back({static_cast<uint8_t>(cell.interval), cell.period, cell.value});
      ApplyAssign(ref, counter_id, counter, encoded.back());
    }
    if (audit == nullptr) {
      // One entry for all cells: a recount is never half applied after a crash.
      ref.Append(
          [&](std::string& blob) { lf::AppendCounterSetCells(blob, owner, key, encoded.data(), encoded.size()); });
      return OpResult<bool>::Ok(true);
    }
    // The audit record rides in the same entry: durable together or not at all.
    std::string inner;
    lf::AppendCounterSetCells(inner, owner, key, encoded.data(), encoded.size());
    feeds_.LogAudited(ref, *audit, owner, key, AuditCellsJson(cells, before, owners_.ZoneOf(ref, OwnerOf(counter_id))),
                      inner);
    return OpResult<bool>::Ok(true);
  });
}

OpResult<int64_t> CountersModule::DeleteCells(std::string_view owner, std::string_view key,
                                              std::optional<Interval> interval, const AuditInfo* audit) {
  return shard_set_.Write(owner, [&](const ShardRef& ref) {
    const uint8_t mask = interval ? Bit(*interval) : kAllIntervals;
    uint64_t counter_id = 0;
    ReadFault fault;
    Counter* found = FindCounter(ref, owner, key, &counter_id);
    const int64_t existing = LiveCells(ref, owner, key, found, counter_id, mask, fault);
    if (fault) return fault.Result<int64_t>();
    // Nothing to delete: log nothing, create nothing (a delete of an unknown
    // counter must not make its owner appear).
    if (existing == 0) return OpResult<int64_t>::Ok(0);
    if (found == nullptr) found = CounterFor(ref, owner, key, &counter_id, fault);
    if (found == nullptr) return fault.Result<int64_t>();
    Counter& counter = *found;
    const int64_t total_before = counter.total;
    ApplyDelete(ref, counter_id, counter, mask);
    if (audit == nullptr) {
      ref.Append([&](std::string& blob) { lf::AppendCounterDelete(blob, owner, key, mask); });
      return OpResult<int64_t>::Ok(existing);
    }
    std::string inner;
    lf::AppendCounterDelete(inner, owner, key, mask);
    feeds_.LogAudited(ref, *audit, owner, key, AuditDeleteJson(interval, existing, total_before), inner);
    return OpResult<int64_t>::Ok(existing);
  });
}

// ---------------------------------------------------------------------------
// Recovery

Status CountersModule::Replay(const lf::Entry& entry, const ReplayContext&) {
  switch (entry.op) {
    case lf::Op::kCounterIncr: {
      lf::CounterIncr incr;
      if (!lf::DecodeCounterIncr(entry.payload, &incr)) return Status::Corruption("malformed counter increment");
      const ShardRef ref = shard_set_.Exclusive(ShardSet::ShardOf(incr.owner));
      uint64_t counter_id = 0;
      ReadFault fault;
      Counter* counter = CounterFor(ref, incr.owner, incr.key, &counter_id, fault);
      if (counter != nullptr) ApplyIncrement(ref, counter_id, *counter, incr.delta, incr.periods, fault);
      if (fault) return fault.ToStatus();  // replaying on top of an unreadable cell would lose it
      if (!incr.event_id.empty()) {
        state(ref).seen_ids[lf::DedupeKey(incr.owner, incr.key, incr.event_id)] = {incr.event_id_expiry_ms,
                                                                                   incr.event_fingerprint};
      }
      return Status::Ok();
    }
    case lf::Op::kCounterSetCells: {
      std::string_view owner, key, cells;
      uint64_t count = 0;
      if (!lf::DecodeCounterSetCells(entry.payload, &owner, &key, &cells, &count)) {
        return Status::Corruption("malformed counter set");
      }
      const ShardRef ref = shard_set_.Exclusive(ShardSet::ShardOf(owner));
      uint64_t counter_id = 0;
      ReadFault fault;
      Counter* loaded = CounterFor(ref, owner, key, &counter_id, fault);
      if (loaded == nullptr) return fault.ToStatus();
      Counter& counter = *loaded;
      lf::CellValue cell;
      for (uint64_t i = 0; i < count; ++i) {
        if (!lf::NextCellValue(&cells, &cell) || cell.interval >= kIntervalCount) {
          return Status::Corruption("malformed counter set cell");
        }
        ApplyAssign(ref, counter_id, counter, cell);
      }
      return Status::Ok();
    }
    case lf::Op::kCounterDelete: {
      std::string_view owner, key;
      uint8_t mask = 0;
      if (!lf::DecodeCounterDelete(entry.payload, &owner, &key, &mask)) {
        return Status::Corruption("malformed counter delete");
      }
      const ShardRef ref = shard_set_.Exclusive(ShardSet::ShardOf(owner));
      uint64_t counter_id = 0;
      ReadFault fault;
      Counter* counter = CounterFor(ref, owner, key, &counter_id, fault);
      if (counter == nullptr) return fault.ToStatus();
      ApplyDelete(ref, counter_id, *counter, mask);
      return Status::Ok();
    }
    default:
      return Status::Corruption("unknown counter log entry type " + std::to_string(static_cast<int>(entry.op)));
  }
}

}  // namespace tally::core
