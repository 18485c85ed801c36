#include "core/owners.h"

#include <set>

#include "storage/log_format.h"

namespace tally::core {

namespace lf = storage::log_format;
using storage::Family;
using storage::Status;

OwnersModule::OwnersModule(ShardSet& shards, storage::Store& store, const TimeZone& default_zone)
    : shard_set_(shards), store_(store), default_zone_(default_zone) {}

std::vector<lf::Op> OwnersModule::log_ops() const { return {lf::Op::kOwnerTimeZone}; }

// ---------------------------------------------------------------------------
// For other modules (the shard's lock held)

std::optional<uint32_t> OwnersModule::Intern(const ShardRef& ref, std::string_view owner, ReadFault& fault) {
  Shard& shard = state(ref);
  auto it = shard.ids.find(owner);
  if (it != shard.ids.end()) return it->second;
  Owner state;
  state.name.assign(owner);
  // Settings compacted earlier (a time zone) live in the owners family.
  std::optional<std::string> stored = GetOrNote(store_, Family::kOwners, owner, fault);
  if (fault) return std::nullopt;
  if (stored) {
    state.persisted = true;
    state.may_have_stored_state = true;
    if (!stored->empty()) state.zone = TimeZone::Find(*stored);
  }
  const uint32_t id = static_cast<uint32_t>(shard.owners.size());
  shard.ids.emplace(std::string(owner), id);
  shard.owners.push_back(std::move(state));
  if (!shard.owners.back().persisted) shard.dirty.push_back(id);
  return id;
}

std::optional<uint32_t> OwnersModule::Find(const ShardRef& ref, std::string_view owner) const {
  const Shard& shard = state(ref);
  auto it = shard.ids.find(owner);
  if (it == shard.ids.end()) return std::nullopt;
  return it->second;
}

const TimeZone& OwnersModule::ZoneForRead(const ShardRef& ref, std::string_view owner, std::optional<TimeZone>* storage,
                                          ReadFault& fault) {
  if (std::optional<uint32_t> id = Find(ref, owner)) return ZoneOf(ref, *id);
  std::optional<std::string> stored = GetOrNote(store_, Family::kOwners, owner, fault);
  if (stored && !stored->empty()) *storage = TimeZone::Find(*stored);
  return *storage ? **storage : default_zone_;
}

bool OwnersModule::SetZoneLocked(const ShardRef& ref, std::string_view owner, const TimeZone& zone, ReadFault& fault) {
  const std::optional<uint32_t> id = Intern(ref, owner, fault);
  if (!id) return false;
  Shard& shard = state(ref);
  Owner& state = shard.owners[*id];
  state.zone = zone;
  if (state.persisted) {  // the owners family must learn the new zone
    state.persisted = false;
    shard.dirty.push_back(*id);
  }
  return true;
}

// ---------------------------------------------------------------------------
// Operations

OpResult<TimeZone> OwnersModule::TimeZoneOf(std::string_view owner) {
  return shard_set_.Read(owner, [&](const ShardRef& ref) {
    std::optional<TimeZone> storage;
    ReadFault fault;
    const TimeZone zone = ZoneForRead(ref, owner, &storage, fault);
    if (fault) return OpResult<TimeZone>{OpStatus::kReadFailed, zone, fault.family_name()};
    return OpResult<TimeZone>{OpStatus::kOk, zone};
  });
}

OpResult<bool> OwnersModule::SetTimeZone(std::string_view owner, const TimeZone& zone) {
  return shard_set_.Write(owner, [&](const ShardRef& ref) {
    ReadFault fault;
    if (!SetZoneLocked(ref, owner, zone, fault)) return fault.Result<bool>();
    ref.Append([&](std::string& blob) { lf::AppendOwnerTimeZone(blob, owner, zone.name()); });
    return OpResult<bool>::Ok(true);
  });
}

OpResult<OwnersPage> OwnersModule::List(std::string_view prefix, std::string_view cursor, size_t count) {
  // Each source adds at least its first count + 1 owners after the cursor,
  // so the first count + 1 of the union are the first of all: a page, and
  // whether another one follows.
  std::set<std::string> names;
  ReadFault fault;
  for (OwnerListingSource* source : listing_sources_) source->ListOwners(prefix, cursor, count + 1, &names, fault);
  if (fault) return fault.Result<OwnersPage>();
  OwnersPage page;
  for (const std::string& name : names) {
    if (page.owners.size() == count) {
      page.next_cursor = page.owners.back();
      break;
    }
    page.owners.push_back(name);
  }
  return OpResult<OwnersPage>::Ok(std::move(page));
}

ModuleStats OwnersModule::Stats() {
  ModuleStats stats{name()};
  for (size_t i = 0; i < kShardCount; ++i) {
    shard_set_.Locked(i, [&](const ShardRef& ref) {
      stats.items += state(ref).owners.size();
      stats.pending += state(ref).dirty.size();
    });
  }
  return stats;
}

// ---------------------------------------------------------------------------
// Recovery and compaction

Status OwnersModule::Replay(const lf::Entry& entry, const ReplayContext&) {
  std::string_view owner, zone_name;
  if (!lf::DecodeOwnerTimeZone(entry.payload, &owner, &zone_name)) {
    return Status::Corruption("malformed owner time zone");
  }
  auto zone = TimeZone::Find(zone_name);
  if (!zone) return Status::Corruption("unknown time zone in log: " + std::string(zone_name));
  ReadFault fault;
  SetZoneLocked(shard_set_.Exclusive(ShardSet::ShardOf(owner)), owner, *zone, fault);
  return fault.ToStatus();
}

void OwnersModule::Snapshot(const ShardRef& ref) {
  Shard& shard = state(ref);
  shard.snapshot_ids.clear();
  shard.snapshot_rows.clear();
  for (uint32_t id : shard.dirty) {
    Owner& owner = shard.owners[id];
    if (owner.persisted) continue;  // listed twice
    owner.persisted = true;
    shard.snapshot_ids.push_back(id);
    shard.snapshot_rows.emplace_back(owner.name, owner.zone ? owner.zone->name() : std::string());
  }
  shard.dirty.clear();
}

Status OwnersModule::WriteSnapshot(CompactionBatch& batch) {
  const Shard& shard = shards_[batch.shard];
  for (const auto& [owner, zone] : shard.snapshot_rows) batch.batch.Put(Family::kOwners, owner, zone);
  batch.written += shard.snapshot_rows.size();
  return Status::Ok();
}

void OwnersModule::FinishSnapshot(const ShardRef& ref, bool ok) {
  Shard& shard = state(ref);
  if (!ok) {
    for (uint32_t id : shard.snapshot_ids) {
      shard.owners[id].persisted = false;
      shard.dirty.push_back(id);
    }
  }
  ClearScratch(shard.snapshot_ids);
  ClearScratch(shard.snapshot_rows);
}

}  // namespace tally::core
