// Distinct counts per owner: loading, adds (live and at replay), reads and
// compaction. See uniques.h for the memory model.

#include "core/uniques.h"

#include <map>
#include <optional>
#include <string>
#include <utility>

namespace tally::core {

namespace lf = storage::log_format;
using storage::Family;
using storage::Status;

UniquesModule::UniquesModule(ShardSet& shards, storage::Store& store, const Clock& clock, OwnersModule& owners)
    : shard_set_(shards), store_(store), clock_(clock), owners_(owners) {}

std::vector<lf::Op> UniquesModule::log_ops() const { return {lf::Op::kUniqAdd}; }

// ---------------------------------------------------------------------------
// Interning and loading (the shard's lock held)

uint32_t UniquesModule::InternKey(const ShardRef& ref, std::string_view key) {
  Shard& shard = state(ref);
  auto it = shard.key_ids.find(key);
  if (it != shard.key_ids.end()) return it->second;
  const uint32_t id = static_cast<uint32_t>(shard.key_names.size());
  shard.key_ids.emplace(std::string(key), id);
  shard.key_names.emplace_back(key);
  return id;
}

DistinctSketch UniquesModule::ReadStoredCell(std::string_view owner, std::string_view key, uint8_t interval,
                                             int64_t period, ReadFault& fault) {
  const std::string cell_key = lf::CellKey(owner, key, interval, period);
  std::optional<std::string> stored = GetOrNote(store_, Family::kUniq, cell_key, fault);
  if (!stored) return {};
  std::optional<DistinctSketch> sketch = DistinctSketch::Decode(*stored);
  // Bytes this version did not write are a damaged cell, never an empty one.
  if (!sketch) fault.Check(Family::kUniq, cell_key, Status::Corruption("not a distinct-count sketch"));
  return sketch ? std::move(*sketch) : DistinctSketch();
}

DistinctSketch UniquesModule::StoredCell(const ShardRef& ref, uint64_t entry_id, uint8_t interval, int64_t period,
                                         ReadFault& fault) {
  Shard& shard = state(ref);
  const CellRef cell{entry_id, interval, period};
  if (auto it = shard.cold.find(cell); it != shard.cold.end()) return it->second;
  if (auto it = shard.inflight.find(cell); it != shard.inflight.end()) return it->second;
  // An owner that no compaction has written has nothing stored: no read.
  if (!owners_.MayHaveStoredState(ref, OwnerOf(entry_id))) return {};
  return ReadStoredCell(owners_.Name(ref, OwnerOf(entry_id)), shard.key_names[KeyOf(entry_id)], interval, period,
                        fault);
}

UniquesModule::Entry* UniquesModule::EntryFor(const ShardRef& ref, std::string_view owner, std::string_view key,
                                              uint64_t* entry_id, ReadFault& fault) {
  const std::optional<uint32_t> owner_id = owners_.Intern(ref, owner, fault);
  if (!owner_id) return nullptr;
  *entry_id = EntryId(*owner_id, InternKey(ref, key));
  Shard& shard = state(ref);
  if (auto it = shard.entries.find(*entry_id); it != shard.entries.end()) {
    it->second->used = true;
    return it->second.get();
  }
  // First touch since start (or since it was dropped): the total and the
  // current cells, one read each.
  auto entry = std::make_unique<Entry>();
  int64_t periods[6];
  PeriodsOf(clock_.NowMs(), owners_.ZoneOf(ref, *owner_id), periods);
  entry->total = StoredCell(ref, *entry_id, 0, 0, fault);
  for (int i = 0; i < 6; ++i) {
    entry->period[i] = periods[i];
    entry->hot[i] = StoredCell(ref, *entry_id, RollupInterval(i), periods[i], fault);
  }
  // An entry loaded with a cell it could not read would count from empty.
  if (fault) return nullptr;
  Entry* raw = shard.entries.emplace(*entry_id, std::move(entry)).first->second.get();
  // A hot cell is the only copy in memory of its cell: one that was waiting
  // in `cold` moves into the entry (and is written with it).
  bool moved = false;
  for (int i = -1; i < 6; ++i) {
    const CellRef cell = i < 0 ? CellRef{*entry_id, 0, 0} : CellRef{*entry_id, RollupInterval(i), periods[i]};
    moved |= shard.cold.erase(cell) > 0;
  }
  if (moved) MarkDirty(ref, *entry_id, *raw);
  return raw;
}

void UniquesModule::MarkDirty(const ShardRef& ref, uint64_t entry_id, Entry& entry) {
  if (entry.dirty) return;
  entry.dirty = true;
  state(ref).dirty.push_back(entry_id);
}

// ---------------------------------------------------------------------------
// Applying an add (live and at replay; the shard's lock held)

bool UniquesModule::ApplyAdd(const ShardRef& ref, uint64_t entry_id, Entry& entry, const int64_t (&periods)[6],
                             std::span<const uint64_t> hashes, std::vector<uint64_t>* changed, ReadFault& fault) {
  Shard& shard = state(ref);
  // The sketch each rollup cell's adds go to: the hot one, a waiting cold
  // one, or a copy of the stored cell. Every read comes first, so a failed
  // one changes nothing.
  DistinctSketch* target[6];
  DistinctSketch fetched[6];
  bool in_cold[6] = {};
  for (int i = 0; i < 6; ++i) {
    if (entry.period[i] == periods[i]) {
      target[i] = &entry.hot[i];
      continue;
    }
    if (auto it = shard.cold.find(CellRef{entry_id, RollupInterval(i), periods[i]}); it != shard.cold.end()) {
      target[i] = &it->second;  // valid until the next insertion into `cold` (below, after the adds)
      in_cold[i] = true;
      continue;
    }
    fetched[i] = StoredCell(ref, entry_id, RollupInterval(i), periods[i], fault);
    target[i] = &fetched[i];
  }
  if (fault) return false;

  bool any = false;
  bool cell_changed[6] = {};
  for (uint64_t hash : hashes) {
    bool hash_changed = entry.total.AddHash(hash);
    for (int i = 0; i < 6; ++i) {
      if (target[i]->AddHash(hash)) {
        cell_changed[i] = true;
        hash_changed = true;
      }
    }
    if (!hash_changed) continue;
    any = true;
    if (changed != nullptr) changed->push_back(hash);
  }
  if (!any) return false;  // the copies are dropped; nothing moves

  for (int i = 0; i < 6; ++i) {
    if (entry.period[i] == periods[i]) continue;
    const uint8_t interval = RollupInterval(i);
    if (periods[i] > entry.period[i]) {
      // Roll over: the event's period becomes the hot one; the old hot cell
      // is complete and waits in `cold` for compaction.
      DistinctSketch next;
      if (in_cold[i]) {
        auto it = shard.cold.find(CellRef{entry_id, interval, periods[i]});
        next = std::move(it->second);
        shard.cold.erase(it);
      } else {
        next = std::move(fetched[i]);
      }
      DistinctSketch old = std::move(entry.hot[i]);
      const CellRef old_cell{entry_id, interval, entry.period[i]};
      entry.hot[i] = std::move(next);
      entry.period[i] = periods[i];
      if (!old.empty()) shard.cold.insert_or_assign(old_cell, std::move(old));
    } else if (!in_cold[i] && cell_changed[i]) {
      shard.cold.insert_or_assign(CellRef{entry_id, interval, periods[i]}, std::move(fetched[i]));  // a late event
    }
  }
  MarkDirty(ref, entry_id, entry);
  return true;
}

// ---------------------------------------------------------------------------
// Operations

OpResult<bool> UniquesModule::Add(std::string_view owner, std::string_view key,
                                  std::span<const std::string_view> members, int64_t event_ms) {
  // Hashed once, before the lock.
  std::vector<uint64_t> hashes;
  hashes.reserve(members.size());
  for (std::string_view member : members) hashes.push_back(DistinctSketch::HashMember(member));
  return shard_set_.Write(owner, [&](const ShardRef& ref) {
    uint64_t entry_id = 0;
    ReadFault fault;
    Entry* entry = EntryFor(ref, owner, key, &entry_id, fault);
    if (entry == nullptr) return fault.Result<bool>();
    lf::UniqAdd add;
    add.owner = owner;
    add.key = key;
    add.event_ms = event_ms;
    PeriodsOf(event_ms, owners_.ZoneOf(ref, OwnerOf(entry_id)), add.periods);
    // Only the hashes that changed a cell are logged: replay starts from the
    // same cells, where the others would change nothing either.
    const bool changed = ApplyAdd(ref, entry_id, *entry, add.periods, hashes, &add.hashes, fault);
    if (fault) return fault.Result<bool>();
    if (changed) ref.Append([&](std::string& blob) { lf::AppendUniqAdd(blob, add); });
    return OpResult<bool>::Ok(changed);
  });
}

OpResult<DistinctSketch> UniquesModule::Union(std::string_view owner, std::string_view key, Interval interval,
                                              PeriodId from, PeriodId to) {
  if (interval == Interval::kTotal) from = to = 0;
  const uint8_t interval_byte = static_cast<uint8_t>(interval);
  return shard_set_.Read(owner, [&](const ShardRef& ref) {
    Shard& shard = state(ref);
    ReadFault fault;
    // The cells memory holds a newer value of than RocksDB, by period:
    // in-flight, then cold, then hot (each newer than the one before).
    std::map<int64_t, const DistinctSketch*> in_memory;
    const std::optional<uint32_t> owner_id = owners_.Find(ref, owner);
    bool may_be_stored = true;
    if (owner_id) {
      may_be_stored = owners_.MayHaveStoredState(ref, *owner_id);
      if (auto key_it = shard.key_ids.find(key); key_it != shard.key_ids.end()) {
        const uint64_t entry_id = EntryId(*owner_id, key_it->second);
        for (const auto* cells : {&shard.inflight, &shard.cold}) {
          for (const auto& [cell, sketch] : *cells) {
            if (cell.entry == entry_id && cell.interval == interval_byte && cell.period >= from && cell.period <= to) {
              in_memory[cell.period] = &sketch;
            }
          }
        }
        if (auto it = shard.entries.find(entry_id); it != shard.entries.end()) {
          const Entry& entry = *it->second;
          if (interval == Interval::kTotal) {
            in_memory[0] = &entry.total;
          } else {
            const int i = interval_byte - 1;
            if (entry.period[i] >= from && entry.period[i] <= to) in_memory[entry.period[i]] = &entry.hot[i];
          }
        }
      }
    }
    DistinctSketch result;
    if (may_be_stored) {
      const std::string begin = lf::CellKey(owner, key, interval_byte, from);
      std::string end = lf::CellKey(owner, key, interval_byte, to);
      end.push_back('\0');  // just past the cell of `to`
      Status s = store_.Scan(Family::kUniq, begin, end, [&](std::string_view cell_key, std::string_view bytes) {
        lf::ParsedCellKey parsed;
        if (!lf::ParseCellKey(cell_key, &parsed) || in_memory.count(parsed.period) > 0) return true;
        std::optional<DistinctSketch> sketch = DistinctSketch::Decode(bytes);
        if (!sketch) {
          fault.Check(Family::kUniq, cell_key, Status::Corruption("not a distinct-count sketch"));
          return false;
        }
        result.Merge(*sketch);
        return true;
      });
      fault.Check(Family::kUniq, begin, s);
    }
    if (fault) return fault.Result<DistinctSketch>();
    for (const auto& [period, sketch] : in_memory) result.Merge(*sketch);
    return OpResult<DistinctSketch>::Ok(std::move(result));
  });
}

OpResult<uint64_t> UniquesModule::Count(std::string_view owner, std::string_view key, Interval interval, PeriodId from,
                                        PeriodId to) {
  OpResult<DistinctSketch> sketch = Union(owner, key, interval, from, to);
  if (!sketch.ok()) return OpResult<uint64_t>{sketch.status, 0, sketch.failed_family};
  return OpResult<uint64_t>::Ok(sketch.value.Count());
}

// ---------------------------------------------------------------------------
// Recovery

Status UniquesModule::Replay(const lf::Entry& entry, const ReplayContext&) {
  if (entry.op != lf::Op::kUniqAdd) {
    return Status::Corruption("unknown distinct-count log entry type " + std::to_string(static_cast<int>(entry.op)));
  }
  lf::UniqAdd add;
  if (!lf::DecodeUniqAdd(entry.payload, &add)) return Status::Corruption("malformed distinct-count add");
  const ShardRef ref = shard_set_.Exclusive(ShardSet::ShardOf(add.owner));
  uint64_t entry_id = 0;
  ReadFault fault;
  Entry* loaded = EntryFor(ref, add.owner, add.key, &entry_id, fault);
  if (loaded != nullptr) ApplyAdd(ref, entry_id, *loaded, add.periods, add.hashes, nullptr, fault);
  if (fault) return fault.ToStatus();  // replaying on top of an unreadable cell would lose it
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Compaction

void UniquesModule::Snapshot(const ShardRef& ref) {
  Shard& shard = state(ref);
  shard.snapshot_cells.clear();
  shard.snapshot_entries.clear();
  // Memory stays bounded by recent use: an entry no add touched since the
  // last snapshot, and whose cells are all written (not dirty: the last
  // compaction finished), is dropped; its next add loads it again.
  for (auto it = shard.entries.begin(); it != shard.entries.end();) {
    Entry& entry = *it->second;
    if (!entry.used && !entry.dirty) {
      shard.entries.erase(it++);
      continue;
    }
    entry.used = false;
    ++it;
  }
  // Cold cells first: in a WriteBatch the later write wins, and a hot cell is
  // never older than a cold one.
  shard.inflight.swap(shard.cold);  // the in-flight map is empty between compactions
  for (const auto& [cell, sketch] : shard.inflight) {
    owners_.NoteCompacted(ref, OwnerOf(cell.entry));
    shard.snapshot_cells.push_back({lf::CellKey(owners_.Name(ref, OwnerOf(cell.entry)),
                                                shard.key_names[KeyOf(cell.entry)], cell.interval, cell.period),
                                    {},
                                    &sketch});
  }
  // Hot cells change with every add: encoded now, under the lock (a dense
  // sketch is a 12 KiB copy).
  for (uint64_t entry_id : shard.dirty) {
    auto it = shard.entries.find(entry_id);
    if (it == shard.entries.end()) continue;
    Entry& entry = *it->second;
    entry.dirty = false;
    owners_.NoteCompacted(ref, OwnerOf(entry_id));
    shard.snapshot_entries.push_back(entry_id);
    const std::string& owner = owners_.Name(ref, OwnerOf(entry_id));
    const std::string& key = shard.key_names[KeyOf(entry_id)];
    // An empty cell has no row (no add reached it).
    if (!entry.total.empty()) shard.snapshot_cells.push_back({lf::CellKey(owner, key, 0, 0), entry.total.Encode()});
    for (int i = 0; i < 6; ++i) {
      if (entry.hot[i].empty()) continue;
      shard.snapshot_cells.push_back(
          {lf::CellKey(owner, key, RollupInterval(i), entry.period[i]), entry.hot[i].Encode()});
    }
  }
  shard.dirty.clear();
}

Status UniquesModule::WriteSnapshot(CompactionBatch& out) {
  // Only this thread touches the snapshot now; `inflight` changes only under
  // the lock in Snapshot and FinishSnapshot (of this thread), so its
  // sketches are read here without it.
  Shard& shard = shards_[out.shard];
  std::string bytes;
  for (const PendingCell& cell : shard.snapshot_cells) {
    if (cell.sketch != nullptr) {
      bytes.clear();
      cell.sketch->EncodeTo(bytes);
      out.batch.Put(Family::kUniq, cell.key, bytes);
    } else {
      out.batch.Put(Family::kUniq, cell.key, cell.bytes);
    }
  }
  out.written += shard.snapshot_cells.size();
  return Status::Ok();
}

void UniquesModule::FinishSnapshot(const ShardRef& ref, bool ok) {
  Shard& shard = state(ref);
  if (!ok) {
    // Nothing was written: give everything back to the next compaction.
    for (uint64_t entry_id : shard.snapshot_entries) {
      auto it = shard.entries.find(entry_id);
      if (it != shard.entries.end()) MarkDirty(ref, entry_id, *it->second);
    }
    for (auto& [cell, sketch] : shard.inflight) {
      // A cell that is hot again (its entry was dropped and loaded since)
      // holds this one already: the entry was loaded from it.
      auto it = shard.entries.find(cell.entry);
      if (it != shard.entries.end()) {
        Entry& entry = *it->second;
        const bool hot = cell.interval == 0 || entry.period[cell.interval - 1] == cell.period;
        if (hot) {
          MarkDirty(ref, cell.entry, entry);
          continue;
        }
      }
      shard.cold.try_emplace(cell, std::move(sketch));  // newer cold values win
    }
  }
  shard.inflight.clear();
  shard.snapshot_cells.clear();
  shard.snapshot_entries.clear();
}

// ---------------------------------------------------------------------------
// Statistics

UniqueMemoryStats UniquesModule::MemoryStats() {
  UniqueMemoryStats stats;
  for (size_t i = 0; i < kShardCount; ++i) {
    shard_set_.Locked(i, [&](const ShardRef& ref) {
      Shard& shard = state(ref);
      stats.entries += shard.entries.size();
      stats.dirty_entries += shard.dirty.size();
      stats.cold_cells += shard.cold.size();
      stats.inflight_cells += shard.inflight.size();
      for (const auto& [id, entry] : shard.entries) {
        stats.sketch_bytes += entry->total.MemoryBytes();
        for (const DistinctSketch& hot : entry->hot) stats.sketch_bytes += hot.MemoryBytes();
      }
      for (const auto* cells : {&shard.cold, &shard.inflight}) {
        for (const auto& [cell, sketch] : *cells) stats.sketch_bytes += sketch.MemoryBytes();
      }
    });
  }
  return stats;
}

ModuleStats UniquesModule::Stats() {
  ModuleStats stats{name()};
  for (size_t i = 0; i < kShardCount; ++i) {
    shard_set_.Locked(i, [&](const ShardRef& ref) {
      stats.items += state(ref).entries.size();
      stats.pending += state(ref).dirty.size() + state(ref).cold.size();
    });
  }
  return stats;
}

}  // namespace tally::core
